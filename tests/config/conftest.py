"""Fixtures: a fresh workspace made by ``init_workspace``."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrator.config import init_workspace
from tests.config.helpers import SANDBOX


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A new workspace pointing at a sandbox URL (nothing needs to listen there)."""
    return init_workspace(tmp_path / "ws", SANDBOX)
