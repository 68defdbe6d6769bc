"""What a command says and exits with when it cannot do its job (SPEC §7): each outcome has
its exit code and, with ``--json``, one JSON document on stdout; never a traceback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from integrator.engine.lock import ProjectLock
from integrator.sandbox.testing import SandboxHandle
from tests import commands
from tests.golden.dataset import load_sales

ACCOUNTS = "Accounts (Sales to Fin and Ops)"
SYSTEMS = {
    "sales": "/sales/api/data/v9.2/",
    "cds": "/cds/api/data/v9.2/",
    "finops": "/finops/data/",
}


def integrator(
    *args: str, cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run the ``integrator`` command as a user would (not a terminal), 80 columns wide."""
    return commands.integrator(*args, cwd=cwd, timeout=timeout, columns=80)


def _json(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stdout + result.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _init(root: Path, url: str) -> Path:
    done = integrator("init", str(root), "--sandbox", url)
    assert done.returncode == 0, done.stderr
    return root


@pytest.fixture
def unreachable(tmp_path: Path) -> tuple[Path, str]:
    """A workspace whose systems are a port on 127.0.0.1 where nothing listens."""
    url = f"http://127.0.0.1:{_closed_port()}"
    return _init(tmp_path / "ws", url), url


def test_an_unreachable_system_is_one_line_per_system_within_30_s(
    unreachable: tuple[Path, str],
) -> None:
    workspace, url = unreachable
    started = time.monotonic()
    result = integrator("run", "--workspace", str(workspace))
    elapsed = time.monotonic() - started

    assert result.returncode == 3, result.stderr
    assert elapsed < 30
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert sorted(errors) == sorted(
        f"error: {system} cannot be reached at {url}{path}: connection refused "
        "(nothing listens there)"
        for system, path in SYSTEMS.items()
    )
    assert "configuration is not valid" not in result.stdout + result.stderr
    _no_traceback(result)
    assert not (workspace / "history.db").exists() or "No runs yet" in (
        integrator("history", "--workspace", str(workspace)).stdout
    )


def test_an_unreachable_system_with_json_is_an_error_document(
    unreachable: tuple[Path, str],
) -> None:
    workspace, url = unreachable
    result = integrator("run", "--workspace", str(workspace), "--json")

    assert result.returncode == 3
    error = _json(result)["error"]
    assert error["code"] == "system-unavailable"
    assert {(s["system"], s["url"], s["code"]) for s in error["systems"]} == {
        (system, url + path, "system-unreachable") for system, path in SYSTEMS.items()
    }
    assert all(f"{s['system']} cannot be reached at" in error["message"] for s in error["systems"])


class _Refuses(BaseHTTPRequestHandler):
    """A service that lets nobody in."""

    def do_GET(self) -> None:
        body = b'{"error": {"code": "0x80072560", "message": "The user is not a member"}}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def refusing() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_refused_credentials_name_the_system_and_its_url(tmp_path: Path, refusing: str) -> None:
    workspace = _init(tmp_path / "ws", refusing)
    result = integrator("run", "--workspace", str(workspace))

    assert result.returncode == 3, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert sorted(errors) == sorted(
        f"error: {system} refused the credentials at {refusing}{path}: HTTP 401: "
        "The user is not a member"
        for system, path in SYSTEMS.items()
    )
    assert "does not exist" not in result.stderr
    _no_traceback(result)


def test_a_configuration_error_with_json_prints_the_problems(
    unreachable: tuple[Path, str],
) -> None:
    workspace, _ = unreachable
    project = workspace / "projects" / f"{ACCOUNTS}.yaml"
    project.write_text(project.read_text(encoding="utf-8") + "tasks: [\n", encoding="utf-8")

    result = integrator("run", "--workspace", str(workspace), "--json")

    assert result.returncode == 2, result.stderr
    problems = _json(result)["problems"]
    assert problems and all(set(p) == {"file", "line", "path", "message"} for p in problems)
    assert any(p["file"] == f"projects/{ACCOUNTS}.yaml" and p["line"] for p in problems)
    assert "The configuration is not valid" in result.stderr
    _no_traceback(result)


@pytest.mark.parametrize("command", [("rerun", "99"), ("history", "--run", "99")])
def test_a_missing_run_is_not_a_configuration_problem(
    unreachable: tuple[Path, str], command: tuple[str, ...]
) -> None:
    workspace, _ = unreachable
    result = integrator(*command, "--workspace", str(workspace))

    assert result.returncode == 2
    assert result.stderr.strip() == "error: there is no run 99 in this workspace's history"
    as_json = integrator(*command, "--workspace", str(workspace), "--json")
    assert as_json.returncode == 2
    assert _json(as_json) == {
        "error": {
            "code": "no-such-run",
            "message": "there is no run 99 in this workspace's history",
        }
    }


def test_an_unknown_project_is_bad_usage_with_json(unreachable: tuple[Path, str]) -> None:
    workspace, _ = unreachable
    result = integrator("history", "Nope", "--workspace", str(workspace), "--json")

    assert result.returncode == 2
    assert 'no project named "Nope"' in _json(result)["problems"][0]["message"]
    assert result.stderr.startswith('error: no project named "Nope"')


def test_rerun_of_a_run_without_failures_adds_no_run(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    workspace = _init(tmp_path / "ws", sandbox.url)  # Sales is empty: nothing can fail
    first = _json(integrator("run", ACCOUNTS, "--workspace", str(workspace), "--json"))["runs"]
    assert first[0]["status"] == "Completed"
    run_id = first[0]["id"]

    result = integrator("rerun", str(run_id), "--workspace", str(workspace))
    assert result.returncode == 0, result.stderr
    assert f"run {run_id} of {ACCOUNTS} has no failed records" in result.stdout
    as_json = integrator("rerun", str(run_id), "--workspace", str(workspace), "--json")
    assert as_json.returncode == 0
    assert _json(as_json)["runs"] == []
    history = _json(integrator("history", "--workspace", str(workspace), "--json"))["runs"]
    assert [run["id"] for run in history] == [run_id]


def test_a_second_run_of_a_busy_project_exits_4_naming_it(
    tmp_path: Path, sandbox: SandboxHandle
) -> None:
    load_sales(sandbox.data_dir)
    workspace = _init(tmp_path / "ws", sandbox.url)
    lock = ProjectLock(workspace / ".integrator" / "locks", ACCOUNTS)
    lock.acquire()  # as a run in another process holds it
    try:
        result = integrator("run", ACCOUNTS, "--workspace", str(workspace))
        as_json = integrator("run", ACCOUNTS, "--workspace", str(workspace), "--json")
    finally:
        lock.release()

    assert result.returncode == 4, result.stdout + result.stderr
    assert f"error: project '{ACCOUNTS}' is already running (pid {os.getpid()}" in result.stderr
    assert as_json.returncode == 4
    assert _json(as_json)["error"]["code"] == "project-busy"
    _no_traceback(result)


def test_sigterm_interrupts_a_run_with_exit_130(tmp_path: Path, sandbox: SandboxHandle) -> None:
    load_sales(sandbox.data_dir)
    workspace = _init(tmp_path / "ws", sandbox.url)
    sandbox.set_faults(latency_ms=100)  # a run long enough to be stopped in the middle
    env = {**os.environ, "NO_COLOR": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "integrator.cli.main", "run", ACCOUNTS, "-w", str(workspace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while not (workspace / ".integrator" / "locks").exists():  # validated, running
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 130, stdout + stderr
    assert stderr.strip().splitlines()[-1].startswith("interrupted")
    assert "Traceback" not in stderr
