"""Validation before anything runs: every kind of problem, all at once, with file, line and path.

``describe`` is built from EntityInfo data (tests/config/p2c_metadata.py), as the connectors'
metadata would give it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from integrator.config import check_workspace, load_workspace, validate_workspace
from integrator.connectors.base import EntityInfo
from integrator.errors import (
    ConfigError,
    ConfigProblem,
    CredentialsRefused,
    RequestRejected,
    SystemUnreachable,
    UnavailableSystems,
)
from tests.config.helpers import ACCOUNTS, CONTACTS, CUSTOMERS, edit, line_containing
from tests.config.p2c_metadata import describe


def test_shipped_projects_are_valid(workspace: Path) -> None:
    check_workspace(load_workspace(workspace), describe)


def test_every_kind_of_problem_is_reported_at_once(workspace: Path) -> None:
    projects = workspace / "projects"
    contacts = projects / f"{CONTACTS}.yaml"
    accounts = projects / f"{ACCOUNTS}.yaml"
    customers = projects / f"{CUSTOMERS}.yaml"
    settings = workspace / "integrator.yaml"
    connections = workspace / "connections.yaml"
    broken_template = workspace / "templates" / "broken.yaml"

    # schema: an unknown key, and a YAML syntax error in a user template
    edit(settings, "version: 1\n", "version: 1\ncolour: red\n")
    broken_template.write_text("name: Broken\ntasks: [\n")
    # unknown field (row 4 of CDS → Destination), mapped twice, unknown transform, bad filter
    edit(
        contacts,
        "destination: MiddleName\n        source: MiddleName",
        "destination: Foo\n        source: MiddleName",
    )
    edit(
        contacts,
        "      - {destination: PrimaryEmailAddress, source: EmailPrimary}\n",
        "      - {destination: PrimaryEmailAddress, source: EmailPrimary}\n"
        "      - {destination: PrimaryEmailAddress, source: Fax}\n",
    )
    edit(contacts, "transforms: [CountryRegionCode]", "transforms: [Rot13]")
    edit(contacts, "source_filter: msdynce_isactivecustomer eq false and", "source_filter: (")
    edit(contacts, "required_prior: [Accounts (Sales to Fin and Ops)]", "required_prior: [Leads]")
    edit(
        contacts,
        "{type: Default, value: 'Yes'}",
        "{type: Default, value: Perhaps}",
    )
    # a type that cannot convert; a required field with neither source nor default
    edit(
        accounts,
        "      - destination: PartyType\n"
        "        transforms: [{type: Default, value: Organization}]",
        "      - {destination: PartyType, source: createdon}",
    )
    edit(
        accounts,
        "      - destination: CustomerGroupId\n"
        "        transforms: [{type: Default, value: '10'}]\n",
        "",
    )
    # unknown entity; unknown source field; an integration key naming no field
    edit(customers, "destination_entity: CustomersV2", "destination_entity: CustomersV9")
    edit(customers, "source: telephone1}", "source: telephone9}")
    edit(connections, "- contacts.msdynce_contactnumber", "- contacts.contactnumber")

    ws = load_workspace(workspace, strict=False)
    problems = validate_workspace(ws, describe)

    c = f"projects/{CONTACTS}.yaml"
    a = f"projects/{ACCOUNTS}.yaml"
    u = f"projects/{CUSTOMERS}.yaml"
    p_c, p_a, p_u = (f'project "{n}"' for n in (CONTACTS, ACCOUNTS, CUSTOMERS))
    leg1, leg2 = "leg Source → CDS", "leg CDS → Destination"
    row_of = _row_numbers(contacts)
    expected = {
        ConfigProblem("integrator.yaml", 3, "", "unknown key 'colour'"),
        ConfigProblem(
            "templates/broken.yaml",
            2,
            "",
            "YAML syntax error: the '[' opened on line 2 is never closed with ']', or a ',' is "
            "missing between its items (line 2 reads 'tasks: [')",
        ),
        ConfigProblem(
            "connections.yaml",
            line_containing(connections, "- contacts.contactnumber"),
            'connection set "default", integration_keys[2]',
            "field 'contactnumber' does not exist on contacts",
        ),
        ConfigProblem(
            c,
            line_containing(contacts, "required_prior: [Leads]"),
            f"{p_c}, required_prior[1]",
            "unknown prerequisite template 'Leads'",
        ),
        ConfigProblem(
            c,
            line_containing(contacts, "source_filter: ("),
            f"{p_c}, task Contacts, source_filter",
            _filter_problem("( msdynce_iscompanyanaccount eq true"),
        ),
        ConfigProblem(
            c,
            line_containing(contacts, "destination: Foo"),
            f"{p_c}, task Contacts, {leg2}, row 4, destination",
            "field 'Foo' does not exist on CDSContactPersons",
        ),
        ConfigProblem(
            c,
            line_containing(contacts, "{destination: PrimaryEmailAddress, source: Fax}"),
            f"{p_c}, task Contacts, {leg2}, row {row_of['Fax']}, destination",
            f"field 'PrimaryEmailAddress' is already mapped by row {row_of['Fax'] - 1}",
        ),
        ConfigProblem(
            c,
            line_containing(contacts, "transforms: [Rot13]"),
            f"{p_c}, task Contacts, {leg1}, row 18, transforms[1]",
            "unknown transform 'Rot13' (known: Concatenate, CountryRegionCode, DateFormat, "
            "Default, Lower, Split, Substring, Trim, Truncate, Upper, ValueMap)",
        ),
        ConfigProblem(
            c,
            line_containing(contacts, "value: Perhaps"),
            f"{p_c}, task Contacts, {leg2}, row {row_of['Perhaps']}, transforms[1]",
            "Default value does not fit 'IsContactPersonExternallyMaintained' (enum): "
            "'Perhaps' is not one of No, Yes",
        ),
        ConfigProblem(
            a,
            line_containing(accounts, "{destination: PartyType, source: createdon}"),
            f"{p_a}, task Accounts, {leg1}, row 13, source",
            "'createdon' (datetime) cannot convert to 'PartyType' (enum)",
        ),
        ConfigProblem(
            a,
            line_containing(accounts, "    cds_to_destination:", whole=True),
            f"{p_a}, task Accounts, {leg2}",
            "required field 'CustomerGroupId' of CustomersV2 has neither a source nor a "
            "default: add a mapping row for it",
        ),
        ConfigProblem(
            u,
            line_containing(customers, "destination_entity: CustomersV9"),
            f"{p_u}, task ContactToCustomer, destination_entity",
            "entity 'CustomersV9' does not exist on finops",
        ),
        ConfigProblem(
            u,
            line_containing(customers, "source: telephone9}"),
            f"{p_u}, task ContactToCustomer, {leg1}, row 7, source",
            "field 'telephone9' does not exist on contacts",
        ),
    }
    assert set(problems) - expected == set()
    assert expected - set(problems) == set()

    with pytest.raises(ConfigError) as caught:
        check_workspace(ws, describe)
    assert len(caught.value.problems) == len(problems)
    first_line = str(caught.value).splitlines()[0]
    assert first_line == "integrator.yaml:3: unknown key 'colour'"


def _filter_problem(text: str) -> str:
    from integrator.errors import FilterSyntaxError
    from integrator.odata.filter import parse_filter

    try:
        parse_filter(text)
    except FilterSyntaxError as exc:
        return f"invalid filter at position {exc.position}: {exc.reason}"
    raise AssertionError("the filter parsed")


def _row_numbers(contacts: Path) -> dict[str, int]:
    """Row numbers (1-based) in the CDS → Destination leg of a few edited rows."""
    text = contacts.read_text().split("\n    cds_to_destination:\n", 1)[1]
    rows = [line for line in text.splitlines() if line.startswith("      - ")]
    found = {}
    for number, row in enumerate(rows, start=1):
        if "source: Fax}" in row and "PrimaryEmailAddress" in row:
            found["Fax"] = number
        if "IsContactPersonExternallyMaintained" in row:
            found["Perhaps"] = number
    return found


def test_a_refused_metadata_request_is_a_problem_not_a_crash(workspace: Path) -> None:
    def describe_failing(system: str, entity: str) -> EntityInfo | None:
        if system == "finops":
            raise RequestRejected("400 Bad Request", status=400)
        return describe(system, entity)

    problems = validate_workspace(load_workspace(workspace), describe_failing)
    messages = {p.message for p in problems}
    assert "cannot read the metadata of 'CustomersV2' on finops: 400 Bad Request" in messages
    assert all(p.line is not None for p in problems)


def test_a_system_out_of_reach_is_raised_once_per_system_not_a_problem(workspace: Path) -> None:
    asked: list[str] = []

    def describe_failing(system: str, entity: str) -> EntityInfo | None:
        asked.append(system)
        if system == "finops":
            raise CredentialsRefused("HTTP 401", url="http://fo.test/data/", status=401)
        if system == "cds":
            raise SystemUnreachable("connection refused", url="http://cds.test/api/data/v9.2/")
        return describe(system, entity)

    with pytest.raises(UnavailableSystems) as caught:
        validate_workspace(load_workspace(workspace), describe_failing)

    assert sorted(str(error) for error in caught.value.errors) == [
        "cds cannot be reached at http://cds.test/api/data/v9.2/: connection refused",
        "finops refused the credentials at http://fo.test/data/: HTTP 401",
    ]
    assert caught.value.exit_code == 3
    assert asked.count("finops") == 1 and asked.count("cds") == 1  # not once per entity


def test_project_naming_a_missing_connection_set(workspace: Path) -> None:
    path = workspace / "projects" / f"{ACCOUNTS}.yaml"
    edit(path, 'connection_set: "default"', "connection_set: production")
    problems = validate_workspace(load_workspace(workspace), describe)
    assert [str(p) for p in problems] == [
        f"projects/{ACCOUNTS}.yaml:{line_containing(path, 'connection_set: production')}: "
        f'project "{ACCOUNTS}", connection_set: no connection set named "production" in '
        "connections.yaml (known: default)"
    ]


def test_filter_fields_and_unmapped_keys_are_reported(workspace: Path) -> None:
    path = workspace / "projects" / f"{ACCOUNTS}.yaml"
    edit(path, "source_filter: accountnumber ne null", "source_filter: accountnum ne null")
    edit(path, "      - {destination: CustomerAccount, source: AccountId}\n", "")
    edit(path, "cds: [Organization_OrganizationId, AccountId]", "cds: [OrgId, AccountId]")
    problems = validate_workspace(load_workspace(workspace), describe)
    project = f'project "{ACCOUNTS}", task Accounts'
    assert [(p.line, p.path, p.message) for p in problems] == [
        (
            line_containing(path, "source_filter:"),
            f"{project}, source_filter",
            "the filter reads 'accountnum', which does not exist on accounts",
        ),
        (
            line_containing(path, "cds: [OrgId"),
            f"{project}, keys.cds[1]",
            "key field 'OrgId' does not exist on accounts",
        ),
        (
            line_containing(path, "    cds_to_destination:", whole=True),
            f"{project}, leg CDS → Destination",
            "key field 'CustomerAccount' of CustomersV2 is not mapped",
        ),
    ]


def test_prerequisite_may_name_a_saved_template(workspace: Path) -> None:
    from integrator.config import save_project_as_template

    save_project_as_template(load_workspace(workspace), ACCOUNTS, "Accounts EU")
    path = workspace / "projects" / f"{CONTACTS}.yaml"
    edit(path, "required_prior: [Accounts (Sales to Fin and Ops)]", "required_prior: [accounts eu]")
    assert validate_workspace(load_workspace(workspace), describe) == []
    edit(path, "required_prior: [accounts eu]", f"required_prior: [{CONTACTS}]")
    problems = validate_workspace(load_workspace(workspace), describe)
    assert [p.message for p in problems] == ["a project cannot require itself"]


def test_sales_without_the_p2c_fields_names_the_solution_and_the_upgrade(workspace: Path) -> None:
    def describe_without_solution(system: str, entity: str) -> EntityInfo | None:
        info = describe(system, entity)
        if info is None or (system, entity) != ("sales", "contacts"):
            return info
        fields = {n: f for n, f in info.fields.items() if n != "msdynce_contactnumber"}
        return EntityInfo(info.name, fields, info.key, info.alternate_keys)

    ws = load_workspace(workspace)
    problems = validate_workspace(ws, describe_without_solution, projects=[CONTACTS])
    path = workspace / "projects" / f"{CONTACTS}.yaml"
    assert (
        ConfigProblem(
            f"projects/{CONTACTS}.yaml",
            line_containing(path, "source_entity: contacts"),
            f'project "{CONTACTS}", task Contacts, source_entity',
            "Sales has no msdynce_contactnumber on contacts: the Prospect to cash solution adds "
            f"them; install it in Sales, then run `integrator upgrade --workspace {workspace}`",
        )
        in problems
    )


def test_a_bound_field_takes_no_source_and_its_binding_a_real_field(workspace: Path) -> None:
    path = workspace / "projects" / f"{ACCOUNTS}.yaml"
    edit(
        path,
        "      - destination: Organization_OrganizationId\n"
        "        transforms: [{type: Default, value: ORG001}]\n",
        "      - {destination: Organization_OrganizationId, source: name}\n",
    )
    edit(path, "cds_to_destination: {dataAreaId: finops_legal_entity}", "cds_to_destination: "
         "{DataArea: finops_legal_entity}")  # fmt: skip
    problems = validate_workspace(load_workspace(workspace), describe, projects=[ACCOUNTS])
    project = f'project "{ACCOUNTS}", task Accounts'
    assert [(p.line, p.path, p.message) for p in problems] == [
        (
            line_containing(path, "    cds_to_destination:", whole=True),
            f"{project}, leg CDS → Destination",
            "key field 'dataAreaId' of CustomersV2 is not mapped: bind it to the organization "
            "mapping, in the task: bindings: {cds_to_destination: {dataAreaId: "
            "finops_legal_entity}}",
        ),
        (
            line_containing(path, "Organization_OrganizationId, source: name}"),
            f"{project}, leg Source → CDS, row 14, source",
            "Organization_OrganizationId is bound to the organization mapping's "
            "cds_organization (connections.yaml:25), which gives its value: remove the source",
        ),
        (
            line_containing(path, "{DataArea: finops_legal_entity}"),
            f"{project}, bindings.cds_to_destination.DataArea",
            "field 'DataArea' does not exist on CustomersV2",
        ),
    ]


def test_a_binding_names_a_leg_of_its_task(workspace: Path) -> None:
    path = workspace / "projects" / f"{ACCOUNTS}.yaml"
    edit(path, "cds_to_destination: {dataAreaId", "source_to_destination: {dataAreaId")
    problems = load_workspace(workspace, strict=False).problems
    assert [(p.line, p.message) for p in problems] == [
        (
            line_containing(path, "  - name: Accounts"),
            "bindings: this task has no leg source_to_destination (its legs: source_to_cds, "
            "cds_to_destination)",
        )
    ]
