"""Issue 11 item 9: a database URL carries no password, in whatever form a driver would read
it, for a ``kind: sql`` connection and the history database alike (one check); the password
comes from ``sql.password`` / ``database_password``, a secret reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from integrator.cli.main import app
from tests.config.helpers import ACCOUNTS, SANDBOX, edit

FINOPS = '      kind: finops\n      url: "' + SANDBOX + '/finops/data/"\n'
PASSWORD = "hunter2-Secret"
INLINE = [
    f"postgresql+psycopg://app:{PASSWORD}@db/erp",
    f"postgresql+psycopg://app@db/erp?password={PASSWORD}",
    f"postgresql+psycopg://app@db/erp?sslmode=require&PASSWORD={PASSWORD}",
    f"mysql+pymysql://app@db/erp?passwd={PASSWORD}",
    f"mssql+pyodbc:///?odbc_connect=DRIVER%3DX%3BUID%3Dapp%3BPWD%3D{PASSWORD}",
    f"sqlite:///staging.db?password={PASSWORD}",
]


def run(workspace: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["run", ACCOUNTS, "--workspace", str(workspace)])
    return result.exit_code, result.stderr


@pytest.mark.parametrize("url", INLINE)
def test_a_sql_connection_url_with_a_password_is_refused(workspace: Path, url: str) -> None:
    edit(workspace / "connections.yaml", FINOPS, f'      kind: sql\n      url: "{url}"\n')

    code, err = run(workspace)

    assert code == 2
    assert "the URL holds a password: remove it and set sql: {password: {env: VAR_NAME}}" in err
    assert PASSWORD not in err


@pytest.mark.parametrize("url", INLINE[1:3])
def test_a_history_url_with_a_password_parameter_is_refused(workspace: Path, url: str) -> None:
    edit(workspace / "integrator.yaml", "database_url: null", f'database_url: "{url}"')

    code, err = run(workspace)

    assert code == 2
    assert "database_url holds a password" in err
    assert PASSWORD not in err
