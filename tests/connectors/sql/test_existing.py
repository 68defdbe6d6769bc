"""upsert() tells inserted, updated and unchanged records apart by the rows already stored."""

from __future__ import annotations

from collections import Counter
from typing import Any

from integrator.connectors.base import Outcome

from ..databases import Database

_CONTACTS = """
CREATE TABLE {s}contacts (
    org VARCHAR(10) NOT NULL,
    id VARCHAR(20) NOT NULL,
    name TEXT,
    active BOOLEAN,
    score INTEGER,
    PRIMARY KEY (org, id)
);
"""


def _contact(org: str, n: int, **changes: Any) -> dict[str, Any]:
    return {"org": org, "id": f"P{n:05d}", "name": f"Person {n}", "active": True, **changes}


def test_a_batch_over_several_key_prefixes_and_chunks_is_classified_record_by_record(
    db: Database,
) -> None:
    db.run(_CONTACTS)
    connector = db.connector(batch_size=5000)
    stored = [_contact(org, n, score=n) for org in ("A", "B", "C") for n in range(700)]
    assert Counter(r.outcome for r in connector.upsert("contacts", stored, key=["org", "id"])) == {
        Outcome.INSERTED: 2100
    }

    again = [
        # the same values, a number given as text and a boolean as a word: nothing to write
        *(_contact("A", n, score=str(n), active="yes") for n in range(700)),
        *(_contact("B", n, score=n, name=f"Renamed {n}") for n in range(0, 700, 2)),
        *(_contact("B", n, score=n) for n in range(1, 700, 2)),
        *(_contact("D", n) for n in range(300)),
    ]
    results = connector.upsert("contacts", again, key=["org", "id"])

    assert Counter(r.outcome for r in results) == {
        Outcome.UNCHANGED: 700 + 350,
        Outcome.UPDATED: 350,
        Outcome.INSERTED: 300,
    }
    assert results[700].key == {"org": "B", "id": "P00000"}
    assert results[700].outcome is Outcome.UPDATED
    assert db.rows("SELECT count(*) FROM {s}contacts") == [(2400,)]
    assert db.rows("SELECT name, score FROM {s}contacts WHERE org = 'B' AND id = 'P00002'") == [
        ("Renamed 2", 2)
    ]


def test_a_case_insensitive_key_finds_the_row_stored_in_another_case(sqlite_db: Database) -> None:
    sqlite_db.run(
        "CREATE TABLE contacts (org TEXT COLLATE NOCASE, id TEXT COLLATE NOCASE, name TEXT,"
        " PRIMARY KEY (org, id));"
        "INSERT INTO contacts VALUES ('usmf', 'p1', 'One'), ('usmf', 'p2', 'Two');"
    )
    connector = sqlite_db.connector()

    results = connector.upsert(
        "contacts",
        [
            {"org": "USMF", "id": "P1", "name": "One"},
            {"org": "USMF", "id": "P2", "name": "Deux"},
            {"org": "USMF", "id": "P3", "name": "Three"},
        ],
        key=["org", "id"],
    )

    assert [r.outcome for r in results] == [Outcome.UNCHANGED, Outcome.UPDATED, Outcome.INSERTED]
    assert sqlite_db.rows("SELECT org, id, name FROM contacts ORDER BY id") == [
        ("usmf", "p1", "One"),
        ("usmf", "p2", "Deux"),
        ("USMF", "P3", "Three"),
    ]


def test_values_not_of_the_columns_type_are_converted_or_refused_with_the_field_named(
    db: Database,
) -> None:
    db.run(_CONTACTS)
    connector = db.connector()

    results = connector.upsert(
        "contacts",
        [
            {"org": "A", "id": 7, "name": 12, "active": "no", "score": "42"},
            {"org": "A", "id": "P2", "name": True, "score": 3.0},
            {"org": "A", "id": "P3", "score": "many"},
            {"org": "A", "id": "P4", "name": {"first": "Ann"}},
        ],
        key=["org", "id"],
    )

    assert [(r.outcome, r.field, r.message) for r in results] == [
        (Outcome.INSERTED, None, None),
        (Outcome.INSERTED, None, None),
        (Outcome.ERROR, "score", "score 'many' is not a whole number"),
        (Outcome.ERROR, "name", "name cannot hold a structured value (dict)"),
    ]
    assert db.rows("SELECT id, name, active, score FROM {s}contacts ORDER BY id") == [
        ("7", "12", False, 42),
        ("P2", "true", None, 3),
    ]
    assert list(connector.read("contacts", ["id", "name", "active", "score"])) == [
        [
            {"id": "7", "name": "12", "active": False, "score": 42},
            {"id": "P2", "name": "true", "active": None, "score": 3},
        ]
    ]


def test_a_record_with_several_faults_is_refused_for_its_first(db: Database) -> None:
    db.run(_CONTACTS)
    connector = db.connector()

    results = connector.upsert(
        "contacts",
        [
            {"org": "A", "id": "P1", "score": "x", "active": "maybe"},
            {"org": "A", "id": "P2", "active": "maybe", "score": "x"},
            {"org": "A", "id": "P3", "name": ["a"], "colour": "red"},
            {"org": "A", "id": "P4", "colour": "red", "name": ["a"]},
            {"org": "A", "name": "no id"},
        ],
        key=["org", "id"],
    )

    assert [(r.field, r.message) for r in results] == [
        ("score", "score 'x' is not a whole number"),
        ("active", "active 'maybe' is not true or false"),
        ("name", "name cannot hold a structured value (list)"),
        ("colour", "contacts has no field 'colour'"),
        ("id", "key field id is missing"),
    ]
