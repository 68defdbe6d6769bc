"""Start a real sandbox for tests: a context manager and pytest fixtures.

Use from any test (the fixtures are registered in ``tests/conftest.py`` through
``pytest_plugins = ["integrator.sandbox.testing"]``)::

    def test_reads_contacts(sandbox):            # a fresh, empty sandbox for this test
        r = httpx.get(sandbox.sales + "contacts")
        assert r.status_code == 200

    def test_metadata(sandbox_session):          # one sandbox shared by the session: read only!
        httpx.get(sandbox_session.finops + "$metadata")

    def test_reads(sandbox_seeded):              # shared too, read only: SEEDED_ACCOUNTS accounts
        ...                                      # and SEEDED_CONTACTS contacts in Sales (seed 1)

    with running_sandbox(tmp_path, with_solution=False, faults=FaultConfig(rate_429=0.2)) as sb:
        ...

    def test_over_https(sandbox_tls):            # a fresh sandbox serving https (needs trustme)
        httpx.get(sandbox_tls.sales + "contacts", verify=sandbox_tls.ca_certfile)

    with running_sandbox(tmp_path, tls=make_tls_files(tmp_path / "tls")) as sb:
        ...                                      # sb.url is https://127.0.0.1:PORT

The handle (:class:`SandboxHandle`) gives:

- ``url`` (``http://127.0.0.1:PORT``), ``sales``, ``cds``, ``finops``: the service roots, each
  ending with ``/`` (``http://127.0.0.1:PORT/sales/api/data/v9.2/``);
- ``data_dir``: the directory of the SQLite files (open them with
  ``integrator.sandbox.stores.SandboxStore.open(data_dir).connect("sales")``);
- ``set_faults(**fields)`` / ``set_faults(FaultConfig(...))`` and ``clear_faults()``: change fault
  injection at run time (fields of :class:`~integrator.sandbox.http.FaultConfig`:
  ``rate_429``, ``rate_500``, ``rate_503``, ``retry_after``, ``latency_ms``,
  ``budget_requests``, ``budget_window_seconds``, ``budget_concurrent``, ``services``, ``seed``);
- ``request_counts()``: ``{"total": n, "requests": {service: {method: n}}, "statuses": ...,
  "batch_operations": {service: {method: n}}}`` since the last ``reset_request_counts()``;
- ``restart()``: stop and start the server on the same data (and port when it is free);
- ``ca_certfile``: for a TLS sandbox, the PEM file of the test CA that signed its certificate
  (for ``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE`` or a client's ``verify`` option), else None.

The server runs uvicorn in a background thread of the test process, bound to a free port on
127.0.0.1. It speaks real HTTP: use ``httpx`` or any client.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrator.sandbox.http import FaultConfig

__all__ = [
    "SEEDED_ACCOUNTS",
    "SEEDED_CONTACTS",
    "SandboxHandle",
    "TlsFiles",
    "make_tls_files",
    "running_sandbox",
    "sandbox",
    "sandbox_seeded",
    "sandbox_session",
    "sandbox_tls",
    "tls_files",
]

#: the size of the ``sandbox_seeded`` fixture's Sales data
SEEDED_ACCOUNTS = 50
SEEDED_CONTACTS = 300


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for a TLS sandbox: a test CA, and a server certificate it signed (with key)."""

    ca_certfile: Path
    certfile: Path
    keyfile: Path


def make_tls_files(directory: Path | str) -> TlsFiles:
    """Make a throwaway CA and a certificate for ``127.0.0.1``/``localhost`` in ``directory``.

    Uses ``trustme`` (the ``clients`` extra). Nothing here is trusted by the system: a client
    trusts the CA only when told to (``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``, ``verify=``).
    """
    import trustme

    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    files = TlsFiles(path / "ca.pem", path / "server.pem", path / "server.key")
    ca.cert_pem.write_to_path(str(files.ca_certfile))
    server_cert.private_key_pem.write_to_path(str(files.keyfile))
    with open(files.certfile, "wb") as chain:
        for blob in server_cert.cert_chain_pems:
            chain.write(blob.bytes())
    return files


@dataclass
class SandboxHandle:
    """A running sandbox: its URLs, data directory, faults and request counters."""

    url: str
    data_dir: Path
    with_solution: bool
    _server: Any = field(repr=False)
    tls: TlsFiles | None = None

    @property
    def ca_certfile(self) -> Path | None:
        """The test CA's PEM file when serving TLS, else None."""
        return self.tls.ca_certfile if self.tls is not None else None

    def _verify(self) -> ssl.SSLContext | bool:
        if self.tls is None:
            return True
        return ssl.create_default_context(cafile=str(self.tls.ca_certfile))

    @property
    def sales(self) -> str:
        """Sales' service root URL."""
        return f"{self.url}/sales/api/data/v9.2/"

    @property
    def cds(self) -> str:
        """CDS's service root URL."""
        return f"{self.url}/cds/api/data/v9.2/"

    @property
    def finops(self) -> str:
        """F&O's service root URL."""
        return f"{self.url}/finops/data/"

    def service_url(self, name: str) -> str:
        """The root URL of service ``name`` (``sales``, ``cds`` or ``finops``)."""
        return {"sales": self.sales, "cds": self.cds, "finops": self.finops}[name]

    def set_faults(self, config: FaultConfig | None = None, **fields: Any) -> FaultConfig:
        """Replace the fault config (a :class:`FaultConfig`, or its fields as keywords)."""
        data = config.to_dict() if config is not None else {}
        data.update(fields)
        response = httpx.put(
            f"{self.url}/_sandbox/faults", json=data, timeout=10, verify=self._verify()
        )
        response.raise_for_status()
        return FaultConfig.from_dict(response.json())

    def clear_faults(self) -> None:
        """Turn every fault off."""
        self.set_faults(FaultConfig())

    def request_counts(self) -> dict[str, Any]:
        """Requests counted per service and method since the last reset."""
        response = httpx.get(f"{self.url}/_sandbox/requests", timeout=10, verify=self._verify())
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def reset_request_counts(self) -> None:
        """Count from zero again."""
        httpx.delete(
            f"{self.url}/_sandbox/requests", timeout=10, verify=self._verify()
        ).raise_for_status()

    def restart(self) -> None:
        """Stop the server and start a new one on the same data directory."""
        faults = self._server.sandbox.faults.config
        port = self._server.port
        self._server.stop()
        try:
            self._server = _start(self.data_dir, self.with_solution, faults, port, self.tls)
        except OSError:
            self._server = _start(self.data_dir, self.with_solution, faults, 0, self.tls)
        self.url = self._server.url


def _open_store(data_dir: Path, with_solution: bool) -> None:
    from integrator.sandbox.stores import SandboxStore

    SandboxStore.open(data_dir, with_solution=with_solution)


def _start(
    data_dir: Path,
    with_solution: bool,
    faults: FaultConfig | None,
    port: int,
    tls: TlsFiles | None = None,
) -> Any:
    from integrator.sandbox.server import SandboxServer
    from integrator.sandbox.stores import SandboxStore

    store = SandboxStore.open(data_dir, with_solution=with_solution)
    server = SandboxServer(
        store,
        host="127.0.0.1",
        port=port,
        faults=faults,
        tls_certfile=tls.certfile if tls is not None else None,
        tls_keyfile=tls.keyfile if tls is not None else None,
    )
    server.start()
    return server


@contextmanager
def running_sandbox(
    data_dir: Path | str,
    *,
    with_solution: bool = True,
    faults: FaultConfig | None = None,
    seed: tuple[int, int] | None = None,
    tls: TlsFiles | None = None,
) -> Iterator[SandboxHandle]:
    """A sandbox serving ``data_dir`` on a free 127.0.0.1 port for the ``with`` block.

    ``seed=(accounts, contacts)`` first adds that much realistic Sales data (random seed 1).
    ``tls`` (from :func:`make_tls_files`) serves https with that certificate.
    """
    path = Path(data_dir)
    if seed is not None:
        from integrator.sandbox.stores.seed import seed_sales

        _open_store(path, with_solution)
        seed_sales(path, accounts=seed[0], contacts=seed[1], random_seed=1)
    server = _start(path, with_solution, faults, 0, tls)
    handle = SandboxHandle(server.url, path, with_solution, server, tls)
    try:
        yield handle
    finally:
        handle._server.stop()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxHandle]:
    """A fresh sandbox (reference data only, P2C solution installed) for one test."""
    with running_sandbox(tmp_path / "sandbox") as handle:
        yield handle


@pytest.fixture(scope="session")
def sandbox_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    """One sandbox for the whole session, for tests that only read (reference data only)."""
    with running_sandbox(tmp_path_factory.mktemp("sandbox-session")) as handle:
        yield handle


@pytest.fixture(scope="session")
def sandbox_seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    """One sandbox for the session with seeded Sales data (read only!)."""
    data_dir = tmp_path_factory.mktemp("sandbox-seeded")
    with running_sandbox(data_dir, seed=(SEEDED_ACCOUNTS, SEEDED_CONTACTS)) as handle:
        yield handle


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """One test CA and server certificate for the session (needs ``trustme``)."""
    pytest.importorskip("trustme", reason="TLS sandboxes need trustme (the clients extra)")
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def sandbox_tls(tmp_path: Path, tls_files: TlsFiles) -> Iterator[SandboxHandle]:
    """A fresh sandbox serving https with the session's test certificate, for one test."""
    with running_sandbox(tmp_path / "sandbox", tls=tls_files) as handle:
        yield handle
