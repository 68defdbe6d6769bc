"""Every system the conformance suite runs against. Add a target here.

Each entry is (id, factory, pytest marks). A factory is a context manager taking a scratch
directory and yielding a ready, empty :class:`~connectors.conformance.target.ConformanceTarget`;
it calls ``pytest.skip`` with a reason when its system is not available.
"""

from __future__ import annotations

from typing import Any

import pytest

from ...http.targets import dataverse_target, finops_target
from ..target import TargetFactory
from .sql import postgres_target, sqlite_target

TARGETS: list[tuple[str, TargetFactory, tuple[Any, ...]]] = [
    ("sqlite", sqlite_target, ()),
    ("postgres", postgres_target, (pytest.mark.postgres,)),
    ("dataverse-sales", dataverse_target, ()),  # a sandbox over loopback HTTP
    ("finops", finops_target, ()),
]
