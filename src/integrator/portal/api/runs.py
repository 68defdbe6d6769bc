"""The runs part of the JSON API (to be built)."""

from __future__ import annotations

from starlette.routing import BaseRoute

__all__ = ["routes"]

routes: list[BaseRoute] = []
