"""describe() reads what a real organization states in EntityDefinitions: required and read-only
columns, lengths, option sets and alternate keys, once per entity; validation uses them."""

from __future__ import annotations

from pathlib import Path

from integrator.config import init_workspace, load_workspace, validate_workspace
from integrator.connectors.base import EntityInfo
from integrator.connectors.dataverse import DataverseConnection, DataverseConnector
from integrator.connectors.finops import FinOpsConnection
from integrator.connectors.registry import open_connection
from integrator.errors import RequestRejected
from integrator.mapping import MappingRow, check_rows
from integrator.mapping.convert import column_converter
from integrator.sandbox.testing import SandboxHandle
from tests.config.helpers import CONTACTS, edit

from .conftest import MakeConnector


def test_describe_takes_required_read_only_lengths_options_and_keys_from_definitions(
    sandbox: SandboxHandle, sales: DataverseConnector
) -> None:
    sandbox.reset_request_counts()
    info = sales.describe("contacts")

    fields = info.fields
    assert info.key == ("contactid",)
    assert info.alternate_keys == (("msdynce_contactnumber",),)
    # business required (ApplicationRequired) and valid for create
    assert fields["lastname"].required
    assert info.required_fields() == ["lastname"]
    # the primary id is SystemRequired, but Dataverse makes one: not required of a template
    assert not fields["contactid"].required
    # statecode is SystemRequired but not valid for create: never required, and not read-only
    assert not fields["statecode"].required and not fields["statecode"].read_only
    assert fields["statecode"].options == (0, 1)
    for name in ("fullname", "createdon", "modifiedon", "versionnumber"):
        assert fields[name].read_only, name
    assert not fields["firstname"].read_only
    assert fields["lastname"].max_length == 50
    assert fields["address1_line1"].max_length == 250
    assert fields["accountrolecode"].options == (1, 2, 3)
    assert fields["firstname"].options is None
    assert fields["parentcustomerid"].lookup_targets == ("account", "contact")
    # one $metadata, one EntityDefinitions with Attributes and Keys expanded, and one type
    # cast per column type the table has that carries more (String, Picklist, State)
    assert sandbox.request_counts()["total"] == 5

    sandbox.reset_request_counts()
    assert sales.describe("contacts") == info
    accounts = sales.describe("accounts")
    assert accounts.alternate_keys == (("accountnumber",),)
    assert accounts.required_fields() == ["name"]
    # cached per entity: accounts costs its own definitions only (with String and State
    # casts: it has no picklist), $metadata is kept
    assert sandbox.request_counts()["total"] == 3


def test_describe_cds_from_its_definitions(make_connector: MakeConnector) -> None:
    info = make_connector("cds").describe("contacts")

    assert info.key == ("Organization_OrganizationId", "ContactId")
    assert info.alternate_keys == ()
    assert info.required_fields() == ["Organization_OrganizationId"]
    assert info.fields["PrimaryAccountRole"].enum_values == (
        "DecisionMaker",
        "Employee",
        "Influencer",
    )
    assert info.fields["PrimaryAccountRole"].options is None  # travels as the member's name
    assert info.fields["FirstName"].max_length == 50


def test_a_value_outside_a_picklist_is_a_validation_problem_naming_it(
    sales: DataverseConnector,
) -> None:
    info = sales.describe("contacts")
    problems = check_rows(
        [
            MappingRow(destination="accountrolecode", transforms=[{"type": "Default", "value": 7}]),
            MappingRow(destination="lastname", transforms=[{"type": "Default", "value": "X"}]),
            MappingRow(destination="statecode", transforms=[{"type": "Default", "value": "1"}]),
        ],
        info,
    )
    assert [(p.row, p.part) for p in problems] == [(0, "transforms")]
    assert "7 is not an option of accountrolecode (its options are 1, 2, 3)" in problems[0].message


def test_validation_against_live_definitions(sandbox: SandboxHandle, tmp_path: Path) -> None:
    """The shipped projects validate against the connectors; a required CDS column left
    without a source or a default is a problem."""
    dataverse = {
        name: open_connection(DataverseConnection(url=sandbox.service_url(name)))
        for name in ("sales", "cds")
    }
    finops = open_connection(FinOpsConnection(url=sandbox.service_url("finops")))

    def describe(system: str, entity: str) -> EntityInfo | None:
        connector = finops if system == "finops" else dataverse[system]
        try:
            return connector.describe(entity)
        except RequestRejected:  # no such entity set
            return None

    try:
        workspace = init_workspace(tmp_path / "ws", sandbox.url)
        assert validate_workspace(load_workspace(workspace), describe) == []

        project = workspace / "projects" / f"{CONTACTS}.yaml"
        edit(project, "cds: [Organization_OrganizationId, ContactId]", "cds: [ContactId]")
        edit(
            project,
            "      - destination: Organization_OrganizationId\n"
            "        transforms: [{type: Default, value: ORG001}]\n",
            "",
        )
        # bound to the organization mapping, the field would still get its value: unbind it
        edit(project, "        Organization_OrganizationId: cds_organization\n", "")

        problems = validate_workspace(load_workspace(workspace, strict=False), describe)
        messages = [p.message for p in problems]
        assert (
            "required field 'Organization_OrganizationId' of contacts has neither a source nor "
            "a default: add a mapping row for it"
        ) in messages, messages
    finally:
        for connector in (*dataverse.values(), finops):
            connector.close()


def test_a_mapped_value_outside_a_picklist_fails_its_record(sales: DataverseConnector) -> None:
    role = sales.describe("contacts").fields["accountrolecode"]
    failed: dict[int, str] = {}
    assert column_converter(role)([1, "2", None, 9], failed) == [1, 2, None, None]
    assert failed == {3: "9 is not an option of accountrolecode (its options are 1, 2, 3)"}
