"""The conformance suite: what every connector must do, checked the same way for each system.

Each test receives a ``target`` (see ``target.py``) and talks to its system only through the
connector, except to load or change data behind its back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from integrator.connectors.base import ChangeBatch, Connector, Outcome, Record, RecordResult
from integrator.odata.filter import evaluate, parse_filter

from .target import AWKWARD_TEXT, ConformanceTarget

MANY = 2500
SMALL_PAGE = 97


def _upsert_all(
    connector: Connector, target: ConformanceTarget, records: Sequence[Record]
) -> list[RecordResult]:
    size = connector.capabilities.max_batch_size
    results: list[RecordResult] = []
    for start in range(0, len(records), size):
        batch = records[start : start + size]
        results.extend(connector.upsert(target.entity, batch, key=target.key))
    return results


def _read_all(
    connector: Connector, target: ConformanceTarget, *, filter: str | None = None
) -> list[Record]:
    pages = connector.read(target.entity, list(target.fields), filter=filter)
    return [record for page in pages for record in page]


def _by_key(target: ConformanceTarget, records: Sequence[Record]) -> dict[tuple[Any, ...], Record]:
    keys = Counter(target.key_of(r) for r in records)
    repeated = [k for k, n in keys.items() if n > 1]
    assert not repeated, f"records read more than once: {repeated[:5]}"
    return {target.key_of(r): r for r in records}


def test_many_small_pages_return_every_row_once(target: ConformanceTarget) -> None:
    records = [target.record(i) for i in range(MANY)]
    target.load(records)
    connector = target.connector()

    pages = list(connector.read(target.entity, list(target.fields), page_size=SMALL_PAGE))

    assert len(pages) >= MANY // SMALL_PAGE
    assert all(0 < len(page) <= SMALL_PAGE for page in pages)
    read = _by_key(target, [r for page in pages for r in page])
    assert read == {target.key_of(r): r for r in records}
    assert all(set(r) == set(target.fields) for r in read.values())


def test_filtered_reads_equal_in_memory_evaluation(target: ConformanceTarget) -> None:
    records = [target.record(i) for i in range(1000)]
    target.load(records)
    assert {r[f] for r in records for f in target.fields} >= set(AWKWARD_TEXT)
    connector = target.connector()
    everything = _read_all(connector, target)

    for text in target.filters():
        expr = parse_filter(text)
        expected = {
            target.key_of(r)
            for r in everything
            if evaluate(expr, r, case_insensitive=target.case_insensitive)
        }
        got = _read_all(connector, target, filter=text)

        assert set(_by_key(target, got)) == expected, text
        assert 0 < len(expected) < len(everything), f"fixture does not exercise {text!r}"
        assert all(evaluate(expr, r, case_insensitive=target.case_insensitive) for r in got), text


def test_upsert_twice_is_upsert_once(target: ConformanceTarget) -> None:
    records = [target.record(i) for i in range(1200)]
    connector = target.connector()

    first = _upsert_all(connector, target, records)
    second = _upsert_all(connector, target, records)

    assert [r.outcome for r in first] == [Outcome.INSERTED] * len(records)
    assert [r.outcome for r in second] == [Outcome.UNCHANGED] * len(records)
    assert [dict(r.key) for r in second] == [{k: rec[k] for k in target.key} for rec in records]
    assert _by_key(target, _read_all(connector, target)) == {target.key_of(r): r for r in records}


def test_changing_one_record_reports_exactly_one_update(target: ConformanceTarget) -> None:
    records = [target.record(i) for i in range(300)]
    connector = target.connector()
    _upsert_all(connector, target, records)
    changed = list(records)
    changed[123] = target.changed(records[123])

    results = _upsert_all(connector, target, changed)

    assert Counter(r.outcome for r in results) == {Outcome.UPDATED: 1, Outcome.UNCHANGED: 299}
    assert results[123].outcome is Outcome.UPDATED
    assert (
        _by_key(target, _read_all(connector, target))[target.key_of(changed[123])] == (changed[123])
    )


def test_an_empty_string_over_null_changes_only_what_keeps_them_apart(
    target: ConformanceTarget,
) -> None:
    empty = [target.record(i) for i in range(0, 100, 5)]
    assert {r[target.nullable] for r in empty} == {None}, "record(5n) must leave it empty"
    connector = target.connector()
    _upsert_all(connector, target, empty)

    blanked = [{**r, target.nullable: ""} for r in empty]
    to_blank = _upsert_all(connector, target, blanked)
    back_to_null = _upsert_all(connector, target, empty)

    if target.blank_is_null:  # one value to the system: nothing to write, either way
        assert {r.outcome for r in to_blank + back_to_null} == {Outcome.UNCHANGED}
    else:  # two values: each way is a change, and it is stored
        assert {r.outcome for r in to_blank + back_to_null} == {Outcome.UPDATED}
        _upsert_all(connector, target, blanked)
        stored = {r[target.nullable] for r in _read_all(connector, target)}
        assert stored == {""}


def test_bad_records_fail_alone_and_the_rest_is_written(target: ConformanceTarget) -> None:
    good = [target.record(i) for i in range(400)]
    bad = target.bad_records()
    assert bad, "a target must name records its system refuses"
    batch: list[Record] = list(good)
    positions = []
    for n, item in enumerate(bad):
        position = 17 + n * 97
        batch.insert(position, item.record)
        positions.append(position)
    connector = target.connector()

    results = _upsert_all(connector, target, batch)

    assert len(results) == len(batch)
    for position, item in zip(positions, bad, strict=True):
        result = results[position]
        assert result.outcome is Outcome.ERROR, item
        assert result.field == item.field, result
        assert result.message is not None and item.message in result.message, result
        assert dict(result.key) == {k: item.record[k] for k in target.key}
    others = [r for i, r in enumerate(results) if i not in positions]
    assert all(r.outcome is Outcome.INSERTED for r in others)
    stored = _by_key(target, _read_all(connector, target))
    assert stored == {target.key_of(r): r for r in good}


def _drain(
    connector: Connector, target: ConformanceTarget, checkpoint: str | None
) -> tuple[list[Record], str]:
    batches: list[ChangeBatch] = list(
        connector.read_changes(target.entity, list(target.fields), checkpoint=checkpoint)
    )
    assert batches, "read_changes yields at least the batch carrying the checkpoint"
    assert batches[-1].checkpoint is not None
    return [r for b in batches for r in b.records], batches[-1].checkpoint


def test_read_changes_returns_exactly_what_changed_including_ties(
    target: ConformanceTarget,
) -> None:
    if not target.supports_changes:
        pytest.skip(f"{target.name} does not read changes")
    records = [target.record(i) for i in range(1000)]
    target.load(records)
    connector = target.connector(page_size=SMALL_PAGE)

    everything, checkpoint = _drain(connector, target, None)
    assert _by_key(target, everything) == {target.key_of(r): r for r in records}

    expected = target.make_changes(records)
    changes, checkpoint = _drain(connector, target, checkpoint)
    assert _by_key(target, changes) == expected

    nothing, checkpoint = _drain(connector, target, checkpoint)
    assert nothing == []


@pytest.mark.parametrize(("kind", "rate"), [("throttle", 0.5), ("server_error", 0.1)])
def test_faults_end_with_the_same_data(target: ConformanceTarget, kind: Any, rate: float) -> None:
    if not target.supports_faults:
        pytest.skip(f"{target.name} has no fault injection (HTTP targets only)")
    records = [target.record(i) for i in range(3000)]
    # small pages and calls: about a hundred requests, so the rate injects a fair number
    connector = target.connector(page_size=100)

    with target.faults(kind, rate):
        results = [
            result
            for start in range(0, len(records), 100)
            for result in connector.upsert(
                target.entity, records[start : start + 100], key=target.key
            )
        ]
        read = [r for page in connector.read(target.entity, list(target.fields)) for r in page]
    assert target.injected_faults() > 0, "no fault was injected: the test proves nothing"

    # a write retried after the system applied it reads as unchanged: still no record lost
    assert all(r.outcome in (Outcome.INSERTED, Outcome.UNCHANGED) for r in results)
    assert _by_key(target, read) == {target.key_of(r): r for r in records}
    assert _by_key(target, _read_all(connector, target)) == {target.key_of(r): r for r in records}


def test_delete_removes_rows_and_deleting_twice_is_deleting_once(target: ConformanceTarget) -> None:
    records = [target.record(i) for i in range(200)]
    target.load(records)
    connector = target.connector()
    doomed = [{k: r[k] for k in target.key} for r in records[::3]]
    missing = {k: target.record(999_999)[k] for k in target.key}

    first = connector.delete(target.entity, [*doomed, missing])
    second = connector.delete(target.entity, doomed)

    assert [r.outcome for r in first] == [Outcome.DELETED] * len(doomed) + [Outcome.UNCHANGED]
    assert [r.outcome for r in second] == [Outcome.UNCHANGED] * len(doomed)
    kept = {target.key_of(r): r for i, r in enumerate(records) if i % 3}
    assert _by_key(target, _read_all(connector, target)) == kept
