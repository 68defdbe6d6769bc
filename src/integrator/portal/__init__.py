"""The portal (SPEC §8): Data Integrator's pages, served by ``integrator serve`` on the same
workspace files and history as the command line, and the JSON API the pages use."""

from integrator.portal.app import create_portal
from integrator.portal.context import PortalContext

__all__ = ["PortalContext", "create_portal"]
