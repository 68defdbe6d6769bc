"""Key ranges: the bounds that cut a table, reads of one range resumed after a key, and the
change checkpoint taken before a partitioned load."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from integrator.connectors.sql import SqlConnector

from ..databases import Database


def _items(db: Database, count: int) -> SqlConnector:
    db.run("CREATE TABLE {s}items (id INTEGER PRIMARY KEY, label TEXT, version INTEGER);")
    values = ", ".join(f"({i}, 'l{i}', {i % 4})" for i in range(1, count + 1))
    db.run(f"INSERT INTO {{s}}items VALUES {values};")
    return db.connector(watermarks={"items": "version"}, page_size=3)


def _ids(connector: SqlConnector, lower: Any, upper: Any, after: Any = None) -> list[Any]:
    pages = list(connector.read_range("items", ["id"], lower=lower, upper=upper, after=after))
    for page in pages:  # each page says where the rest of the range goes on from
        assert page.last == page.records[-1]["id"]
    return [r["id"] for page in pages for r in page.records]


def test_bounds_cut_the_table_into_ranges_that_read_every_row_once(db: Database) -> None:
    connector = _items(db, 20)
    assert connector.key_bounds("items", 6) == ("id", [7, 13, 19])
    assert connector.key_bounds("items", 20) == ("id", [])
    edges = [None, 7, 13, 19, None]
    ranges = [_ids(connector, low, high) for low, high in pairwise(edges)]
    assert ranges == [list(range(1, 7)), list(range(7, 13)), list(range(13, 19)), [19, 20]]
    assert _ids(connector, 7, 13, after=9) == [10, 11, 12]


def test_a_table_without_a_single_column_key_is_not_cut(db: Database) -> None:
    db.run("CREATE TABLE {s}pairs (a INTEGER, b INTEGER, PRIMARY KEY (a, b));")
    assert db.connector().key_bounds("pairs", 1) is None


def test_the_change_checkpoint_reads_only_what_is_written_after_it(db: Database) -> None:
    connector = _items(db, 8)
    checkpoint = connector.change_checkpoint("items")
    db.run("INSERT INTO {s}items VALUES (9, 'new', 3); UPDATE {s}items SET version = 5 "
           "WHERE id = 2;")  # fmt: skip
    changed = connector.read_changes("items", ["id"], checkpoint=checkpoint)
    assert sorted(r["id"] for batch in changed for r in batch.records) == [2, 9]
    assert db.connector().change_checkpoint("items") is None  # no watermark configured


def test_a_text_key_is_cut_only_where_python_orders_it_as_the_database(
    sqlite_db: Database,
) -> None:
    sqlite_db.run(
        "CREATE TABLE plain (code TEXT PRIMARY KEY); INSERT INTO plain VALUES ('b'), ('A'), ('a');"
        "CREATE TABLE folded (code TEXT COLLATE NOCASE PRIMARY KEY);"
        "INSERT INTO folded VALUES ('b'), ('A'), ('c');"
    )
    connector = sqlite_db.connector()
    assert connector.key_bounds("plain", 1) == ("code", ["a", "b"])  # 'A' < 'a' < 'b'
    assert _ids_of(connector, "plain", None, "a") == ["A"]
    # NOCASE puts 'A' before 'b' and Python does not: an exact connector does not cut it
    assert connector.key_bounds("folded", 1) is None


def _ids_of(connector: SqlConnector, entity: str, lower: Any, upper: Any) -> list[Any]:
    pages = connector.read_range(entity, ["code"], lower=lower, upper=upper)
    return [r["code"] for page in pages for r in page.records]
