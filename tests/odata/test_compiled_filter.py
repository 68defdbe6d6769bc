"""A filter compiled once selects exactly the records the tree walker selects."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrator.errors import FilterTypeError
from integrator.odata.filter import compile_filter, evaluate, parse_filter
from tests.odata.test_filter import FILTERS, ROWS
from tests.odata.test_filter_forms import DATED, QUERY_FUNCTIONS

MORE_FILTERS = [
    "city eq 'DUBLIN '",  # case and trailing spaces folded only when case-insensitive
    "toupper(name) eq 'SMITH' and trim(city) ne 'x'",
    "active eq 1",  # a boolean compared with a number
    "age gt 'x'",  # types that do not compare: unknown
    "seen gt 2024-01-01T00:00:00Z",
    "seen le 2024-01-01T00:00:00Z or not (age eq null)",
    "null eq null",
    "age lt null",
    "true",
    "false or active",
    "not (active and age gt 20)",
]

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70),
    st.floats(-3, 10, allow_nan=False),
    st.sampled_from(
        ["Dublin", "dublin  ", " DUBLIN", "smith", "SMITH", "Straße", "王小明", "O'Brien", "x"]
    ),
    st.datetimes(
        min_value=datetime(2023, 6, 1), max_value=datetime(2024, 6, 1), timezones=st.just(UTC)
    ),
    st.sampled_from(["2024-01-01T00:00:00", "2023-12-31", "not a date"]),
)
RECORDS = st.fixed_dictionaries(
    {name: VALUES for name in ("name", "city", "age", "active", "score", "seen", "first")}
)
TEXTS = [*FILTERS, *MORE_FILTERS, *(text for text, _ in QUERY_FUNCTIONS)]


def _outcome(select: Callable[[], bool]) -> bool | str:
    try:
        return select()
    except FilterTypeError as error:  # a query function given a value of another type
        return str(error)


def _agree(text: str, records: Sequence[Mapping[str, object]]) -> None:
    expr = parse_filter(text)
    for folded in (False, True):
        compiled = compile_filter(expr, case_insensitive=folded)
        for r in records:
            expected = _outcome(partial(evaluate, expr, r, case_insensitive=folded))
            assert _outcome(partial(compiled, r)) == expected, (text, folded, r)


@pytest.mark.parametrize("text", TEXTS)
def test_the_compiled_filter_selects_the_rows_evaluate_selects(text: str) -> None:
    _agree(text, [*ROWS, *cast("list[dict[str, Any]]", DATED)])


@settings(max_examples=100, deadline=None)
@given(st.lists(RECORDS, min_size=1, max_size=5))
def test_the_compiled_filter_agrees_on_any_record(records: list[dict[str, Any]]) -> None:
    for text in TEXTS:
        _agree(text, records)


def test_the_task_filter_selects_active_customers_only() -> None:
    select = compile_filter(parse_filter("msdynce_isactivecustomer eq true"), case_insensitive=True)
    rows = [{"msdynce_isactivecustomer": v} for v in (True, False, None, 1, 0)]
    assert [select(r) for r in rows] == [True, False, False, True, False]
