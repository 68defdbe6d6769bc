"""The direct templates (SPEC §6): one leg, Sales → F&O, each row the composition of the two
legs of the seed's template of the same flow."""

from __future__ import annotations

from typing import Any

import pytest

from integrator.mapping import MappingRow, compile_mapping
from integrator.templates import Template, load_template
from tests.config.p2c_metadata import describe

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
CUSTOMERS = "Contacts to Customer (Sales to Fin and Ops)"

Chain = list[dict[str, Any]]


def _specs(row: MappingRow) -> Chain:
    return [{"type": t.type, **t.params} for t in row.transforms]


def composed_rows(three_system: Template) -> dict[str, tuple[str | None, Chain]]:
    """F&O field → (Sales field, transforms) composed from the Source → CDS and
    CDS → Destination legs: the CDS field each F&O field reads is replaced by the row that
    wrote it, and their transform chains are joined (leg 1's first)."""
    task = three_system.tasks[0]
    into_cds = {row.destination: row for row in task.source_to_cds or ()}
    composed: dict[str, tuple[str | None, Chain]] = {}
    for row in task.cds_to_destination or ():
        if row.source is None:
            composed[row.destination] = (None, _specs(row))
            continue
        feeding = into_cds[row.source]
        chain = _specs(feeding) + _specs(row)
        if [t["type"] for t in chain] == ["CountryRegionCode", "Default"]:
            # leg 2's Default only ever saw blanks (leg 1 failed unknown names): in one leg the
            # Default goes first, or it would turn every unknown name into its value
            chain = [chain[1], chain[0]]
        composed[row.destination] = (feeding.source, chain)
    return composed


@pytest.mark.parametrize(
    ("name", "task", "entities", "source_filter", "prior"),
    [
        (ACCOUNTS, "Accounts", ("accounts", "CustomersV2"), "accountnumber ne null", ()),
        (
            CONTACTS,
            "Contacts",
            ("contacts", "CDSContactPersons"),
            "msdynce_isactivecustomer eq false and msdynce_iscompanyanaccount eq true",
            (f"{ACCOUNTS} - Direct",),
        ),
        (
            CUSTOMERS,
            "ContactToCustomer",
            ("contacts", "CustomersV2"),
            "msdynce_isactivecustomer eq true",
            (f"{ACCOUNTS} - Direct",),
        ),
    ],
)
def test_direct_template_is_one_leg_with_the_seeds_filter_and_keys(
    name: str, task: str, entities: tuple[str, str], source_filter: str, prior: tuple[str]
) -> None:
    seed, direct = load_template(name), load_template(f"{name} - Direct")
    only = direct.tasks[0]
    assert [t.name for t in direct.tasks] == [task]
    assert only.is_direct and only.cds_entity is None
    assert (only.source_entity, only.destination_entity) == entities
    assert only.source_filter == source_filter == seed.tasks[0].source_filter
    assert direct.required_prior == prior
    assert only.keys.source == seed.tasks[0].keys.source
    assert only.keys.destination == seed.tasks[0].keys.destination
    assert [leg.title for leg in only.legs("sales", "finops")] == ["Source → Destination"]


@pytest.mark.parametrize("name", [ACCOUNTS, CONTACTS, CUSTOMERS])
def test_each_direct_row_is_the_composition_of_the_seeds_two_legs(name: str) -> None:
    direct = load_template(f"{name} - Direct").tasks[0]
    rows = {
        row.destination: (row.source, _specs(row)) for row in direct.source_to_destination or ()
    }
    assert rows == composed_rows(load_template(name))


def test_direct_contacts_map_the_role_code_straight_into_decision_making_role() -> None:
    rows = load_template(f"{CONTACTS} - Direct").tasks[0].source_to_destination or ()
    role = next(r for r in rows if r.destination == "DecisionMakingRoleCode")
    assert role.source == "accountrolecode"
    assert _specs(role) == [
        {"type": "ValueMap", "map": {"1": "DecisionMaker", "2": "Employee", "3": "Influencer"}}
    ]
    country = next(r for r in rows if r.destination == "PrimaryAddressCountryRegionISOCode")
    assert (country.source, _specs(country)) == (
        "address1_country",
        [{"type": "Default", "value": "USA"}, {"type": "CountryRegionCode"}],
    )


def _map(template: Template, records: list[dict[str, Any]]) -> Any:
    """Map ``records`` through every leg of ``template`` as the engine does; the last leg's."""
    task = template.tasks[0]
    batch = records
    mapped: Any = None
    for leg in task.legs(template.source_system, template.destination_system):
        destination = describe(leg.to_system, leg.to_entity)
        assert destination is not None
        mapped = compile_mapping(leg.rows, destination).apply(batch)
        batch = mapped.records
    return mapped


@pytest.mark.parametrize("name", [ACCOUNTS, CUSTOMERS])
def test_direct_and_three_system_write_the_same_fo_records(name: str) -> None:
    sales = [
        {
            "accountnumber": "ACC-1",
            "msdynce_contactnumber": "CON-1",
            "name": "Contoso " * 20,
            "firstname": "Ann",
            "lastname": "Lee",
            "address1_city": "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch",
            "address1_country": country,
        }
        for country in ("Allemagne", None, "  ", "U.S.", "Trinidad & Tobago")
    ]
    seed, direct = _map(load_template(name), sales), _map(load_template(f"{name} - Direct"), sales)
    assert direct.errors == [] and seed.errors == []
    assert direct.records == seed.records
    assert [r["AddressCountryRegionISOCode"] for r in direct.records] == [
        "DEU",
        "USA",
        "USA",
        "USA",
        "TTO",
    ]


def test_an_unknown_country_fails_in_direct_as_it_does_through_cds() -> None:
    record = {"accountnumber": "ACC-1", "name": "Lost", "address1_country": "Narnia"}
    direct = _map(load_template(f"{ACCOUNTS} - Direct"), [record])
    assert direct.records == []
    assert [(e.field, e.message[:40]) for e in direct.errors] == [
        ("AddressCountryRegionISOCode", "address1_country 'Narnia' is not a count")
    ]
