"""Credentials stay out of repr, messages and exceptions."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from integrator.connectors.sql import SqlConnection, SqlConnector
from integrator.errors import RetriableError

SECRET = "s3cr3t-Passw0rd"


def test_the_password_is_masked_in_repr() -> None:
    connector = SqlConnector.from_url(f"postgresql+psycopg://app:{SECRET}@127.0.0.1:5432/test")
    try:
        assert connector.url.password == SECRET
        assert SECRET not in repr(connector.connection)
        assert SECRET not in repr(connector)
        assert SECRET not in connector.masked_url()
        assert "app:***@127.0.0.1" in repr(connector)
    finally:
        connector.close()


def test_a_password_given_apart_is_used_but_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGING_PASSWORD", SECRET)
    connection = SqlConnection.model_validate(
        {
            "url": "postgresql+psycopg://app@127.0.0.1:5432/test",
            "sql": {"password": {"env": "STAGING_PASSWORD"}},
        }
    )
    connector = SqlConnector.from_connection(connection, tmp_path)
    try:
        assert connector.url.password == SECRET
        assert SECRET not in repr(connection) and SECRET not in repr(connector)
    finally:
        connector.close()


def test_an_unreachable_server_is_retriable_and_the_error_holds_no_password() -> None:
    connector = SqlConnector.from_url(f"postgresql+psycopg://app:{SECRET}@127.0.0.1:9/test")
    try:
        with pytest.raises(RetriableError) as caught:
            connector.describe("customers")
    finally:
        connector.close()

    shown = "".join(traceback.format_exception(caught.value))
    assert "is unavailable" in str(caught.value)
    assert "app:***@127.0.0.1:9/test" in str(caught.value)
    assert SECRET not in shown
