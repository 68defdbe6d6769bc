"""The shared conformance suite run against the HTTP connectors (Dataverse Sales, F&O) over a
sandbox on loopback. The tests are the suite's own; only the ``target`` fixture is ours.

(When ``dataverse_target`` and ``finops_target`` join ``TARGETS`` in
``conformance/targets/__init__.py``, this module can go.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .conformance.target import ConformanceTarget
from .conformance.test_conformance import (
    test_bad_records_fail_alone_and_the_rest_is_written,
    test_changing_one_record_reports_exactly_one_update,
    test_faults_end_with_the_same_data,
    test_filtered_reads_equal_in_memory_evaluation,
    test_many_small_pages_return_every_row_once,
    test_read_changes_returns_exactly_what_changed_including_ties,
    test_upsert_twice_is_upsert_once,
)
from .http.targets import dataverse_target, finops_target

__all__ = [
    "test_bad_records_fail_alone_and_the_rest_is_written",
    "test_changing_one_record_reports_exactly_one_update",
    "test_faults_end_with_the_same_data",
    "test_filtered_reads_equal_in_memory_evaluation",
    "test_many_small_pages_return_every_row_once",
    "test_read_changes_returns_exactly_what_changed_including_ties",
    "test_upsert_twice_is_upsert_once",
]


@pytest.fixture(
    params=[
        pytest.param(dataverse_target, id="dataverse-sales"),
        pytest.param(finops_target, id="finops"),
    ]
)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ConformanceTarget]:
    """A ready, empty HTTP system under test."""
    with request.param(tmp_path) as made:
        yield made
