"""The business rules of the sandbox as data: each rule makes a trigger check and a message.

A rule is a SQL condition over the new row (``NEW."col"``) that is true when the row breaks it,
a fixed trigger text (SQLite 3.40 cannot put values in ``RAISE`` messages) that starts with the
field's name, and a message template that names the value, filled from the offending record by
:func:`.violations.explain_violation`. The rules of an entity set become one ``BEFORE INSERT``
and one ``BEFORE UPDATE`` trigger (a single ``CASE``: the first rule broken wins), so they hold
whichever way data reaches the store.

Rules come from the descriptions (required columns, string lengths, enum members, option sets,
booleans, GUIDs, lookup targets) and from SPEC §4 (CDS organization and primary account; F&O
company, reference data, party type names, contact person's customer).
"""

# SQL here is generated from the service descriptions, never from request values.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from integrator.sandbox.schema import EntitySet, Service
from integrator.sandbox.stores.changes import NOT_UPKEEP_WRITE_SQL
from integrator.sandbox.stores.ddl import quote
from integrator.sandbox.stores.services import SERVICES

__all__ = ["Rule", "rule_triggers_sql", "rules_for"]


@dataclass(frozen=True)
class Rule:
    """One rule of one entity set."""

    field: str
    #: SQL over ``NEW."col"``, true when the row breaks the rule
    condition: str
    #: the fixed text the trigger raises
    text: str
    #: ``str.format`` template over the record: ``{value}`` (the field's value), ``{company}``
    #: (the company, upper case), any field by name, ``{a|b}`` (a, or b when a is blank)
    message: str
    #: checked on update only when one of these columns changes (empty: on every update)
    on_change_of: tuple[str, ...] = ()


def _new(col: str) -> str:
    return f"NEW.{quote(col)}"


def _given(col: str) -> str:
    return f"nullif(trim({_new(col)}), '') IS NOT NULL"


def _blank(col: str) -> str:
    return f"nullif(trim({_new(col)}), '') IS NULL"


def _sql_list(values: tuple[str, ...] | tuple[int, ...]) -> str:
    return ", ".join(f"'{v}'" if isinstance(v, str) else str(v) for v in values)


def _exists(table: str, matches: Mapping[str, str]) -> str:
    where = " AND ".join(f"{quote(k)} = {v}" for k, v in matches.items())
    return f"EXISTS (SELECT 1 FROM {quote(table)} WHERE {where})"


def _reference(
    field: str, table: str, matches: Mapping[str, str], where: str = "", where_msg: str = ""
) -> Rule:
    """``field``, when given, must name a row of ``table`` (``matches``: column -> SQL)."""
    return Rule(
        field,
        f"{_given(field)} AND NOT {_exists(table, matches)}",
        f"{field} does not exist{where}",
        f"{field} '{{value}}' does not exist{where_msg}",
    )


def _in_company(field: str, table: str, column: str | None = None) -> Rule:
    matches = {"dataAreaId": _new("dataAreaId"), column or field: _new(field)}
    return _reference(field, table, matches, " in company", " in company {company}")


def _column_rules(es: EntitySet) -> Iterator[Rule]:
    for c in es.columns:
        if c.required:
            yield Rule(c.name, _blank(c.name), f"{c.name} is required", f"{c.name} is required")
    if es.company_field:
        f = es.company_field
        yield _reference(
            f, "LegalEntities", {"LegalEntityId": _new(f)}, " as a company", " as a company"
        )
    for c in es.columns:
        n = _new(c.name)
        if c.enum_values:
            yield Rule(
                c.name,
                f"{n} IS NOT NULL AND {n} COLLATE BINARY NOT IN ({_sql_list(c.enum_values)})",
                f"{c.name} is not a valid {c.enum_type} value",
                f"{c.name} '{{value}}' is not a valid {c.enum_type} value"
                f" ({', '.join(c.enum_values)})",
            )
        elif c.options:
            yield Rule(
                c.name,
                f"{n} IS NOT NULL AND {n} NOT IN ({_sql_list(c.options)})",
                f"{c.name} is not a valid option",
                f"{c.name} '{{value}}' is not a valid option"
                f" ({', '.join(str(o) for o in c.options)})",
            )
        elif c.type == "boolean":
            yield Rule(
                c.name,
                f"{n} IS NOT NULL AND {n} NOT IN (0, 1)",
                f"{c.name} must be true or false",
                f"{c.name} '{{value}}' must be true or false",
            )
    guids = [c.name for c in es.columns if c.type == "guid"] + [lk.column for lk in es.lookups]
    for g in guids:
        n = _new(g)
        yield Rule(
            g,
            f"{n} IS NOT NULL AND (length({n}) <> 36 OR {n} GLOB '*[^0-9a-fA-F-]*')",
            f"{g} is not a GUID",
            f"{g} '{{value}}' is not a GUID",
        )


def _lookup_rules(service: Service, es: EntitySet) -> Iterator[Rule]:
    for lk in es.lookups:
        col, kind = _new(lk.column), _new(lk.type_column or "")
        found = []
        for target in lk.targets:
            ts = service.entity_set_of_type(target)
            assert ts is not None, target
            found.append(f"({kind} = '{target}' AND {_exists(ts.table, {ts.key[0]: col})})")
        names = " or ".join(lk.targets)
        # a lookup whose target was deleted elsewhere must not block unrelated updates
        yield Rule(
            lk.column,
            f"{col} IS NOT NULL AND NOT ({' OR '.join(found)})",
            f"{lk.name} does not point to an existing {names}",
            f"{lk.name} '{{{lk.column}}}' does not point to an existing {names}",
            on_change_of=(lk.column, lk.type_column or lk.column),
        )


def _length_rules(es: EntitySet) -> Iterator[Rule]:
    for c in es.columns:
        if c.type == "string" and c.max_length:
            yield Rule(
                c.name,
                f"length({_new(c.name)}) > {c.max_length}",
                f"{c.name} is longer than {c.max_length} characters",
                f"{c.name} '{{value}}' is longer than {c.max_length} characters",
            )


_ORG = "Organization_OrganizationId"
_PRIMARY_ORG = "PrimaryAccount_Organization_OrganizationId"


def _spec_rules(service: str, entity_set: str) -> Iterator[Rule]:
    """The rules of SPEC §4 beyond what the descriptions say."""
    if service == "cds" and entity_set in ("accounts", "contacts"):
        yield _reference(_ORG, "organizations", {"OrganizationId": _new(_ORG)})
    if service == "cds" and entity_set == "contacts":
        org = f"coalesce({_new(_PRIMARY_ORG)}, {_new(_ORG)})"
        yield _reference(
            "PrimaryAccount_AccountId",
            "accounts",
            {_ORG: org, "AccountId": _new("PrimaryAccount_AccountId")},
            " in the organization",
            f" in organization {{{_PRIMARY_ORG}|{_ORG}}}",
        )
    if service == "finops" and entity_set == "CustomersV2":
        yield _in_company("CustomerGroupId", "CustomerGroups")
        yield _reference(
            "AddressCountryRegionISOCode",
            "AddressCountryRegions",
            {"CountryRegionId": _new("AddressCountryRegionISOCode")},
        )
        yield _reference("LanguageId", "Languages", {"LanguageId": _new("LanguageId")})
        yield _in_company("SiteId", "Sites")
        at_site = {
            "dataAreaId": _new("dataAreaId"),
            "WarehouseId": _new("WarehouseId"),
            "OperationalSiteId": _new("SiteId"),
        }
        rule = _reference(
            "WarehouseId",
            "Warehouses",
            at_site,
            " at the site",
            " at site {SiteId} in company {company}",
        )
        yield Rule(rule.field, f"{_given('SiteId')} AND {rule.condition}", rule.text, rule.message)
        rule = _in_company("WarehouseId", "Warehouses")
        yield Rule(rule.field, f"{_blank('SiteId')} AND {rule.condition}", rule.text, rule.message)
        for party_type, name in (
            ("Organization", "OrganizationName"),
            ("Person", "PersonLastName"),
        ):
            text = f"{name} is required when PartyType is {party_type}"
            yield Rule(name, f"{_new('PartyType')} = '{party_type}' AND {_blank(name)}", text, text)
    if service == "finops" and entity_set == "CDSContactPersons":
        yield Rule(
            "AssociatedPartyNumber",
            f"{_given('AssociatedPartyNumber')} AND NOT "
            + _exists(
                "CustomersV2",
                {"dataAreaId": _new("dataAreaId"), "PartyNumber": _new("AssociatedPartyNumber")},
            ),
            "AssociatedPartyNumber is not the party number of a customer in the company",
            "AssociatedPartyNumber '{value}' is not the party number of a customer in company"
            " {company}",
        )
        yield _in_company("DecisionMakingRoleCode", "DecisionMakingRoles")
        yield _reference(
            "PrimaryAddressCountryRegionISOCode",
            "AddressCountryRegions",
            {"CountryRegionId": _new("PrimaryAddressCountryRegionISOCode")},
        )
    if service == "finops" and entity_set == "Warehouses":
        yield _in_company("OperationalSiteId", "Sites", "SiteId")


def rules_for(service: Service | str, entity_set: str) -> list[Rule]:
    """Every rule of ``entity_set`` in ``service``, in the order the triggers check them."""
    svc = SERVICES[service] if isinstance(service, str) else service
    es = svc.entity_set(entity_set)
    if es is None:
        raise KeyError(f"{svc.name} has no entity set {entity_set!r}")
    spec = list(_spec_rules(svc.name, es.name))
    rules = [*_column_rules(es), *_lookup_rules(svc, es), *spec, *_length_rules(es)]
    texts = [r.text for r in rules]
    assert len(texts) == len(set(texts)), f"rule texts of {es.name} are not unique"
    return rules


def _case_sql(rules: list[Rule], *, update: bool) -> str:
    whens = []
    for r in rules:
        condition = r.condition
        if update and r.on_change_of:
            changed = " OR ".join(f"{_new(c)} IS NOT OLD.{quote(c)}" for c in r.on_change_of)
            condition = f"({changed}) AND {condition}"
        whens.append(f"    WHEN {condition} THEN RAISE(ABORT, '{r.text}')")
    return "BEGIN\n  SELECT CASE\n" + "\n".join(whens) + "\n  END;\nEND"


def rule_triggers_sql(service: Service) -> list[str]:
    """CREATE TRIGGER statements enforcing the rules of every entity set of ``service``."""
    out: list[str] = []
    for es in service.entity_sets:
        rules = rules_for(service, es.name)
        if not rules:
            continue
        body = _case_sql(rules, update=False)
        system = {"createdon", "modifiedon", "versionnumber"}
        watched = [c.name for c in es.columns if c.name not in system]
        for lk in es.lookups:
            watched += [lk.column] + ([lk.type_column] if lk.type_column else [])
        cols = ", ".join(quote(c) for c in watched)
        skip_upkeep = f" WHEN {NOT_UPKEEP_WRITE_SQL}" if es.column("versionnumber") else ""
        t = quote(es.table)
        out.append(f"CREATE TRIGGER {quote('rule_ins_' + es.table)} BEFORE INSERT ON {t}\n{body}")
        out.append(
            f"CREATE TRIGGER {quote('rule_upd_' + es.table)} BEFORE UPDATE OF {cols} ON {t}"
            f"{skip_upkeep}\n{_case_sql(rules, update=True)}"
        )
    return out
