"""The ``target`` fixture: every test of the suite runs once per system in ``TARGETS``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .target import ConformanceTarget
from .targets import TARGETS


@pytest.fixture(
    params=[pytest.param(factory, id=name, marks=marks) for name, factory, marks in TARGETS]
)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConformanceTarget]:
    """A ready, empty system under test."""
    with request.param(tmp_path) as made:
        yield made
