"""Fixtures for the ``clients`` group: real third-party clients against a TLS sandbox.

- ``dataverse``: Microsoft's ``powerplatform-dataverse-client`` (``DataverseClient``) pointed at
  the sandbox's Sales service over https. It refuses ``http://`` URLs, so the sandbox serves
  TLS with a certificate made for the session (``tls_files``), trusted through
  ``REQUESTS_CA_BUNDLE`` (the ``requests`` library's documented option). It authenticates with
  :class:`FixedTokenCredential`, an azure-core ``TokenCredential`` of the test's own.
- ``finops_client``: the ``d365fo-client`` driver (``fo_driver.py``) running in the Python 3.13
  venv that ``./dev`` makes, against the F&O service over https, trusting the test CA through
  ``SSL_CERT_FILE``.

Nothing leaves 127.0.0.1: the credential never asks Azure AD, and every URL is the sandbox's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integrator.sandbox.testing import SandboxHandle, TlsFiles, running_sandbox

pytest.importorskip("PowerPlatform.Dataverse", reason="the clients extra is not installed")
from azure.core.credentials import AccessToken
from PowerPlatform.Dataverse.client import DataverseClient

ROOT = Path(__file__).resolve().parents[2]
FO_DRIVER = Path(__file__).with_name("fo_driver.py")

#: Dataverse's service root is ``<org URL>/api/data/v9.2``; the sandbox's Sales "org URL"
SALES_ORG_PATH = "/sales"
#: F&O's data service is ``<environment URL>/data``; the sandbox's F&O "environment URL"
FINOPS_ENV_PATH = "/finops"


class FixedTokenCredential:
    """An azure-core ``TokenCredential`` that hands out one fixed token and records scopes.

    The Dataverse SDK documents any ``TokenCredential`` as its credential; this one never
    talks to Azure AD (the sandbox does not check tokens).
    """

    token = "sandbox-test-token"

    def __init__(self) -> None:
        self.scopes: list[tuple[str, ...]] = []

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """A token valid for an hour, for any scope."""
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


def sales_org_url(sandbox: SandboxHandle) -> str:
    """The URL a Dataverse SDK user passes as the organization URL."""
    return sandbox.url + SALES_ORG_PATH


def dataverse_client(sandbox: SandboxHandle) -> tuple[DataverseClient, FixedTokenCredential]:
    """A ``DataverseClient`` for ``sandbox``'s Sales service and its credential."""
    credential = FixedTokenCredential()
    return DataverseClient(sales_org_url(sandbox), credential), credential


@pytest.fixture(scope="module")
def trusted_ca(tls_files: TlsFiles) -> Iterator[TlsFiles]:
    """The test CA trusted by ``requests`` (``REQUESTS_CA_BUNDLE``) for the module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REQUESTS_CA_BUNDLE", str(tls_files.ca_certfile))
        yield tls_files


@pytest.fixture(scope="module")
def sales_tls(
    tmp_path_factory: pytest.TempPathFactory, trusted_ca: TlsFiles
) -> Iterator[SandboxHandle]:
    """One TLS sandbox for a module, seeded with 20 accounts and 60 contacts (random seed 1).

    Tests that write make their own records (names no other test uses), so they can share it.
    """
    data_dir = tmp_path_factory.mktemp("sales-tls")
    with running_sandbox(data_dir, seed=(20, 60), tls=trusted_ca) as handle:
        yield handle


@pytest.fixture
def dataverse(sales_tls: SandboxHandle) -> Iterator[DataverseClient]:
    """A Dataverse SDK client on the module's sandbox, closed after the test."""
    client, _ = dataverse_client(sales_tls)
    with client:
        yield client


class FinOpsClient:
    """The ``d365fo-client`` driver process: ``call(op, **args)`` returns the client's answer."""

    def __init__(self, python: str, base_url: str, cache_dir: Path, ca_file: Path) -> None:
        env = {**os.environ, "SSL_CERT_FILE": str(ca_file), "HOME": str(cache_dir)}
        self._process = subprocess.Popen(
            [python, str(FO_DRIVER), base_url, str(cache_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def call(self, op: str, **args: Any) -> Any:
        """Run ``op``; raises :class:`FinOpsClientError` when the client raised."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(json.dumps({"op": op, "args": args}) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the d365fo-client driver exited ({self._process.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            raise FinOpsClientError(answer["error"]["type"], answer["error"]["message"])
        return answer["ok"]

    def close(self) -> None:
        """End the driver (it stops at the end of its input)."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=30)


class FinOpsClientError(Exception):
    """What d365fo-client raised: its exception type and message."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


def finops_python() -> str:
    """The Python 3.13 interpreter that has d365fo-client (``./dev`` makes ``.venv-fo``)."""
    python = os.environ.get("INTEGRATOR_FO_CLIENT_PYTHON") or str(ROOT / ".venv-fo/bin/python")
    if sys.version_info >= (3, 13) and not Path(python).exists():
        python = sys.executable
    if not Path(python).exists():
        message = (
            "d365fo-client needs Python >= 3.13: run `./dev test`, which makes .venv-fo, "
            "or set INTEGRATOR_FO_CLIENT_PYTHON"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return python


@pytest.fixture(scope="module")
def finops_tls(
    tmp_path_factory: pytest.TempPathFactory, tls_files: TlsFiles
) -> Iterator[SandboxHandle]:
    """One TLS sandbox for a module (reference data; tests add their own customers)."""
    with running_sandbox(tmp_path_factory.mktemp("finops-tls"), tls=tls_files) as handle:
        yield handle


@pytest.fixture(scope="module")
def finops_client(
    finops_tls: SandboxHandle, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FinOpsClient]:
    """One d365fo-client (one process, one session) on the module's F&O sandbox."""
    assert finops_tls.ca_certfile is not None
    client = FinOpsClient(
        finops_python(),
        finops_tls.url + FINOPS_ENV_PATH,
        tmp_path_factory.mktemp("d365fo-home"),
        finops_tls.ca_certfile,
    )
    try:
        yield client
    finally:
        client.close()
