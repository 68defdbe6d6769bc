"""``kind: sql`` connections: what a connection set gives the SQL connector."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from integrator.connectors.registry import open_connection
from integrator.connectors.sql import Relation, SqlConnector, SqlOptions

from ..connections import connection


def test_sizes_below_one_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        SqlConnector.from_url("sqlite:///x.db", page_size=0, batch_size=-1)

    assert [(e["loc"], e["msg"]) for e in caught.value.errors()] == [
        (("page_size",), "Input should be greater than 0"),
        (("batch_size",), "Input should be greater than 0"),
    ]


def test_relations_are_grouped_by_lookup_name() -> None:
    account = Relation("contacts", "parentcustomerid", "parentcustomerid", "accounts", "accountid")
    contact = Relation("contacts", "parentcustomerid", "parentcustomerid", "contacts", "contactid")
    other = Relation("quotes", "customerid", "customerid", "accounts", "accountid")
    options = SqlOptions(relations=(account, contact, other))

    assert options.relations_of("contacts") == {"parentcustomerid": [account, contact]}
    assert options.relations_of("accounts") == {}


def test_the_yaml_keys_of_a_sql_connection_reach_the_connector() -> None:
    made = connection(
        kind="sql",
        url="sqlite:///staging.db",
        page_size=250,
        batch_size=50,
        sql={
            "watermarks": {"contacts": "versionnumber"},
            "case_insensitive_filters": True,
            "relations": [
                {
                    "entity": "contacts",
                    "name": "parentcustomerid",
                    "column": "parentcustomerid",
                    "target": "accounts",
                    "target_key": "accountid",
                }
            ],
        },
    )
    connector = open_connection(made)
    assert isinstance(connector, SqlConnector)
    try:
        assert connector.capabilities.max_page_size == 250
        assert connector.capabilities.max_batch_size == 50
        assert connector.options.watermarks == {"contacts": "versionnumber"}
        assert connector.options.relations_of("contacts")["parentcustomerid"][0].target == (
            "accounts"
        )
    finally:
        connector.close()


@pytest.mark.parametrize(
    ("yaml", "words"),
    [
        ({"url": "postgresql://app:pw@db/x"}, "the URL holds a password"),
        ({"url": "not a url"}, "not a database URL"),
        ({"url": "sqlite:///x.db", "sql": {"relations": [{"entity": "x"}]}}, "Field required"),
        ({"url": "sqlite:///x.db", "sql": {"watermark": {}}}, "Extra inputs"),
        (
            {"url": "sqlite:///x.db", "auth": {"type": "token", "token": {"env": "T"}}},
            "sql.password",
        ),
    ],
)
def test_a_bad_sql_connection_is_refused(yaml: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        connection(kind="sql", **yaml)
