"""Secrets are references: resolved at use time, never in repr, str, messages or YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrator.config import SecretRef, load_workspace
from integrator.errors import ConfigError
from integrator.templates.yamldoc import dump_text
from tests.config.helpers import edit, line_containing

SECRET = "s3cr3t-Value-42"

CLIENT_CREDENTIALS = """\
      auth:
        type: client_credentials
        tenant_id: contoso.onmicrosoft.com
        client_id: 00000000-0000-0000-0000-000000000001
        client_secret: {env: SALES_SECRET}
"""


def test_secret_from_environment_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALES_SECRET", SECRET)
    ref = SecretRef(env="SALES_SECRET")
    value = ref.resolve()
    assert value.get_secret_value() == SECRET
    for shown in (repr(value), str(value), repr(ref), str(ref), ref.model_dump_json()):
        assert SECRET not in shown


def test_secret_from_file_relative_to_workspace(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text(SECRET + "\n")
    (tmp_path / "secrets" / "token").chmod(0o600)
    assert SecretRef(file="secrets/token").resolve(tmp_path).get_secret_value() == SECRET
    with pytest.raises(ConfigError, match="cannot read the secret file"):
        SecretRef(file="secrets/missing").resolve(tmp_path)


def test_missing_environment_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(ConfigError, match="environment variable NOT_SET_ANYWHERE is not set"):
        SecretRef(env="NOT_SET_ANYWHERE").resolve()


def test_client_credentials_connection_keeps_secret_out_of_everything(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALES_SECRET", SECRET)
    path = workspace / "connections.yaml"
    edit(path, "      auth: {type: none}\n", CLIENT_CREDENTIALS)
    ws = load_workspace(workspace)
    sales = ws.connection_sets["default"].sales
    assert sales is not None and sales.auth.client_secret is not None
    assert sales.auth.client_secret.resolve().get_secret_value() == SECRET
    for shown in (repr(ws), str(ws.connection_sets), dump_text(ws.documents["connections.yaml"])):
        assert SECRET not in shown
    assert SECRET not in path.read_text()


def test_a_secret_written_in_the_file_is_refused_without_echoing_it(workspace: Path) -> None:
    path = workspace / "connections.yaml"
    edit(path, "      auth: {type: none}\n", f"      auth: {{type: token, token: {SECRET}}}\n")
    with pytest.raises(ConfigError) as caught:
        load_workspace(workspace)
    message = str(caught.value)
    assert "never the secret itself" in message
    assert f"connections.yaml:{line_containing(path, 'auth: {type: token, token: s3')}:" in message
    assert SECRET not in message
