"""Change ranges: the rows changed since a checkpoint cut on (watermark, key) into ranges that
read each changed row once, a bulk update's shared watermark split by the key, resumes after a
page, and the rows a checkpoint had already seen at its watermark left out."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from integrator.connectors.sql import SqlConnector

from ..databases import Database


def _items(db: Database, count: int) -> SqlConnector:
    db.run(
        "CREATE TABLE {s}items (id INTEGER PRIMARY KEY, label TEXT, modifiedon TIMESTAMP NOT NULL);"
    )
    values = ", ".join(
        f"({i}, 'l{i}', '2026-01-01 00:00:{i % 60:02d}')" for i in range(1, count + 1)
    )
    db.run(f"INSERT INTO {{s}}items VALUES {values};")
    return db.connector(watermarks={"items": "modifiedon"}, page_size=3)


def _read(
    connector: SqlConnector, since: str, lower: Any, upper: Any, after: Any = None
) -> list[int]:
    pages = list(
        connector.read_change_range(
            "items", ["id"], since=since, lower=lower, upper=upper, after=after
        )
    )
    for page in pages:  # each page ends where the rest of its range goes on from
        if page.records:
            assert page.last[1] == page.records[-1]["id"]
    return [r["id"] for page in pages for r in page.records]


def test_the_changes_since_a_checkpoint_are_cut_into_ranges_read_once_each(
    db: Database,
) -> None:
    connector = _items(db, 10)
    since = connector.change_checkpoint("items")
    # a bulk update: 12 rows with one watermark, then 2 more after it
    db.run(
        "UPDATE {s}items SET modifiedon = '2026-02-01 00:00:00' WHERE id <= 10;"
        + "".join(
            f"INSERT INTO {{s}}items VALUES ({i}, 'n{i}', '2026-02-01 00:00:00');" for i in (11, 12)
        )
        + "INSERT INTO {s}items VALUES (13, 'n13', '2026-02-02 00:00:00');"
        "INSERT INTO {s}items VALUES (14, 'n14', '2026-02-03 00:00:00');"
    )
    assert since is not None
    bounds = connector.change_bounds("items", since, 5)
    assert bounds is not None and len(bounds) == 2
    assert [bound[1] for bound in bounds] == [6, 11]  # the shared watermark split by the key
    edges: list[Any] = [None, *bounds, None]
    ranges = [_read(connector, since, low, high) for low, high in pairwise(edges)]
    assert ranges == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11, 12, 13, 14]]
    assert _read(connector, since, bounds[1], None, after=bounds[1]) == [12, 13, 14]
    assert connector.change_bounds("items", since, 14) == []


def test_rows_the_checkpoint_saw_at_its_watermark_are_not_read_again(db: Database) -> None:
    connector = _items(db, 3)  # ids 1..3 at :01..:03; the checkpoint saw id 3 at :03
    since = connector.change_checkpoint("items")
    assert since is not None
    db.run(
        "INSERT INTO {s}items VALUES (4, 'same second', '2026-01-01 00:00:03');"
        "INSERT INTO {s}items VALUES (5, 'later', '2026-01-01 00:00:09');"
    )
    bounds = connector.change_bounds("items", since, 1)
    assert bounds is not None
    edges: list[Any] = [None, *bounds, None]
    read = [i for low, high in pairwise(edges) for i in _read(connector, since, low, high)]
    assert read == [4, 5]
    uncut = connector.read_changes("items", ["id"], checkpoint=since)
    assert [r["id"] for batch in uncut for r in batch.records] == read


def test_without_a_checkpoint_or_a_watermark_the_changes_are_not_cut(db: Database) -> None:
    connector = _items(db, 4)
    assert connector.change_bounds("items", None, 1) is None
    assert db.connector().change_bounds("items", "{}", 1) is None
