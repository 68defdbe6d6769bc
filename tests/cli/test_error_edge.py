"""The CLI's edge (``cli/errors.py``): an expected error is words and its exit code, a bug
keeps its traceback, ``--json`` gets a document for every outcome."""

from __future__ import annotations

import json
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from integrator.cli.errors import with_exit_codes
from integrator.errors import (
    ConfigError,
    ConfigProblem,
    IntegratorError,
    RequestRejected,
    SystemUnreachable,
    UnavailableSystems,
)


def _app(error: BaseException) -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)

    @app.command()
    @with_exit_codes(interruptible=True)
    def fail(json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
        """Raise the error under test."""
        raise error

    return app


def _invoke(error: BaseException, *args: str) -> tuple[int, str, str, BaseException | None]:
    result = CliRunner().invoke(_app(error), list(args))
    return result.exit_code, result.stdout, result.stderr, result.exception


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ConfigError("no project named X"), 2),
        (RequestRejected("HTTP 400: bad"), 1),
        (SystemUnreachable("connection refused", url="http://h/", system="sales"), 3),
        (KeyboardInterrupt(), 130),
    ],
)
def test_expected_errors_end_with_their_exit_code_and_no_traceback(
    error: BaseException, code: int
) -> None:
    exit_code, stdout, stderr, exception = _invoke(error)

    assert exit_code == code
    assert isinstance(exception, SystemExit)  # typer.Exit, not the error itself
    assert "Traceback" not in stdout + stderr
    assert stderr.strip()  # said in words, on stderr
    assert stdout == ""


def test_a_bug_keeps_its_traceback() -> None:
    exit_code, _, _, exception = _invoke(ZeroDivisionError("division by zero"))

    assert exit_code == 1
    assert isinstance(exception, ZeroDivisionError)


def test_a_configuration_error_names_file_and_line_and_with_json_lists_the_problems() -> None:
    error = ConfigError([ConfigProblem("projects/a.yaml", 7, 'project "a"', "unknown field")])

    _, stdout, stderr, _ = _invoke(error)
    assert stderr.splitlines() == [
        "The configuration is not valid; nothing was run or written:",
        '  projects/a.yaml:7: project "a": unknown field',
    ]
    assert stdout == ""

    exit_code, stdout, _, _ = _invoke(error, "--json")
    assert exit_code == 2
    assert json.loads(stdout) == {
        "problems": [
            {
                "file": "projects/a.yaml",
                "line": 7,
                "path": 'project "a"',
                "message": "unknown field",
            }
        ]
    }


def test_any_other_error_with_json_is_code_and_message_on_stdout() -> None:
    exit_code, stdout, _, _ = _invoke(IntegratorError("it broke"), "--json")

    assert exit_code == 1
    assert json.loads(stdout) == {"error": {"code": "error", "message": "it broke"}}


def test_unavailable_systems_are_one_line_each_however_long() -> None:
    long_url = "http://a-very-long-host-name.example.test:8700/sales/api/data/v9.2/" * 2
    error = UnavailableSystems(
        [
            SystemUnreachable("connection refused", url=long_url, system="sales"),
            SystemUnreachable("connection refused", url="http://h/cds/", system="cds"),
        ]
    )

    exit_code, _, stderr, _ = _invoke(error)

    assert exit_code == 3
    assert stderr.splitlines() == [
        f"error: sales cannot be reached at {long_url}: connection refused",
        "error: cds cannot be reached at http://h/cds/: connection refused",
        "Nothing was run or written.",
    ]


def test_an_interrupt_with_json_is_a_document_too() -> None:
    exit_code, stdout, stderr, _ = _invoke(KeyboardInterrupt(), "--json")

    assert exit_code == 130
    assert json.loads(stdout) == {"error": {"code": "interrupted", "message": "interrupted"}}
    assert stderr.strip() == "interrupted"
