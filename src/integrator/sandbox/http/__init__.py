"""The sandbox's HTTP layer: OData for Sales, CDS (Dataverse Web API) and F&O, on Starlette.

- :func:`create_app`: the ASGI app over a store's services.
- :class:`FaultConfig`: fault injection settings (also ``PUT /_sandbox/faults``).
- :mod:`.errors`: the OData error codes the sandbox answers with.
"""

from integrator.sandbox.http.app import SandboxApp, create_app
from integrator.sandbox.http.faults import FaultConfig

__all__ = ["FaultConfig", "SandboxApp", "create_app"]
