"""read_changes(): a watermark column, a closed lower bound and no repeats at the boundary."""

from __future__ import annotations

import json
from typing import Any

import pytest

from integrator.connectors.base import ChangeBatch
from integrator.connectors.sql import SqlConnector
from integrator.errors import RequestRejected

from ..databases import Database


def _drain(connector: SqlConnector, checkpoint: str | None) -> tuple[list[Any], str]:
    batches: list[ChangeBatch] = list(
        connector.read_changes("items", ["id", "label"], checkpoint=checkpoint)
    )
    assert batches[-1].checkpoint is not None
    return sorted(r["id"] for b in batches for r in b.records), batches[-1].checkpoint


def _items(db: Database) -> SqlConnector:
    db.run("CREATE TABLE {s}items (id INTEGER PRIMARY KEY, label TEXT, version INTEGER);")
    return db.connector(watermarks={"items": "version"}, page_size=4)


def test_ties_at_the_watermark_are_neither_lost_nor_repeated(db: Database) -> None:
    connector = _items(db)
    db.run(
        "INSERT INTO {s}items VALUES (1, 'a', 1), (2, 'b', 2), (3, 'c', 2), (4, 'd', 2),"
        " (5, 'e', 2), (6, 'f', 2), (7, 'g', NULL);"
    )

    first, checkpoint = _drain(connector, None)
    assert first == [1, 2, 3, 4, 5, 6, 7]
    assert json.loads(checkpoint)["watermark"] == 2

    # written later but stamped with the same version as the newest row already read
    db.run("INSERT INTO {s}items VALUES (8, 'h', 2), (9, 'i', 2); UPDATE {s}items SET label = 'A',"
           " version = 3 WHERE id = 1;")  # fmt: skip
    second, checkpoint = _drain(connector, checkpoint)
    assert second == [1, 8, 9]

    db.run("INSERT INTO {s}items VALUES (10, 'j', 3);")
    third, checkpoint = _drain(connector, checkpoint)
    assert third == [10]

    nothing, _ = _drain(connector, checkpoint)
    assert nothing == []


def test_every_page_of_an_incremental_read_is_a_resume_point(db: Database) -> None:
    connector = _items(db)
    db.run("INSERT INTO {s}items VALUES " + ", ".join(f"({i}, 'x', 1)" for i in range(1, 13)))
    _, checkpoint = _drain(connector, None)
    # ties across page boundaries (pages of 4): versions 2,2,2,2,2,3,3,3,4,4
    db.run("UPDATE {s}items SET version = CASE WHEN id <= 5 THEN 2 WHEN id <= 8 THEN 3"
           " ELSE 4 END, label = 'y' WHERE id <= 10;")  # fmt: skip
    batches = list(connector.read_changes("items", ["id"], checkpoint=checkpoint))
    assert len(batches) >= 3 and all(b.checkpoint is not None for b in batches)
    for index, batch in enumerate(batches[:-1]):
        rest = sorted(r["id"] for b in batches[index + 1 :] for r in b.records)
        resumed, _ = _drain(connector, batch.checkpoint)
        assert resumed == rest, f"resuming after page {index}"


def test_an_empty_table_then_rows(db: Database) -> None:
    connector = _items(db)

    empty, checkpoint = _drain(connector, None)
    db.run("INSERT INTO {s}items VALUES (1, 'a', 5);")
    later, _ = _drain(connector, checkpoint)

    assert empty == []
    assert later == [1]


def test_without_a_configured_watermark_changes_are_refused(db: Database) -> None:
    db.run("CREATE TABLE {s}items (id INTEGER PRIMARY KEY, label TEXT, version INTEGER);")

    with pytest.raises(RequestRejected, match="no watermark column") as caught:
        list(db.connector().read_changes("items", ["id"], checkpoint=None))
    assert caught.value.code == "no-watermark"


@pytest.mark.parametrize(
    "checkpoint",
    [
        "not json",
        json.dumps({"format": 1, "entity": "other", "column": "version", "watermark": 1,
                    "keys": []}),
        json.dumps({"format": 1, "entity": "items", "column": "label", "watermark": 1,
                    "keys": []}),
    ],
)  # fmt: skip
def test_a_foreign_checkpoint_is_reported_expired(db: Database, checkpoint: str) -> None:
    connector = _items(db)

    with pytest.raises(RequestRejected) as caught:
        list(connector.read_changes("items", ["id"], checkpoint=checkpoint))
    assert caught.value.code == "checkpoint-expired"
