"""Triggers keeping system-maintained columns right, whichever way rows are written.

Dataverse sets (Sales, CDS): ``versionnumber`` (see :mod:`.changes`), ``createdon`` (kept from
the create), ``modifiedon``; Sales contacts' ``fullname`` (first, middle and last name joined by
single spaces); tombstones for change-tracked sets; deleting an account or contact clears the
``parentcustomerid`` of contacts pointing at it (Dataverse's *remove link*). With the P2C
solution, the columns of :mod:`.solution`. F&O: ``dataAreaId`` is stored lower-case.

All maintenance of a row happens in one AFTER trigger per event, so a write takes exactly one
version. Connections must keep ``recursive_triggers`` off (SQLite's default).
"""

# SQL here is generated from the service descriptions, never from request values.
# ruff: noqa: S608

from __future__ import annotations

from integrator.sandbox.schema import EntitySet, Service
from integrator.sandbox.stores import solution
from integrator.sandbox.stores.changes import NEXT_VERSION_SQL, VERSION_SQL, tombstone_trigger_sql
from integrator.sandbox.stores.ddl import NOW_SQL, quote

__all__ = ["NOT_UPKEEP_WRITE_SQL", "upkeep_triggers_sql"]

#: trigger condition telling a client's update from the upkeep's own, which moves
#: ``versionnumber`` to the version just taken: the upkeep's write must not be maintained again,
#: nor checked again by the rules. A client's update leaves ``versionnumber`` alone.
NOT_UPKEEP_WRITE_SQL = (
    f"(NEW.versionnumber IS OLD.versionnumber OR NEW.versionnumber IS NOT {VERSION_SQL})"
)


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
        f"  {NEXT_VERSION_SQL}\n  UPDATE {t} SET {', '.join(stamp + on_insert)}"
        " WHERE rowid = NEW.rowid;\nEND",
        f"CREATE TRIGGER {quote('upkeep_upd_' + es.table)} AFTER UPDATE ON {t}"
        f" WHEN {NOT_UPKEEP_WRITE_SQL}\nBEGIN\n"
        f"  {NEXT_VERSION_SQL}\n  UPDATE {t} SET {', '.join(stamp + on_update)}"
        " WHERE rowid = NEW.rowid;\nEND",
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
