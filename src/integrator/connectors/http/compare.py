"""Lookups as an OData service stores them: the GUID an ``@odata.bind`` value points at.

Whether any other value sent would change what the service holds is
:func:`integrator.connectors.values.same_value`'s to say."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["bind_target_id"]

_BIND_GUID = re.compile(
    r"\((?P<id>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\)$"
)


def bind_target_id(bind: Any) -> str | None:
    """The GUID in an ``@odata.bind`` value such as ``/accounts(<guid>)``, else ``None``."""
    if not isinstance(bind, str):
        return None
    match = _BIND_GUID.search(bind)
    return match.group("id").lower() if match else None
