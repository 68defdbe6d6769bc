"""delete(): by key, in bulk; absent rows are unchanged, a refused delete fails alone."""

from __future__ import annotations

from integrator.connectors.base import Outcome

from ..databases import Database


def test_delete_by_key_reports_each_key(db: Database) -> None:
    db.run(
        "CREATE TABLE {s}parents (pid INTEGER PRIMARY KEY, code VARCHAR(10) UNIQUE);"
        "CREATE TABLE {s}children (cid INTEGER PRIMARY KEY,"
        " parent INTEGER REFERENCES {s}parents (pid));"
        "INSERT INTO {s}parents VALUES (1, 'A'), (2, 'B'), (3, 'C'), (4, 'D');"
        "INSERT INTO {s}children VALUES (10, 3);"
    )
    connector = db.connector()
    keys = [{"pid": 1}, {"pid": 99}, {"pid": 3}, {"pid": "x"}, {"code": "D"}, {"pid": 2}]

    results = connector.delete("parents", keys)
    again = connector.delete("parents", [{"pid": 1}, {"code": "D"}])

    assert [r.outcome for r in results] == [
        Outcome.DELETED,
        Outcome.UNCHANGED,
        Outcome.ERROR,
        Outcome.ERROR,
        Outcome.DELETED,
        Outcome.DELETED,
    ]
    assert [dict(r.key) for r in results] == keys
    assert results[2].message is not None
    assert results[2].message.startswith("the parents record is still used by other records")
    assert results[3].field == "pid"
    assert [r.outcome for r in again] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
    assert db.rows("SELECT pid FROM {s}parents") == [(3,)]
