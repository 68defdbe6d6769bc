"""The F&O connector describes entities from F&O's /Metadata service, over loopback HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrator.config import init_workspace
from integrator.connectors.finops import FinOpsConnection, FinOpsConnector
from integrator.connectors.finops.metadata import entity_from_public_entity, metadata_root
from integrator.connectors.http.clients import open_client
from integrator.connectors.registry import open_connection
from integrator.errors import RequestRejected
from integrator.sandbox.testing import SandboxHandle

from ..connections import connection as parse


class RecordingTransport(httpx.HTTPTransport):
    """The real HTTP transport, remembering the path and query of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.url.raw_path.decode())
        return super().handle_request(request)


@pytest.fixture
def make_finops(sandbox: SandboxHandle) -> Iterator[Any]:
    made: list[FinOpsConnector] = []

    def make(transport: httpx.BaseTransport | None = None, **config: Any) -> FinOpsConnector:
        settings: dict[str, Any] = {"retry": {"base_delay_seconds": 0.01}, **config}
        connection = FinOpsConnection(url=sandbox.finops, **settings)
        connector = FinOpsConnector(open_client(connection, transport=transport), connection)
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


def test_metadata_root_is_beside_the_odata_root() -> None:
    assert metadata_root("https://contoso.operations.dynamics.com/data/") == (
        "https://contoso.operations.dynamics.com/Metadata/"
    )
    assert metadata_root("http://127.0.0.1:8700/finops/data") == (
        "http://127.0.0.1:8700/finops/Metadata/"
    )


def test_describe_reads_mandatory_keys_types_enums_and_lengths(make_finops: Any) -> None:
    info = make_finops().describe("CustomersV2")

    assert info.name == "CustomersV2"
    assert info.key == ("dataAreaId", "CustomerAccount")
    required = set(info.required_fields())
    assert {"CustomerGroupId", "AddressCountryRegionISOCode", "CustomerAccount"} <= required
    assert not {"PersonLastName", "OrganizationName", "IsExternallyMaintained"} & required
    maintained = info.fields["IsExternallyMaintained"]
    assert (maintained.type, maintained.enum_values) == ("enum", ("No", "Yes"))
    assert info.fields["PartyType"].enum_values == ("Organization", "Person")
    assert info.fields["CustomerAccount"].max_length == 20
    assert info.fields["OrganizationName"].max_length == 100
    assert info.fields["OrganizationName"].type == "string"
    assert not any(f.read_only for f in info.fields.values())


def test_describe_costs_one_request_per_entity_and_enum_and_one_metadata_per_run(
    sandbox: SandboxHandle, make_finops: Any
) -> None:
    transport = RecordingTransport()
    finops = make_finops(transport)
    sandbox.reset_request_counts()

    finops.describe("CustomersV2")
    finops.describe("CDSContactPersons")
    finops.describe("CustomersV2")

    sent = sorted(transport.sent)
    assert sent == sorted(
        [
            "/finops/Metadata/PublicEntities?%24filter=EntitySetName+eq+%27CustomersV2%27",
            "/finops/Metadata/PublicEnumerations('NoYes')",
            "/finops/Metadata/PublicEnumerations('PartyType')",
            "/finops/data/$metadata",
            "/finops/Metadata/PublicEntities?%24filter=EntitySetName+eq+%27CDSContactPersons%27",
        ]
    )
    assert sandbox.request_counts()["requests"]["finops"] == {"GET": 5}


def test_without_string_lengths_no_csdl_is_fetched(make_finops: Any) -> None:
    transport = RecordingTransport()
    info = make_finops(transport, finops={"string_lengths": False}).describe("CustomersV2")

    assert not any("$metadata" in path for path in transport.sent)
    assert len(transport.sent) == 3
    assert info.fields["CustomerAccount"].max_length is None
    assert "CustomerGroupId" in info.required_fields()


def test_an_unknown_entity_is_refused_with_its_name(make_finops: Any) -> None:
    with pytest.raises(RequestRejected) as caught:
        make_finops().describe("CustomersV9")
    assert caught.value.code == "unknown-entity"
    assert "CustomersV9" in str(caught.value)


def test_reads_and_writes_still_work_from_metadata_service_descriptions(
    make_finops: Any,
) -> None:
    finops = make_finops()
    record = {
        "dataAreaId": "usmf",
        "CustomerAccount": "MD-0001",
        "OrganizationName": "Metadata Ltd",
        "CustomerGroupId": "10",
        "AddressCountryRegionISOCode": "USA",
        "IsExternallyMaintained": "Yes",
    }
    [result] = finops.upsert("CustomersV2", [record], key=["dataAreaId", "CustomerAccount"])
    assert result.outcome == "inserted", result.message
    pages = finops.read(
        "CustomersV2",
        list(record),
        filter="IsExternallyMaintained eq 'Yes' and CustomerAccount eq 'MD-0001'",
    )
    assert [r for page in pages for r in page] == [record]


def test_fields_neither_editable_nor_settable_on_create_are_read_only(
    sandbox_session: SandboxHandle,
) -> None:
    url = f"{sandbox_session.url}/finops/Metadata/PublicEntities('CustomerV2')"
    record = httpx.get(url, timeout=30).json()
    for prop in record["Properties"]:
        if prop["Name"] == "PartyNumber":
            prop["AllowEdit"] = prop["AllowEditOnCreate"] = False
        if prop["Name"] == "PersonLastName":
            prop["AllowEdit"] = False  # settable on create only: still written by upserts

    meta = entity_from_public_entity(record, {}, {}, url=url)
    assert meta.info.fields["PartyNumber"].read_only is True
    assert meta.info.fields["PersonLastName"].read_only is False
    assert meta.info.fields["CustomerAccount"].read_only is False


def test_a_mandatory_field_the_project_leaves_unmapped_is_a_configuration_error(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    workspace = init_workspace(tmp_path / "ws", sandbox.url)
    project = workspace / "projects" / "Accounts (Sales to Fin and Ops).yaml"
    text = project.read_text(encoding="utf-8")
    row = (
        "      - destination: CustomerGroupId\n        transforms: [{type: Default, value: '10'}]\n"
    )
    assert row in text
    project.write_text(text.replace(row, ""), encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "integrator.cli.main", "run", "--workspace", str(workspace)],
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
        timeout=300,
    )

    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "required field 'CustomerGroupId' of CustomersV2" in output
    assert "Accounts (Sales to Fin and Ops).yaml" in output


def test_a_workspace_connection_can_turn_string_lengths_off(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    connection = parse(kind="finops", url=sandbox.finops, finops={"string_lengths": False})
    connector = open_connection(connection, tmp_path)
    try:
        sandbox.reset_request_counts()
        info = connector.describe("CustomersV2")
        assert info.fields["CustomerAccount"].max_length is None
        assert sandbox.request_counts()["requests"]["finops"] == {"GET": 3}
    finally:
        connector.close()


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"metadata_url": "https://elsewhere.example.com/Metadata/"}, "same host"),
        ({"string_lengths": "sometimes"}, "string_lengths"),
    ],
)
def test_finops_options_are_checked(options: dict[str, Any], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        parse(kind="finops", url="https://contoso.operations.dynamics.com/data/", finops=options)
    with pytest.raises(ValueError, match="finops"):
        parse(kind="dataverse", url="https://contoso.crm.dynamics.com/", finops={})
