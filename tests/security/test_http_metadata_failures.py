"""A service whose metadata cannot be read is a system that cannot be used (exit code 3,
naming the system and what it answered), never "entity ... does not exist" or an invalid
configuration (exit 2). Over real HTTP: a proxy on 127.0.0.1 in front of the sandbox answers
the metadata requests itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrator.sandbox.testing import SandboxHandle
from tests.security.http_commands import init_workspace, integrator
from tests.security.http_servers import Answer, Rule, proxy

JSON = {"Content-Type": "application/json"}
SIGN_IN = {"Location": "https://login.microsoftonline.com/t/oauth2/authorize?client_id=x"}


def _answer(part: str, answer: Answer) -> Rule:
    def rule(method: str, path: str, origin: str) -> Answer | None:
        return answer if part in path else None

    return rule


def _errors(stderr: str) -> list[str]:
    return sorted(line for line in stderr.splitlines() if line.startswith("error:"))


@pytest.mark.parametrize(
    ("part", "answer", "said"),
    [
        ("$metadata", Answer(401, b'{"error":{"message":"no"}}', JSON), "HTTP 401: no"),
        ("$metadata", Answer(403), "HTTP 403"),
        ("$metadata", Answer(302, headers=SIGN_IN), "redirects to the sign-in page at login"),
        ("EntityDefinitions", Answer(401), "HTTP 401"),
        ("EntityDefinitions", Answer(403), "HTTP 403"),
        ("EntityDefinitions", Answer(302, headers=SIGN_IN), "redirects to the sign-in page"),
        ("$metadata", Answer(302, headers={"Location": "/adfs/ls/"}), "sign-in page at 127.0.0.1"),
    ],
)
def test_a_refused_schema_check_is_refused_credentials_not_a_missing_entity(
    tmp_path: Path, sandbox_session: SandboxHandle, part: str, answer: Answer, said: str
) -> None:
    with proxy(sandbox_session.url, _answer(part, answer)) as service:
        workspace = init_workspace(tmp_path / "ws", service.origin)
        result = integrator("run", "--workspace", str(workspace))

    assert result.returncode == 3, result.stdout + result.stderr
    errors = _errors(result.stderr)
    assert errors and all("refused the credentials at" in e and said in e for e in errors)
    assert "does not exist" not in result.stdout + result.stderr


def test_a_500_on_metadata_is_the_system_failing_after_the_retries(
    tmp_path: Path, sandbox_session: SandboxHandle
) -> None:
    broken = Answer(500, b'{"error":{"code":"0x80040216","message":"boom"}}', JSON)
    with proxy(sandbox_session.url, _answer("$metadata", broken)) as service:
        workspace = init_workspace(tmp_path / "ws", service.origin)
        result = integrator("run", "--workspace", str(workspace))
        as_json = integrator("run", "--workspace", str(workspace), "--json")
        asked = [path for _, path in service.seen if path == "/sales/api/data/v9.2/$metadata"]

    assert result.returncode == 3, result.stdout + result.stderr
    root = f"{service.origin}/sales/api/data/v9.2/"
    assert (
        f"error: sales answered 500 to 3 attempts: GET {root}$metadata: HTTP 500: boom; "
        "try again later, or ask its administrators"
    ) in _errors(result.stderr)
    assert "configuration is not valid" not in result.stdout + result.stderr
    assert len(asked) == 2 * 3  # each run: the retry budget once, not once per entity
    assert as_json.returncode == 3
    codes = {s["code"] for s in json.loads(as_json.stdout)["error"]["systems"]}
    assert codes == {"system-failing"}


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (Answer(404), "answered 404 to a metadata request"),
        (
            Answer(200, b"<html><body>Sign in</body></html>", {"Content-Type": "text/html"}),
            "answered something that is not OData",
        ),
    ],
)
def test_a_url_that_is_not_a_service_root_says_so(
    tmp_path: Path, sandbox_session: SandboxHandle, answer: Answer, said: str
) -> None:
    with proxy(sandbox_session.url, _answer("$metadata", answer)) as service:
        workspace = init_workspace(tmp_path / "ws", service.origin)
        result = integrator("run", "--workspace", str(workspace))

    assert result.returncode == 3, result.stdout + result.stderr
    sales = [e for e in _errors(result.stderr) if e.startswith("error: sales ")]
    assert len(sales) == 1 and said in sales[0]
    assert sales[0].endswith("check that url in connections.yaml is the service root")
    assert "does not exist" not in result.stdout + result.stderr
