"""The sandbox over TLS: what the client tests stand on, and ``sandbox serve --tls-cert``."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from integrator.sandbox.server import SandboxServer
from integrator.sandbox.stores import SandboxStore
from integrator.sandbox.testing import SandboxHandle, TlsFiles

pytestmark = pytest.mark.clients


def test_tls_sandbox_serves_https_trusted_only_through_the_test_ca(
    sandbox_tls: SandboxHandle,
) -> None:
    assert sandbox_tls.url.startswith("https://127.0.0.1:")
    trusted = ssl.create_default_context(cafile=str(sandbox_tls.ca_certfile))
    r = httpx.get(sandbox_tls.sales + "contacts", verify=trusted, timeout=30)
    assert r.status_code == 200
    assert r.json()["value"] == []
    # the certificate is the test's own: the system's trust store does not know it
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(sandbox_tls.sales + "contacts", timeout=30)
    # the handle's own helpers speak TLS too
    sandbox_tls.reset_request_counts()
    assert sandbox_tls.request_counts()["total"] == 0


def test_server_needs_both_certificate_and_key(tmp_path: Path, tls_files: TlsFiles) -> None:
    store = SandboxStore.open(tmp_path / "sb")
    with pytest.raises(ValueError, match="both"):
        SandboxServer(store, port=0, tls_certfile=tls_files.certfile)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_cli_serve_with_tls_cert_and_key(tmp_path: Path, tls_files: TlsFiles) -> None:
    port = _free_port()
    command = [
        sys.executable, "-m", "integrator.cli.main", "sandbox", "serve",
        "--data", str(tmp_path / "sb"), "--port", str(port),
        "--tls-cert", str(tls_files.certfile), "--tls-key", str(tls_files.keyfile),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ
    )
    try:
        trusted = ssl.create_default_context(cafile=str(tls_files.ca_certfile))
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"https://127.0.0.1:{port}/_sandbox/health", verify=trusted)
                break
            except httpx.ConnectError:
                assert process.poll() is None, process.communicate()[0]
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert r.status_code == 200
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    assert f"at https://127.0.0.1:{port}" in output


def test_cli_serve_refuses_a_certificate_without_its_key(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "integrator.cli.main", "sandbox", "serve",
         "--data", str(tmp_path / "sb"), "--tls-cert", str(tmp_path / "cert.pem")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--tls-cert and --tls-key go together" in result.stderr
