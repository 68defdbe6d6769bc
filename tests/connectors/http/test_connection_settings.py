"""What a connection in connections.yaml says reaches the wire: TLS verification against a CA
bundle, timeouts, the request budget, retries. Over loopback: a TLS sandbox, a silent socket."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from integrator.connectors.dataverse import DataverseConnector
from integrator.connectors.http.budget import BudgetLimits
from integrator.connectors.registry import open_connection
from integrator.errors import ConfigError, IntegratorError
from integrator.sandbox.testing import SandboxHandle

from ..connections import connection

ONE_TRY = {"attempts": 1}


@pytest.fixture
def silent_server() -> Iterator[str]:
    """``http://127.0.0.1:PORT/``: accepts connections and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/data/v9.2/"
    finally:
        stop.set()
        thread.join()
        for client in accepted:
            client.close()
        listener.close()


def test_verify_names_a_ca_bundle_relative_to_the_workspace(
    sandbox_tls: SandboxHandle, tmp_path: Path
) -> None:
    assert sandbox_tls.ca_certfile is not None
    (tmp_path / "certs").mkdir()
    shutil.copy(sandbox_tls.ca_certfile, tmp_path / "certs" / "test-ca.pem")
    trusted = connection(kind="dataverse", url=sandbox_tls.sales, verify="certs/test-ca.pem")
    default = connection(kind="dataverse", url=sandbox_tls.sales, retry=ONE_TRY)

    connectors = [open_connection(trusted, tmp_path), open_connection(default, tmp_path)]
    try:
        assert "lastname" in connectors[0].describe("contacts").fields
        with pytest.raises(IntegratorError):
            connectors[1].describe("contacts")  # the system's trust store lacks the test CA
    finally:
        for connector in connectors:
            connector.close()


def test_verify_false_is_accepted_and_a_missing_bundle_is_a_configuration_error(
    tmp_path: Path,
) -> None:
    url = "https://127.0.0.1:9/api/data/v9.2/"
    open_connection(connection(kind="dataverse", url=url, verify=False), tmp_path).close()

    with pytest.raises(ConfigError) as caught:
        open_connection(connection(kind="finops", url=url, verify="certs/none.pem"), tmp_path)
    assert f"verify: cannot use the CA bundle {tmp_path / 'certs' / 'none.pem'}" in str(
        caught.value
    )


def test_the_read_timeout_bounds_a_silent_server(silent_server: str, tmp_path: Path) -> None:
    settings = connection(
        kind="dataverse",
        url=silent_server,
        timeouts={"connect_seconds": 1, "read_seconds": 0.5},
        retry=ONE_TRY,
    )
    connector = open_connection(settings, tmp_path)
    started = time.monotonic()
    try:
        with pytest.raises(IntegratorError):  # one attempt, cut off by the read timeout
            connector.describe("contacts")
    finally:
        connector.close()
    assert time.monotonic() - started < 5


def test_the_budget_and_sizes_reach_the_connector(tmp_path: Path) -> None:
    settings = connection(
        kind="dataverse",
        url="https://contoso.crm.dynamics.com/api/data/v9.2/",
        budget={"requests": 1200, "window_seconds": 60, "concurrent": 8},
        page_size=500,
        batch_size=200,
        parallel_batches=2,
    )
    connector = open_connection(settings, tmp_path)
    try:
        assert isinstance(connector, DataverseConnector)
        assert connector.client.budget.limits == BudgetLimits(1200, 60.0, 8)
        assert connector.capabilities.max_page_size == 500
        assert connector.capabilities.parallel_batches == 2
        assert connector.settings.batch_size == 200
    finally:
        connector.close()
