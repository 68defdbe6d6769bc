"""Fixtures for the portal's tests: a signed-in client on the golden workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.portal.client import PortalClient, signed_in_client


@pytest.fixture
def portal(workspace: Path) -> Iterator[PortalClient]:
    """A client signed in to a portal on the golden workspace (its sandbox running)."""
    client = signed_in_client(workspace)
    with client:
        yield client
    client.context.close()
