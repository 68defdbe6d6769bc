"""Big inputs in files: YAML files over the size limit are a configuration problem naming the file,
its size and the limit (exit 2) instead of minutes of parsing, and big value maps live in a CSV
file the mapping names (``{type: ValueMap, file: maps/roles.csv}``), loaded fast."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from integrator.mapping.valuefiles import load_value_file, use_workspace_root
from integrator.templates.yamldoc import MAX_YAML_BYTES
from tests.cli.test_engine_cli import CONTACTS, integrator

ROLES_MAP = "map: {'1': DecisionMaker, '2': Employee, '3': Influencer}"


def _use_file(workspace: Path, file: str) -> tuple[Path, int]:
    project = workspace / "projects" / f"{CONTACTS}.yaml"
    text = project.read_text(encoding="utf-8")
    assert ROLES_MAP in text
    project.write_text(text.replace(ROLES_MAP, f"file: {file}"), encoding="utf-8")
    lines = project.read_text(encoding="utf-8").splitlines()
    return project, next(i for i, t in enumerate(lines, 1) if f"file: {file}" in t)


def _roles_csv(path: Path, filler: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = ["source,destination", "1,DecisionMaker", "2,Employee", '"3",Influencer']
    rows += [f"X{i:07d},Employee" for i in range(filler)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_a_value_map_in_a_csv_file_maps_as_the_yaml_map_did(workspace: Path) -> None:
    _roles_csv(workspace / "maps" / "roles.csv", filler=100_000)  # about 1.7 MB
    _use_file(workspace, "maps/roles.csv")
    result = integrator("run", "--workspace", str(workspace), "--json")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    runs = json.loads(result.stdout)["runs"]
    contacts = next(r for r in runs if r["project"] == CONTACTS)["tasks"][0]
    # '3' → Influencer, from the CSV file: F&O's company has no such role, as with the YAML map
    assert {
        "key": "CON-01002-INFLUE",
        "leg": "CDS → Destination",
        "field": "DecisionMakingRoleCode",
        "message": "DecisionMakingRoleCode 'Influencer' does not exist in company USMF",
    } in contacts["errors"]
    shown = integrator("project", "show", CONTACTS, "--workspace", str(workspace))
    assert shown.returncode == 0, shown.stderr
    assert "maps/roles.csv" in " ".join(shown.stdout.split())


@pytest.mark.parametrize(
    ("content", "where", "message"),
    [
        ("source,destination\n1,DecisionMaker\n2,Employee,extra\n", ":3", "expected 2 columns"),
        ("from,to\n1,DecisionMaker\n", ":1", "header line 'source,destination'"),
        ("source,destination\n1,DecisionMaker\n1,Employee\n", ":3", "mapped again"),
    ],
)
def test_a_bad_value_map_file_names_its_line_and_the_project_line(
    workspace: Path, content: str, where: str, message: str
) -> None:
    (workspace / "maps").mkdir()
    (workspace / "maps" / "roles.csv").write_text(content, encoding="utf-8")
    _, line = _use_file(workspace, "maps/roles.csv")
    result = integrator("run", "--workspace", str(workspace))
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, output[-2000:]
    # the project's line of the transform (``- type: ValueMap``, just above ``file:``)
    assert f"{CONTACTS}.yaml:{line - 1}" in output or f"{CONTACTS}.yaml:{line}" in output
    assert f"maps/roles.csv{where}" in output and message in output
    assert "Traceback" not in output


@pytest.mark.parametrize("file", ["../outside.csv", "/etc/passwd", "maps/missing.csv"])
def test_a_value_map_file_outside_the_workspace_or_missing_is_refused(
    workspace: Path, file: str
) -> None:
    _roles_csv(workspace.parent / "outside.csv")
    _use_file(workspace, file)
    result = integrator("run", "--workspace", str(workspace))
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, output[-2000:]
    expected = "cannot read" if "missing" in file else "must be inside the workspace"
    assert expected in output and file in output
    assert "root:" not in output  # nothing of the file outside is shown


@pytest.mark.parametrize(
    "file", [f"projects/{CONTACTS}.yaml", "connections.yaml", "templates/mine.yaml"]
)
def test_a_yaml_file_over_the_limit_is_refused_naming_file_size_and_limit(
    workspace: Path, file: str
) -> None:
    project = workspace / file
    if not project.exists():
        source = workspace / "projects" / f"{CONTACTS}.yaml"
        project.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    padding = "# " + "x" * 98 + "\n"
    with project.open("a", encoding="utf-8") as handle:
        handle.write(padding * (MAX_YAML_BYTES // len(padding) + 100))
    started = time.perf_counter()
    result = integrator("run", "--workspace", str(workspace))
    elapsed = time.perf_counter() - started
    output = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 2, output[-2000:]
    assert f"{file}: the file is" in output
    assert "larger than the limit of 256 KiB" in output
    assert "KiB" in output.split("the file is", 1)[1][:20]
    assert elapsed < 60


def test_a_4_mb_csv_map_loads_in_well_under_a_second(tmp_path: Path) -> None:
    rows = ["source,destination"]
    rows += [f"SRC-{i:09d},Destination value {i:09d}" for i in range(110_000)]
    (tmp_path / "big.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert (tmp_path / "big.csv").stat().st_size > 4_000_000
    use_workspace_root(tmp_path)
    try:
        started = time.perf_counter()
        entries = load_value_file("big.csv", str.casefold)
        elapsed = time.perf_counter() - started
    finally:
        use_workspace_root(None)
    assert len(entries) == 110_000
    assert elapsed < 1.0, f"{elapsed:.2f} s"
