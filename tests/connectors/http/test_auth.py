"""Authentication: tokens reach the server, secrets reach nothing else."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrator.connectors.configuration import Auth
from integrator.connectors.http.auth import ClientCredentialsAuth, Secret, StaticTokenAuth
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.clients import sign_in
from integrator.errors import ConfigError, CredentialsRefused, SystemUnreachable
from integrator.secrets import SecretRef

SECRET = "s3cr3t-Value~xyz"


class TokenService:
    """Stands in for Azure AD behind msal's interface: counts calls, caches like msal does."""

    def __init__(self, *, refuse: bool = False) -> None:
        self.calls = 0
        self.issued = 0
        self.cached: str | None = None
        self.refuse = refuse

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
        self.calls += 1
        assert scopes == ["https://org.crm.dynamics.com/.default"]
        if self.refuse:
            return {
                "error": "invalid_client",
                "error_description": "AADSTS7000215: Invalid client secret provided.\nTrace",
            }
        if self.cached is None:
            self.issued += 1
            self.cached = f"token-{self.issued}"
        return {"access_token": self.cached, "token_type": "Bearer"}

    def remove_tokens_for_client(self) -> None:
        self.cached = None


def _auth(service: TokenService) -> ClientCredentialsAuth:
    return ClientCredentialsAuth(
        tenant_id="tenant-1",
        client_id="client-1",
        client_secret=Secret(SECRET),
        resource="https://org.crm.dynamics.com",
        app_factory=lambda: service,
    )


def test_secret_never_shows_in_repr_str_or_format() -> None:
    secret = Secret(SECRET)
    auth = _auth(TokenService())

    for text in (repr(secret), str(secret), f"{secret}", repr(auth), repr([auth, secret])):
        assert SECRET not in text
    assert secret.reveal() == SECRET


def test_client_credentials_token_is_sent_cached_and_refreshed_after_401() -> None:
    service = TokenService()
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        if len(seen) == 3:
            return httpx.Response(401)
        return httpx.Response(200, json={})

    client = httpx.Client(transport=httpx.MockTransport(handler), auth=_auth(service))
    for _ in range(3):
        client.get("https://org.crm.dynamics.com/api/data/v9.2/contacts")

    assert seen == ["Bearer token-1", "Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert service.issued == 2


def test_a_refused_token_names_the_client_and_reason_but_not_the_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200)),
        auth=_auth(TokenService(refuse=True)),
    )

    with pytest.raises(CredentialsRefused) as caught:
        client.get("https://org.crm.dynamics.com/api/data/v9.2/contacts")

    message = str(caught.value)
    assert "client-1" in message and "invalid_client" in message and "AADSTS7000215" in message
    assert caught.value.exit_code == 3  # refused the credentials: nothing can run
    assert SECRET not in message
    assert SECRET not in caplog.text


def test_a_refused_token_through_the_client_names_the_service_url() -> None:
    client = ODataClient(
        "https://org.crm.dynamics.com/api/data/v9.2/",
        transport=httpx.MockTransport(lambda r: httpx.Response(200)),
        auth=_auth(TokenService(refuse=True)),
    )

    with pytest.raises(CredentialsRefused) as caught:
        client.get_json("contacts")

    assert str(caught.value).startswith(
        "the system refused the credentials at https://org.crm.dynamics.com/api/data/v9.2/: "
        "Azure AD refused a token for client client-1 in tenant tenant-1: invalid_client"
    )
    assert client.requests_sent == 1  # a refusal is not retried


def test_azure_ad_out_of_reach_is_named_with_its_authority() -> None:
    class Offline(TokenService):
        def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
            raise ConnectionError("Max retries exceeded with url: /tenant-1/oauth2/v2.0/token")

    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200)), auth=_auth(Offline())
    )

    with pytest.raises(SystemUnreachable) as caught:
        client.get("https://org.crm.dynamics.com/api/data/v9.2/contacts")

    assert str(caught.value) == (
        "Azure AD cannot be reached at https://login.microsoftonline.com/tenant-1: "
        "no token for client client-1: ConnectionError"
    )


def _app_credentials(**extra: str) -> Auth:
    """connections.yaml's ``auth: {type: client_credentials, ...}`` for app tenant-9/client-9,
    its secret in the environment variable SALES_CLIENT_SECRET."""
    return Auth(
        type="client_credentials",
        tenant_id="tenant-9",
        client_id="client-9",
        client_secret=SecretRef(env="SALES_CLIENT_SECRET"),
        **extra,  # type: ignore[arg-type]
    )


def test_missing_secrets_are_named_without_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SALES_CLIENT_SECRET", raising=False)
    with pytest.raises(ConfigError) as caught:
        sign_in(_app_credentials(), "https://org.crm.dynamics.com/api/data/v9.2/", tmp_path)
    assert str(caught.value) == "the environment variable SALES_CLIENT_SECRET is not set"

    token = Auth(type="token", token=SecretRef(file="secrets/sales.token"))
    with pytest.raises(ConfigError, match=r"cannot read the secret file .*secrets/sales.token"):
        sign_in(token, "https://org.crm.dynamics.com/api/data/v9.2/", tmp_path)


def test_client_credentials_build_a_real_msal_app_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALES_CLIENT_SECRET", SECRET)
    config = _app_credentials()

    auth = sign_in(config, "https://org.crm.dynamics.com/api/")

    assert isinstance(auth, ClientCredentialsAuth)
    assert auth.scopes == ["https://org.crm.dynamics.com/.default"]
    assert auth.authority == "https://login.microsoftonline.com/tenant-9"
    assert auth.identity == "aad:tenant-9:client-9"
    assert SECRET not in repr(auth) and SECRET not in repr(config)


def test_a_scope_and_an_authority_replace_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SALES_CLIENT_SECRET", SECRET)
    config = _app_credentials(
        scope="https://other.crm.dynamics.com/.default",
        authority="https://login.microsoftonline.us",
    )

    auth = sign_in(config, "https://org.crm.dynamics.com/api/")

    assert isinstance(auth, ClientCredentialsAuth)
    assert auth.scopes == ["https://other.crm.dynamics.com/.default"]
    assert auth.authority == "https://login.microsoftonline.us/tenant-9"


def test_static_token_is_sent_as_bearer_and_masked(tmp_path: Path) -> None:
    (tmp_path / "sales.token").write_text(SECRET + "\n", encoding="utf-8")
    (tmp_path / "sales.token").chmod(0o600)  # a secret file open to others is refused
    auth = sign_in(Auth(type="token", token=SecretRef(file="sales.token")), "http://h/", tmp_path)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Authorization"])
        return httpx.Response(200)

    httpx.Client(transport=httpx.MockTransport(handler), auth=auth).get("http://127.0.0.1/x")

    assert isinstance(auth, StaticTokenAuth)
    assert seen == [f"Bearer {SECRET}"]
    assert SECRET not in repr(auth) and SECRET not in auth.identity


def test_errors_from_a_real_server_never_carry_the_token(
    sandbox: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from integrator.connectors.dataverse import DataverseConnection
    from integrator.connectors.registry import open_connection
    from integrator.errors import IntegratorError

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SANDBOX_TOKEN", SECRET)
    config = DataverseConnection(
        url=sandbox.sales, auth=Auth(type="token", token=SecretRef(env="SANDBOX_TOKEN"))
    )
    connector = open_connection(config)
    shown = [repr(connector), repr(config), repr(connector.client)]
    for bad in (
        lambda: connector.describe("nope"),
        lambda: list(connector.read("contacts", ["nope"])),
        lambda: list(
            connector.read("contacts", ["lastname"], filter="lastname eq 'x' and foo eq 1")
        ),
    ):
        with pytest.raises(IntegratorError) as caught:
            bad()
        shown.append(str(caught.value))

    assert all(SECRET not in text for text in shown)
    assert SECRET not in caplog.text
