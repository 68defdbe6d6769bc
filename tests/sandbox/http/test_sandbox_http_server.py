"""The server: data survives a restart; ``integrator sandbox serve`` answers and stops on SIGINT."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx

from integrator.sandbox.testing import running_sandbox


def test_data_survives_a_restart(tmp_path: Path) -> None:
    with running_sandbox(tmp_path / "sb") as sb:
        r = httpx.post(sb.sales + "accounts", json={"name": "Kept", "accountnumber": "K-1"})
        assert r.status_code == 204
        sb.restart()
        r = httpx.get(sb.sales + "accounts(accountnumber='K-1')")
        assert r.status_code == 200 and r.json()["name"] == "Kept"
    with running_sandbox(tmp_path / "sb") as sb:
        assert httpx.get(sb.sales + "accounts(accountnumber='K-1')").status_code == 200


def test_cli_serve_answers_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "integrator.cli.main",
        "sandbox",
        "serve",
        "--data",
        str(tmp_path / "data"),
        "--port",
        "0",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("integrator sandbox serving"), first + process.stderr.read()
        url = first.split()[-1]
        services = [process.stdout.readline().split()[-1] for _ in range(3)]
        assert services == [
            f"{url}/sales/api/data/v9.2/",
            f"{url}/cds/api/data/v9.2/",
            f"{url}/finops/data/",
        ]
        r = httpx.get(f"{url}/finops/data/LegalEntities", timeout=30)
        assert r.status_code == 200
        assert "USMF" in {e["LegalEntityId"] for e in r.json()["value"]}
        httpx.post(f"{url}/sales/api/data/v9.2/accounts", json={"name": "Persisted"}, timeout=30)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err
    assert (tmp_path / "data" / "sales.db").exists()


def test_cli_serve_refuses_a_bad_fault_option(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "integrator.cli.main",
            "sandbox",
            "serve",
            "--data",
            str(tmp_path),
            "--fault-429",
            "1.5",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "rate_429" in result.stderr


def test_without_solution_serves_sales_without_numbering(tmp_path: Path) -> None:
    with running_sandbox(tmp_path / "sb", with_solution=False) as sb:
        r = httpx.post(
            sb.sales + "contacts",
            json={"lastname": "Old"},
            headers={"Prefer": "return=representation"},
        )
        assert r.status_code == 201
        assert r.json()["msdynce_contactnumber"] is None
