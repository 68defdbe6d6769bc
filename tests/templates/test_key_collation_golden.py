"""Keys compare as the destination compares them: Dataverse and F&O (SQL Server, ``_CI``
collations, ``=`` ignoring trailing spaces) take ``CON-09999-DUPDUP``, ``CON-09999-DUPDUP ``
and ``con-09999-dupdup`` for one key. From a Sales database that tells them apart (a SQL
source), the first is written and the others are failed records naming the first, never a
second F&O contact person.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from integrator.sandbox.stores import SandboxStore
from integrator.sandbox.testing import SandboxHandle
from tests.cli.test_run_output import integrator
from tests.golden.dataset import dump_outputs

HERE = Path(__file__).parent
ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"


def _sales_database(directory: Path) -> Path:
    """A Sales database with the sandbox's tables whose Contact Number is not a unique key
    (as a SQL source may have it), holding the rows of ``data/dupkeys.yaml``."""
    SandboxStore.open(directory)
    path = directory / "sales.db"
    conn = sqlite3.connect(path)
    rows: dict[str, list[dict[str, Any]]] = YAML(typ="safe").load(HERE / "data" / "dupkeys.yaml")
    with conn:
        conn.execute("DROP INDEX ak_contacts_msdynce_contactnumber")
        for table, records in rows.items():
            for row in records:
                marks = ", ".join("?" for _ in row)
                conn.execute(
                    f"INSERT INTO {table} ({', '.join(row)}) VALUES ({marks})", list(row.values())
                )
    conn.close()
    return path


def _use_sql_sales(root: Path, sales_db: Path) -> None:
    relations = [
        f"{{entity: contacts, name: parentcustomerid, column: parentcustomerid, "
        f"target: {target}s, target_key: {target}id, type_column: parentcustomeridtype, "
        f"type_value: {target}}}"
        for target in ("account", "contact")
    ]
    path = root / "connections.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("    sales:\n")
    end = text.index("    cds:\n")
    sales = "\n".join(
        [
            "    sales:",
            "      kind: sql",
            f"      url: sqlite:///{sales_db}",
            "      sql:",
            "        watermarks: {accounts: versionnumber, contacts: versionnumber}",
            "        relations:",
            *(f"          - {relation}" for relation in relations),
        ]
    )
    path.write_text(text[:start] + sales + "\n" + text[end:], encoding="utf-8")


def test_keys_that_differ_by_case_or_trailing_spaces_are_one_contact_person(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    sales_db = _sales_database(tmp_path / "sales-source")
    root = tmp_path / "ws"
    assert integrator("init", str(root), "--sandbox", sandbox.url).returncode == 0
    _use_sql_sales(root, sales_db)

    done = integrator("run", ACCOUNTS, CONTACTS, "--workspace", str(root), "--json")
    assert done.returncode == 0, done.stderr + done.stdout

    rows = dump_outputs(sandbox.data_dir)
    persons = [
        (r["ContactPersonPartyNumber"], r["FirstName"]) for r in rows["finops"]["CDSContactPersons"]
    ]
    assert persons == [("CON-09999-DUPDUP", "First")]
    assert [(r["ContactId"], r["FirstName"]) for r in rows["cds"]["contacts"]] == [
        ("CON-09999-DUPDUP", "First")
    ]
    runs = json.loads(done.stdout)["runs"]
    contacts = next(r for r in runs if r["project"] == CONTACTS)
    assert contacts["status"] == "Warning"
    [task] = contacts["tasks"]
    assert (task["counts"]["inserted"], task["counts"]["errors"]) == (1, 2)
    errors = [(e["key"], e["leg"], e["field"], e["message"]) for e in task["errors"]]
    assert errors == [
        (
            key,
            "Source → CDS",
            "msdynce_contactnumber",
            f"msdynce_contactnumber {key!r} is the same key as 'CON-09999-DUPDUP' in the CDS's "
            "contacts (it ignores case and trailing spaces in keys); only the record read first "
            "is written: fix one of them in the source's contacts",
        )
        for key in ("CON-09999-DUPDUP ", "con-09999-dupdup")
    ]

    history = integrator("history", "--run", str(contacts["id"]), "--workspace", str(root))
    assert history.returncode == 0, history.stderr
    shown = " ".join(history.stdout.split())
    assert "is the same key as 'CON-09999-DUPDUP'" in shown
    assert "Fix: Give one of the records another msdynce_contactnumber in Sales" in shown
