"""Triggers keeping system-maintained columns right, whichever way rows are written.

Dataverse sets (Sales, CDS): ``versionnumber`` (see :mod:`.changes`), ``createdon`` (kept from
the create), ``modifiedon``; Sales contacts' ``fullname`` (first, middle and last name joined by
single spaces); tombstones for change-tracked sets; deleting an account or contact clears the
``parentcustomerid`` of contacts pointing at it (Dataverse's *remove link*). With the P2C
solution, the columns of :mod:`.solution`. F&O: ``dataAreaId`` is stored lower-case.

All maintenance of a row happens in one AFTER trigger per event, so a write takes exactly one
version. The trigger raises a flag (``_ct_version.upkeep``) around its own row write so that
write is neither maintained again nor re-checked by the rules. Connections must keep
``recursive_triggers`` off (SQLite's default).
"""

# SQL here is generated from the service descriptions, never from request values.
# ruff: noqa: S608

from __future__ import annotations

from integrator.sandbox.schema import EntitySet, Service
from integrator.sandbox.stores import solution
from integrator.sandbox.stores.changes import (
    NOT_UPKEEP_WRITE_SQL,
    UPKEEP_BEGIN_SQL,
    UPKEEP_END_SQL,
    VERSION_SQL,
    tombstone_trigger_sql,
)
from integrator.sandbox.stores.ddl import NOW_SQL, quote

__all__ = ["NOT_UPKEEP_WRITE_SQL", "upkeep_triggers_sql"]


def _fullname_sql() -> str:
    parts = [f"coalesce(nullif(trim(NEW.{c}), '') || ' ', '')" for c in ("firstname", "middlename")]
    parts.append("coalesce(nullif(trim(NEW.lastname), ''), '')")
    return f"fullname = nullif(trim({' || '.join(parts)}), '')"


def _dataverse_triggers(service: Service, es: EntitySet, with_solution: bool) -> list[str]:
    t = quote(es.table)
    before_insert: list[str] = []
    on_insert = [f"createdon = {NOW_SQL}"]
    on_update = ["createdon = OLD.createdon"]
    if service.name == "sales" and es.name == "contacts":
        on_insert.append(_fullname_sql())
        on_update.append(_fullname_sql())
    if service.name == "sales" and with_solution:
        for a in solution.AUTONUMBERS:
            if a.table == es.table:
                advance, assign = solution.numbering_statements(a)
                before_insert.append(advance)
                on_insert.append(assign)
        if es.name == "contacts":
            on_insert.append(f"msdynce_isactivecustomer = {solution.is_active_customer_sql()}")
            company = f"msdynce_iscompanyanaccount = {solution.IS_COMPANY_AN_ACCOUNT_SQL}"
            on_insert.append(company)
            on_update.append(company)
    stamp = [f"versionnumber = {VERSION_SQL}", f"modifiedon = {NOW_SQL}"]
    pre = "".join(f"  {s}\n" for s in before_insert)
    out = [
        f"CREATE TRIGGER {quote('upkeep_ins_' + es.table)} AFTER INSERT ON {t}\nBEGIN\n{pre}"
        f"  {UPKEEP_BEGIN_SQL}\n  UPDATE {t} SET {', '.join(stamp + on_insert)}"
        f" WHERE rowid = NEW.rowid;\n  {UPKEEP_END_SQL}\nEND",
        f"CREATE TRIGGER {quote('upkeep_upd_' + es.table)} AFTER UPDATE ON {t}"
        f" WHEN {NOT_UPKEEP_WRITE_SQL}\nBEGIN\n"
        f"  {UPKEEP_BEGIN_SQL}\n  UPDATE {t} SET {', '.join(stamp + on_update)}"
        f" WHERE rowid = NEW.rowid;\n  {UPKEEP_END_SQL}\nEND",
    ]
    if es.change_tracking:
        out.append(tombstone_trigger_sql(es))
    if service.name == "sales" and es.name in ("accounts", "contacts"):
        entity, key = es.entity_type, es.key[0]
        out.append(
            f"CREATE TRIGGER {quote('upkeep_unlink_' + es.table)} AFTER DELETE ON {t}\nBEGIN\n"
            "  UPDATE contacts SET parentcustomerid = NULL, parentcustomeridtype = NULL"
            f" WHERE parentcustomerid = OLD.{key} AND parentcustomeridtype = '{entity}';\nEND"
        )
    return out


def _company_triggers(es: EntitySet) -> list[str]:
    t, c = quote(es.table), quote(es.company_field or "")
    when = f"hex(NEW.{c}) <> hex(lower(NEW.{c}))"
    body = f"BEGIN\n  UPDATE {t} SET {c} = lower({c}) WHERE rowid = NEW.rowid;\nEND"
    return [
        f"CREATE TRIGGER {quote('upkeep_company_ins_' + es.table)} AFTER INSERT ON {t}"
        f" WHEN {when}\n{body}",
        f"CREATE TRIGGER {quote('upkeep_company_upd_' + es.table)} AFTER UPDATE OF {c} ON {t}"
        f" WHEN {when}\n{body}",
    ]


def upkeep_triggers_sql(service: Service, *, with_solution: bool) -> list[str]:
    """CREATE TRIGGER statements maintaining ``service``'s system columns (and, for Sales with
    ``with_solution``, the P2C solution's)."""
    out: list[str] = []
    for es in service.entity_sets:
        if service.flavor == "dataverse" and es.column("versionnumber") is not None:
            out.extend(_dataverse_triggers(service, es, with_solution))
        if es.company_field:
            out.extend(_company_triggers(es))
    if service.name == "sales" and with_solution:
        out.extend(solution.document_triggers_sql())
    return out
