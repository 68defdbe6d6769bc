"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.commands import integrator
from tests.golden.dataset import load_sales

if TYPE_CHECKING:  # imported here, the plugin below could not have its asserts rewritten
    from integrator.sandbox.testing import SandboxHandle

#: ``sandbox`` (fresh per test) and ``sandbox_session`` (shared, read-only) fixtures
pytest_plugins = ["integrator.sandbox.testing"]


@pytest.fixture
def workspace(tmp_path: Path, sandbox: SandboxHandle) -> Path:
    """A workspace made by ``integrator init`` (the seed's three projects) on a fresh sandbox
    whose Sales holds the golden dataset (``tests/golden/sales.yaml``). A test module may
    define its own ``workspace``; it replaces this one there."""
    load_sales(sandbox.data_dir)
    root = tmp_path / "ws"
    done = integrator("init", str(root), "--sandbox", sandbox.url)
    assert done.returncode == 0, done.stderr
    return root
