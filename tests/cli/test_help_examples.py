"""Every command's ``--help`` shows an example, and the examples work as written: typed in
order in one folder, against a sandbox (only its URL put in for ``127.0.0.1:8700``)."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from integrator.cli.main import app
from integrator.sandbox.testing import SandboxHandle
from tests.golden.dataset import load_sales

runner = CliRunner()

#: the examples in the order a newcomer types them; exit 1 is a run that ended in Error
ORDER = [
    ("init", (0,)),
    ("template list", (0,)),
    ("template save", (0,)),
    ("project new", (0,)),
    ("project show", (0,)),
    ("transforms", (0,)),
    ("upgrade", (0,)),
    ("run", (0,)),
    ("history", (0,)),
    ("schedule", (0,)),
    ("rerun", (0, 1)),
    ("cancel", (0,)),  # run 2 has ended: it says so
    ("sandbox seed", (0,)),
]
#: examples that do not end by themselves (the two serve commands, which tests/serve and the
#: sandbox fixtures start, and worker, which tests/distributed starts) or are run by their own
#: tests (demo)
NOT_RUN_HERE = {"sandbox serve", "serve", "demo", "worker"}


def is_group(command: Any) -> bool:
    return hasattr(command, "commands")


def commands(group: Any, prefix: str = "") -> dict[str, Any]:
    """Every command and group below ``group`` (a Click group), by its full name (``""``: the
    application itself)."""
    found: dict[str, Any] = {prefix: group}
    for name, command in group.commands.items():
        path = f"{prefix} {name}".strip()
        if is_group(command):
            found.update(commands(command, path))
        else:
            found[path] = command
    return found


def example_of(command: Any) -> str:
    lines = (command.help or "").splitlines()
    return next(line.strip().removeprefix("Example: ") for line in lines if "Example: " in line)


ALL = commands(typer.main.get_group(app))


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_help_shows_an_example(name: str) -> None:
    result = runner.invoke(app, [*name.split(), "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert f"Example: {example_of(ALL[name])}" in result.stdout


def test_the_examples_work_as_written(
    tmp_path: Path, sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaves = {name for name, command in ALL.items() if not is_group(command)}
    assert leaves == {name for name, _ in ORDER} | NOT_RUN_HERE
    load_sales(sandbox.data_dir)
    monkeypatch.chdir(tmp_path)
    for name, codes in ORDER:
        example = example_of(ALL[name]).replace("http://127.0.0.1:8700", sandbox.url)
        words = shlex.split(example)
        assert words[: 1 + len(name.split())] == ["integrator", *name.split()], example
        result = runner.invoke(app, words[1:])
        assert result.exit_code in codes, f"{example}\n{result.stdout}\n{result.stderr}"
        assert "error" not in result.stderr.casefold(), f"{example}\n{result.stderr}"
