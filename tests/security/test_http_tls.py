"""A TLS certificate nobody told integrator to trust is a certificate problem, said so, and
not retried as if it were a passing failure; the same for Azure AD (msal, over requests), whose
authority is https only. Real TLS servers on 127.0.0.1 with throwaway CAs (trustme)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from integrator.connectors.http.auth import ClientCredentialsAuth, Secret
from integrator.connectors.http.client import ODataClient
from integrator.connectors.http.retry import RetryPolicy
from integrator.errors import CredentialsRefused, SystemUnreachable
from integrator.sandbox.testing import SandboxHandle
from tests.security.http_commands import edit_connections, init_workspace, integrator
from tests.security.http_servers import untrusted_tls_server

NOT_TRUSTED = (
    "the certificate of 127.0.0.1 is not trusted: unable to get local issuer certificate; "
    "set verify: to the CA bundle (PEM) that signed it in connections.yaml, or install that "
    "CA in the system's store"
)


def test_an_untrusted_certificate_says_so_and_is_not_retried(tmp_path: Path) -> None:
    with untrusted_tls_server(tmp_path) as server:
        client = ODataClient(f"{server.origin}/api/", retry=RetryPolicy(base_delay=0.2))
        started = time.monotonic()
        with pytest.raises(SystemUnreachable) as caught:
            client.get_json("contacts")

    assert str(caught.value) == (
        f"the system cannot be reached at {server.origin}/api/: {NOT_TRUSTED}"
    )
    assert client.requests_sent == 1 and time.monotonic() - started < 1.0
    assert server.seen == []


def test_run_against_an_untrusted_sandbox_names_the_certificate_once_per_system(
    tmp_path: Path, sandbox_tls: SandboxHandle
) -> None:
    workspace = init_workspace(tmp_path / "ws", sandbox_tls.url, fast_retries=False)
    started = time.monotonic()
    result = integrator("run", "--workspace", str(workspace))

    assert result.returncode == 3, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 3 and all(e.endswith(NOT_TRUSTED) for e in errors)
    assert time.monotonic() - started < 20  # eight attempts each would take a minute
    assert sandbox_tls.request_counts()["total"] == 0


def _azure_ad(authority: str, **options: object) -> ClientCredentialsAuth:
    # instance discovery asks login.microsoftonline.com about the authority first: this
    # machine has no internet, so the test talks to its own "Azure AD" directly
    return ClientCredentialsAuth(
        tenant_id="tenant-1",
        client_id="client-1",
        client_secret=Secret("s3cr3t-value"),
        resource="https://org.crm.dynamics.com",
        authority_host=authority,
        instance_discovery=False,
        **options,  # type: ignore[arg-type]
    )


def test_azure_ad_with_an_untrusted_certificate_names_it_and_the_authority(
    tmp_path: Path,
) -> None:
    with untrusted_tls_server(tmp_path) as server, pytest.raises(SystemUnreachable) as caught:
        _azure_ad(server.origin).token()

    assert str(caught.value) == (
        f"Azure AD cannot be reached at {server.origin}/tenant-1: no token for client "
        f"client-1: {NOT_TRUSTED}"
    )
    assert caught.value.exit_code == 3 and "s3cr3t" not in str(caught.value)


def test_azure_ad_trusts_the_ca_bundle_the_connection_names(tmp_path: Path) -> None:
    with untrusted_tls_server(tmp_path) as server:
        auth = _azure_ad(server.origin, verify=str(server.ca_certfile))
        # the handshake succeeded: what fails is that this "Azure AD" is not a real one
        with pytest.raises(CredentialsRefused, match="Unable to get authority configuration"):
            auth.token()

    assert any(path.startswith("/tenant-1/") for path in server.seen)


def test_azure_ad_out_of_reach_names_the_cause() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(SystemUnreachable) as caught:
        _azure_ad(f"https://127.0.0.1:{port}").token()

    assert str(caught.value) == (
        f"Azure AD cannot be reached at https://127.0.0.1:{port}/tenant-1: no token for "
        "client client-1: connection refused (nothing listens there)"
    )


@pytest.mark.parametrize(
    "authority", ["http://login.microsoftonline.com", "http://127.0.0.1:9", "login.test"]
)
def test_an_authority_that_is_not_https_is_refused_before_anything_is_sent(
    tmp_path: Path, sandbox_session: SandboxHandle, authority: str
) -> None:
    workspace = init_workspace(tmp_path / "ws", sandbox_session.url)
    edit_connections(
        workspace,
        "auth: {type: none}",
        "auth: {type: client_credentials, tenant_id: t1, client_id: c1, "
        f"client_secret: {{env: SALES_SECRET}}, authority: '{authority}'}}",
        1,
    )
    result = integrator("run", "--workspace", str(workspace), env={"SALES_SECRET": "s3cr3t"})

    assert result.returncode == 2, result.stdout + result.stderr
    assert (
        f"connection_sets.default.sales.auth.authority: authority {authority!r} is not an "
        "https:// URL with a host; Azure AD is reached over https only"
    ) in result.stderr
