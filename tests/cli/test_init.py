"""``integrator init`` and ``integrator template list|save`` through the real command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from integrator.cli.main import app

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
CONTACTS = "Contacts to Contact (Sales to Fin and Ops)"
CUSTOMERS = "Contacts to Customer (Sales to Fin and Ops)"
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
    assert lines[3] == (
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
    assert [line.split("  ")[0] for line in out.splitlines()] == [ACCOUNTS, CONTACTS, CUSTOMERS]


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
