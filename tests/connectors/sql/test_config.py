"""SqlConfig: what a connection set gives the SQL connector."""

from __future__ import annotations

import pytest

from integrator.connectors.sql import Relation, SqlConfig
from integrator.errors import ConfigError


def test_sizes_below_one_are_configuration_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        SqlConfig.from_url("sqlite:///x.db", page_size=0, batch_size=-1)

    assert [p.message for p in caught.value.problems] == [
        "page_size must be at least 1, not 0",
        "batch_size must be at least 1, not -1",
    ]


def test_relations_are_grouped_by_lookup_name() -> None:
    account = Relation("contacts", "parentcustomerid", "parentcustomerid", "accounts", "accountid")
    contact = Relation("contacts", "parentcustomerid", "parentcustomerid", "contacts", "contactid")
    other = Relation("quotes", "customerid", "customerid", "accounts", "accountid")
    config = SqlConfig.from_url("sqlite:///x.db", relations=(account, contact, other))

    assert config.relations_of("contacts") == {"parentcustomerid": [account, contact]}
    assert config.relations_of("accounts") == {}
