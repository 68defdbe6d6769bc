"""connections.yaml as a user edits it: every connection setting is read from the file, and a
wrong one is a problem with file, line and path, never a traceback later."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from integrator.cli.main import app
from integrator.config import load_workspace
from integrator.connectors.dataverse import DataverseConnection
from integrator.connectors.finops import FinOpsConnection
from integrator.errors import ConfigProblem
from tests.config.helpers import SANDBOX, edit, line_containing

SALES = '      kind: dataverse\n      url: "' + SANDBOX + '/sales/api/data/v9.2/"\n'
FINOPS = '      kind: finops\n      url: "' + SANDBOX + '/finops/data/"\n'


def _problems(workspace: Path) -> list[ConfigProblem]:
    return load_workspace(workspace, strict=False).problems


def test_every_documented_setting_is_read_from_the_file(workspace: Path) -> None:
    connections = workspace / "connections.yaml"
    edit(
        connections,
        SALES,
        SALES
        + "      verify: false\n"
        + "      timeouts: {connect_seconds: 3, read_seconds: 45}\n"
        + "      budget: {requests: 1200, window_seconds: 60, concurrent: 8}\n"
        + "      retry: {attempts: 3, base_delay_seconds: 0.1, max_delay_seconds: 2}\n"
        + "      page_size: 500\n"
        + "      batch_size: 200\n"
        + "      parallel_batches: 2\n"
        + "      bulk_messages: never\n",
    )
    edit(
        connections,
        FINOPS,
        FINOPS
        + "      verify: certs/ca.pem\n"
        + "      finops: {string_lengths: false, cross_company: false}\n",
    )

    connection_set = load_workspace(workspace).connection_sets["default"]

    sales, finops = connection_set.sales, connection_set.finops
    assert isinstance(sales, DataverseConnection) and isinstance(finops, FinOpsConnection)
    assert sales.verify is False and finops.verify == "certs/ca.pem"
    assert (sales.timeouts.connect_seconds, sales.timeouts.read_seconds) == (3, 45)
    assert (sales.budget.requests, sales.budget.window_seconds, sales.budget.concurrent) == (
        1200,
        60,
        8,
    )
    assert (sales.retry.attempts, sales.retry.max_delay_seconds) == (3, 2)
    assert (sales.page_size, sales.batch_size, sales.parallel_batches) == (500, 200, 2)
    assert sales.bulk_messages == "never"
    assert (finops.finops.string_lengths, finops.finops.cross_company) == (False, False)
    assert finops.page_size == 10000  # F&O's own default


@pytest.mark.parametrize(
    ("after_url", "needle", "path", "message"),
    [
        (
            "      timeouts: {connect_seconds: 3, reed_seconds: 45}\n",
            "reed_seconds",
            "connection_sets.default.sales.timeouts",
            "unknown key 'reed_seconds'",
        ),
        (
            "      budget: {requests: 0}\n",
            "budget:",
            "connection_sets.default.sales.budget.requests",
            "Input should be greater than 0",
        ),
        (
            "      page_size: 6000\n",
            "page_size",
            "connection_sets.default.sales.page_size",
            "Input should be less than or equal to 5000",
        ),
        (
            "      batch_size: 5000\n",
            "batch_size",
            "connection_sets.default.sales.batch_size",
            "Input should be less than or equal to 1000",
        ),
        (
            "      verify: ''\n",
            "verify",
            "connection_sets.default.sales.verify",
            "verify is true, false, or the path of a CA bundle (PEM)",
        ),
        (
            "      finops: {string_lengths: false}\n",
            "string_lengths",
            "connection_sets.default.sales",
            "unknown key 'finops'",
        ),
        (
            "      sql: {schema: staging}\n",
            "schema: staging",
            "connection_sets.default.sales",
            "unknown key 'sql'",
        ),
    ],
)
def test_a_wrong_setting_is_a_problem_at_its_line(
    workspace: Path, after_url: str, needle: str, path: str, message: str
) -> None:
    connections = workspace / "connections.yaml"
    edit(connections, SALES, SALES + after_url)

    assert _problems(workspace) == [
        ConfigProblem("connections.yaml", line_containing(connections, needle), path, message)
    ]


def test_a_url_without_scheme_is_a_problem_naming_the_fix(workspace: Path) -> None:
    connections = workspace / "connections.yaml"
    edit(connections, f'"{SANDBOX}/sales/api/data/v9.2/"', '"127.0.0.1:8700/sales/api/data/v9.2/"')

    assert _problems(workspace) == [
        ConfigProblem(
            "connections.yaml",
            line_containing(connections, "127.0.0.1:8700/sales"),
            "connection_sets.default.sales.url",
            "'127.0.0.1:8700/sales/api/data/v9.2/' is not an http(s) URL with a host "
            "(write it as 'http://127.0.0.1:8700/sales/api/data/v9.2/')",
        )
    ]


def test_an_unknown_kind_names_the_known_ones(workspace: Path) -> None:
    connections = workspace / "connections.yaml"
    edit(connections, "      kind: finops\n", "      kind: dynamics\n")

    assert _problems(workspace) == [
        ConfigProblem(
            "connections.yaml",
            line_containing(connections, "kind: dynamics") - 1,  # the connection's own line
            "connection_sets.default.finops",
            "a connection needs a kind: dataverse, finops, sql",
        )
    ]


def test_a_sql_connection_keeps_its_password_out_of_the_url(workspace: Path) -> None:
    connections = workspace / "connections.yaml"
    edit(connections, FINOPS, '      kind: sql\n      url: "postgresql://app:hunter2@db/erp"\n')

    (problem,) = _problems(workspace)
    assert problem.path == "connection_sets.default.finops.url"
    assert problem.message == (
        "the URL holds a password: remove it and set sql: {password: {env: VAR_NAME}}"
    )
    assert "hunter2" not in f"{problem}"


def test_init_refuses_a_sandbox_url_without_scheme_and_writes_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["init", str(tmp_path / "ws"), "--sandbox", "127.0.0.1:8700"])

    assert result.exit_code == 2
    assert result.stderr == (
        "error: --sandbox '127.0.0.1:8700' is not an http(s) URL with a host "
        "(write it as 'http://127.0.0.1:8700')\n"
    )
    assert not (tmp_path / "ws").exists()
