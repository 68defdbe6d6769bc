"""A connection set of ``kind: sql`` connections straight at the sandbox's store files, written
in ``connections.yaml`` as a user would: relations and watermarks declared there."""

from __future__ import annotations

from pathlib import Path

from integrator.config.workspace import init_workspace, load_workspace
from integrator.engine.history import RunStatus
from integrator.engine.run import Engine
from integrator.sandbox.stores import SandboxStore
from tests.golden.dataset import dump_outputs, load_sales


def _connections(data: Path) -> str:
    relations = [
        f"{{entity: {entity}, name: {name}, column: {name}, target: {target}s, "
        f"target_key: {target}id, type_column: {name}type, type_value: {target}}}"
        for entity, name in (("contacts", "parentcustomerid"), ("quotes", "customerid"))
        for target in ("account", "contact")
    ]
    lines = [
        "connection_sets:",
        "  default:",
        "    sales:",
        "      kind: sql",
        f"      url: sqlite:///{data / 'sales.db'}",
        "      sql:",
        "        watermarks: {accounts: versionnumber, contacts: versionnumber}",
        "        case_insensitive_filters: true",
        "        relations:",
        *(f"          - {relation}" for relation in relations),
        "    cds:",
        "      kind: sql",
        f"      url: sqlite:///{data / 'cds.db'}",
        "    finops:",
        "      kind: sql",
        f"      url: sqlite:///{data / 'finops.db'}",
    ]
    return "\n".join(lines) + "\n"


def test_sql_connections_from_yaml_sync_the_golden_dataset(tmp_path: Path) -> None:
    data = tmp_path / "sandbox"
    SandboxStore.open(data)
    load_sales(data)
    root = init_workspace(tmp_path / "ws", "http://127.0.0.1:9")
    (root / "connections.yaml").write_text(_connections(data), encoding="utf-8")
    engine = Engine(load_workspace(root))
    summaries = engine.run()
    again = engine.run()
    engine.close()
    assert [s.status for s in summaries] == [RunStatus.WARNING] * 3
    rows = dump_outputs(data)
    persons = {r["ContactPersonPartyNumber"] for r in rows["finops"]["CDSContactPersons"]}
    assert persons == {"CON-01001-DECIDR", "CON-01009-EMPLOY"}
    # a SQLite file keeps no column lengths, so Truncate cannot know AddressCity's 60: the
    # store's own rule refuses the long city, with a message that says so
    errors = [e for t in summaries[0].tasks for e in t.errors]
    assert any(
        e.key == "ACC-01004-OBRIEN" and e.field == "AddressCity" and "longer than 60" in e.message
        for e in errors
    ), errors
    assert all(t.counts.inserted == t.counts.updated == 0 for r in again for t in r.tasks)
