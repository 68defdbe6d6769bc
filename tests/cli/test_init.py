"""``integrator init`` (with and without ``--direct``) and ``integrator template list|save``
through the real command line; a direct workspace run end to end against a sandbox."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from integrator.cli.main import app
from integrator.sandbox.testing import SandboxHandle
from tests.commands import integrator
from tests.golden.dataset import load_sales

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
CUSTOMERS = "Contacts to Customer (Sales to Fin and Ops)"
DIRECT = [f"{name} - Direct" for name in (ACCOUNTS, CONTACTS, CUSTOMERS)]
SANDBOX = "http://127.0.0.1:8700"

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_init_creates_a_workspace_with_one_project_per_template(tmp_path: Path) -> None:
    code, out, err = invoke("init", str(tmp_path / "ws"), "--sandbox", SANDBOX)
    assert (code, err) == (0, "")
    assert f"Created workspace {tmp_path / 'ws'}" in out
    for name in (ACCOUNTS, CONTACTS, CUSTOMERS):
        assert (tmp_path / "ws" / "projects" / f"{name}.yaml").is_file()
        assert f"projects/{name}.yaml" in out
    connections = (tmp_path / "ws" / "connections.yaml").read_text()
    assert f'url: "{SANDBOX}/finops/data/"' in connections
    assert "finops_legal_entity: USMF" in connections


def test_init_without_direct_writes_only_the_seeds_three_projects(tmp_path: Path) -> None:
    assert invoke("init", str(tmp_path / "ws"), "--sandbox", SANDBOX)[0] == 0
    projects = sorted(p.name for p in (tmp_path / "ws" / "projects").iterdir())
    assert projects == [f"{name}.yaml" for name in (ACCOUNTS, CONTACTS, CUSTOMERS)]
    assert (
        f'url: "{SANDBOX}/cds/api/data/v9.2/"' in (tmp_path / "ws" / "connections.yaml").read_text()
    )


def test_init_direct_writes_the_direct_projects_and_sales_and_finops_only(tmp_path: Path) -> None:
    code, out, err = invoke("init", str(tmp_path / "ws"), "--sandbox", SANDBOX, "--direct")
    assert (code, err) == (0, "")
    assert f"connection set 'default' (Sales and F&O, direct) → {SANDBOX}" in out
    projects = sorted(p.name for p in (tmp_path / "ws" / "projects").iterdir())
    assert projects == [f"{name}.yaml" for name in DIRECT]
    for name in DIRECT:
        assert f"projects/{name}.yaml" in out
    contacts = (tmp_path / "ws" / "projects" / f"{DIRECT[1]}.yaml").read_text()
    assert f'template: "{DIRECT[1]}"' in contacts
    assert "source_to_destination:" in contacts and "cds" not in contacts.split("tasks:")[1]
    assert "# The company (parent account) by its Account Number" in contacts  # comments kept
    connections = (tmp_path / "ws" / "connections.yaml").read_text()
    assert f'url: "{SANDBOX}/sales/api/data/v9.2/"' in connections
    assert f'url: "{SANDBOX}/finops/data/"' in connections
    assert "/cds/" not in connections and "cds:" not in connections
    assert "finops_legal_entity: USMF" in connections


def test_init_twice_is_a_clean_error_with_exit_code_2(tmp_path: Path) -> None:
    assert invoke("init", str(tmp_path), "--sandbox", SANDBOX)[0] == 0
    code, out, err = invoke("init", str(tmp_path), "--sandbox", SANDBOX)
    assert code == 2
    assert err == f"error: {tmp_path} is already a workspace (integrator.yaml exists)\n"
    assert "Traceback" not in out + err


def test_init_without_sandbox_is_bad_usage(tmp_path: Path) -> None:
    code, _, err = invoke("init", str(tmp_path))
    assert code == 2
    assert "--sandbox" in err


@pytest.mark.parametrize(
    ("args", "example"),
    [
        (["init", "--help"], "integrator init ./p2c --sandbox http://127.0.0.1:8700"),
        (["template", "list", "--help"], "integrator template list --workspace ./p2c"),
        (["template", "save", "--help"], 'integrator template save "Accounts (Sales to Fin'),
    ],
)
def test_help_shows_an_example(args: list[str], example: str) -> None:
    code, out, _ = invoke(*args)
    assert code == 0
    assert example in " ".join(out.split())


def test_template_list_and_save_from_inside_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    assert invoke("init", str(root), "--sandbox", SANDBOX)[0] == 0
    monkeypatch.chdir(root / "projects")

    code, out, _ = invoke("template", "save", "accounts", "Accounts EU")
    assert code == 0
    assert f'Saved template "Accounts EU" to {root / "templates" / "Accounts EU.yaml"}' in out

    code, out, _ = invoke("template", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (f"{ACCOUNTS}  (shipped, read-only)  tasks: Accounts; required prior: none")
    assert lines[1].startswith(f"{CONTACTS}  (shipped, read-only)  tasks: Contacts;")
    assert lines[4] == (
        f"{DIRECT[1]}  (shipped, read-only)  tasks: Contacts; required prior: {DIRECT[0]}"
    )
    assert lines[6] == (
        "Accounts EU  (workspace: templates/Accounts EU.yaml)  tasks: Accounts; "
        "required prior: none"
    )

    code, _, err = invoke("template", "save", "accounts", "Accounts EU")
    assert code == 2
    assert err == 'error: a template named "Accounts EU" already exists\n'


def test_template_save_of_an_unknown_project(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    assert invoke("init", str(root), "--sandbox", SANDBOX)[0] == 0
    code, _, err = invoke("template", "save", "Leads", "X", "--workspace", str(root))
    assert code == 2
    assert err.startswith(f'error: no project named "Leads" in {root} (projects: "Accounts')


def test_template_list_outside_a_workspace_lists_the_shipped_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = invoke("template", "list")
    assert code == 0
    assert [line.split("  ")[0] for line in out.splitlines()] == [
        ACCOUNTS,
        CONTACTS,
        CUSTOMERS,
        *DIRECT,
    ]


def test_template_list_shows_a_broken_workspace_template_with_its_problem(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    assert invoke("init", str(root), "--sandbox", SANDBOX)[0] == 0
    (root / "templates" / "Half done.yaml").write_text("name: Half done\ntasks: []\n")
    code, out, _ = invoke("template", "list", "-w", str(root))
    assert code == 0
    assert out.splitlines()[-2:] == [
        "Half done  (workspace: templates/Half done.yaml)  INVALID: 1 problem(s)",
        '    templates/Half done.yaml:1: template "Half done": tasks: at least one task is needed',
    ]


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def test_a_direct_workspace_runs_reruns_and_lists_end_to_end(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    load_sales(sandbox.data_dir)
    root = tmp_path / "ws"
    made = integrator("init", str(root), "--sandbox", sandbox.url, "--direct")
    assert made.returncode == 0, made.stderr
    sandbox.reset_request_counts()

    done = integrator("run", "--workspace", str(root), "--json")
    assert done.returncode == 0, done.stderr  # Warnings, no Error
    runs = _json(done)["runs"]
    assert [r["project"] for r in runs] == DIRECT  # Accounts - Direct first: the prerequisite
    assert [r["status"] for r in runs] == ["Warning"] * 3
    counts = {r["project"]: r["tasks"][0]["counts"] for r in runs}
    assert counts[DIRECT[0]] == {
        "read": 5,
        "inserted": 4,
        "updated": 0,
        "unchanged": 0,
        "errors": 1,
    }
    contacts = runs[1]["tasks"][0]
    assert {
        "key": "CON-01002-INFLUE",
        "leg": "Source → Destination",
        "field": "DecisionMakingRoleCode",
        "message": "DecisionMakingRoleCode 'Influencer' does not exist in company USMF",
    } in contacts["errors"]
    requests = sandbox.request_counts()["requests"]
    assert "cds" not in requests  # no CDS in between
    assert requests["finops"]

    listed = _json(integrator("history", "--json", cwd=root / "projects"))["runs"]
    assert [r["project"] for r in listed] == DIRECT[::-1]  # newest first
    detail = integrator("history", "--run", str(runs[1]["id"]), "--workspace", str(root))
    assert detail.returncode == 0
    assert "CON-01002-INFLUE" in detail.stdout and "Source → Destination" in detail.stdout

    again = integrator("rerun", str(runs[1]["id"]), "--workspace", str(root), "--json")
    rerun = _json(again)["runs"][0]
    assert rerun["project"] == DIRECT[1] and rerun["rerun_of"] == runs[1]["id"]
    assert rerun["tasks"][0]["counts"]["read"] == contacts["counts"]["errors"] == 2
    # every retried record failed again the same way: still failing, a Warning (SPEC §7)
    assert again.returncode == 0 and rerun["status"] == "Warning"

    listing = integrator("template", "list", "--workspace", str(root))
    assert listing.returncode == 0
    assert (
        f"{DIRECT[2]}  (shipped, read-only)  tasks: ContactToCustomer; required prior: "
        f"{DIRECT[0]}" in listing.stdout
    )


def test_a_three_system_project_in_a_direct_workspace_is_a_configuration_error(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    root = tmp_path / "ws"
    assert integrator("init", str(root), "--sandbox", sandbox.url, "--direct").returncode == 0
    seed_project = tmp_path / "seed"
    assert integrator("init", str(seed_project), "--sandbox", sandbox.url).returncode == 0
    copied = root / "projects" / f"{ACCOUNTS}.yaml"
    copied.write_text((seed_project / "projects" / f"{ACCOUNTS}.yaml").read_text())
    result = integrator("run", "--workspace", str(root))
    assert result.returncode == 2
    output = " ".join((result.stdout + result.stderr).split())
    assert (
        f'projects/{ACCOUNTS}.yaml:5: project "{ACCOUNTS}", connection_set: connection set '
        '"default" has no cds connection' in output
    )
    assert "nothing was run or written" in output
    assert sandbox.request_counts()["requests"].get("finops", {}).get("PATCH", 0) == 0
