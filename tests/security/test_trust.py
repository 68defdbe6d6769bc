"""Issue 11 item 1: a workspace found by searching upward is trusted only when nobody else
could have planted or changed it, and ``{file: ...}`` secrets stay in the workspace unless
written as absolute paths and are never open to others. The attack is reproduced as the probe
ran it: a workspace planted in a folder everybody may write, whose connection sends the
victim's private file as a bearer token to the planter's server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from integrator.cli.main import app
from integrator.config import init_workspace
from tests.config.helpers import ACCOUNTS, edit
from tests.security.server import recording_server

SECRET = "victims-private-token-77"
NONE_AUTH = "      auth: {type: none}\n"
as_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="planting files owned by another user needs chown, so root",
)
NOBODY = 65534


def run(*args: str) -> tuple[int, str]:
    """``integrator ARGS`` through the real command line: exit code and stderr."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stderr


def token_auth(path: str) -> str:
    return f"      auth: {{type: token, token: {{file: {path}}}}}\n"


def private_file(path: Path, text: str = SECRET) -> Path:
    path.write_text(text + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def chown_tree(root: Path, uid: int) -> None:
    for folder, _, files in os.walk(root):
        os.chown(folder, uid, uid)
        for name in files:
            os.chown(Path(folder) / name, uid, uid)


@pytest.fixture
def server() -> Iterator[tuple[str, list[str]]]:
    with recording_server() as found:
        yield found


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A folder everybody may write, with the sticky bit, like /tmp."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    return folder


@as_root
def test_a_workspace_planted_by_another_user_sends_nothing(
    tmp_path: Path, shared: Path, server: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, seen = server
    victim = private_file(tmp_path / "victim.token")
    planted = init_workspace(shared / "plant", url)
    edit(planted / "connections.yaml", NONE_AUTH, token_auth(str(victim)))
    chown_tree(planted, NOBODY)
    monkeypatch.chdir(planted / "projects")

    code, err = run("run", ACCOUNTS)

    assert seen == []
    assert code == 2
    assert f"not using the workspace found at {planted}" in err
    assert "owned by uid 65534" in err
    assert f"--workspace {planted}" in err
    assert SECRET not in err


@as_root
def test_naming_the_workspace_with_workspace_trusts_it(
    tmp_path: Path, shared: Path, server: tuple[str, list[str]]
) -> None:
    # the control: the same planted workspace, named explicitly, is used as named (the token is
    # an absolute path, so it is read), which shows what the refusal above prevents
    url, seen = server
    victim = private_file(tmp_path / "victim.token")
    planted = init_workspace(shared / "plant", url)
    edit(planted / "connections.yaml", NONE_AUTH, token_auth(str(victim)))
    chown_tree(planted, NOBODY)

    run("run", ACCOUNTS, "--workspace", str(planted))

    assert f"Bearer {SECRET}" in seen


def test_a_workspace_file_others_may_write_is_refused_when_found_upward(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = init_workspace(tmp_path / "ws", "http://127.0.0.1:8700")
    (root / "connections.yaml").chmod(0o666)
    monkeypatch.chdir(root / "projects")

    code, err = run("project", "show", ACCOUNTS)

    assert code == 2
    assert f"{root / 'connections.yaml'} (part of the workspace) is writable by others" in err
    assert "mode 0666" in err
    assert f"chmod go-w {root / 'connections.yaml'}" in err
    assert run("project", "show", ACCOUNTS, "--workspace", str(root))[0] == 0


@pytest.mark.parametrize("relative", ["projects", f"projects/{ACCOUNTS}.yaml", "."])
def test_group_writable_parts_of_the_workspace_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, relative: str
) -> None:
    root = init_workspace(tmp_path / "ws", "http://127.0.0.1:8700")
    (root / relative).chmod(0o775 if (root / relative).is_dir() else 0o664)
    monkeypatch.chdir(root)

    code, err = run("project", "show", ACCOUNTS)

    assert code == 2
    assert f"{(root / relative).resolve()} (part of the workspace) is writable by others" in err


def test_a_folder_above_the_workspace_others_may_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    above = tmp_path / "open"
    root = init_workspace(above / "ws", "http://127.0.0.1:8700")
    above.chmod(0o777)  # no sticky bit: anyone may rename ws and put another in its place
    monkeypatch.chdir(root)

    code, err = run("template", "list")

    assert code == 2
    assert f"{above} (a folder above the workspace) is writable by others" in err


def test_your_own_workspace_in_a_sticky_shared_folder_is_used(
    shared: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = init_workspace(shared / "mine", "http://127.0.0.1:8700")
    monkeypatch.chdir(root / "projects")

    code, err = run("project", "show", ACCOUNTS)

    assert (code, err) == (0, "")


def test_init_writes_a_workspace_that_is_trusted_whatever_the_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = os.umask(0o002)
    try:
        code, _ = run("init", str(tmp_path / "ws"), "--sandbox", "http://127.0.0.1:8700")
    finally:
        os.umask(old)
    assert code == 0
    for path in [tmp_path / "ws", *(tmp_path / "ws").rglob("*")]:
        assert path.stat().st_mode & 0o022 == 0, path
    monkeypatch.chdir(tmp_path / "ws")
    assert run("project", "show", ACCOUNTS)[0] == 0


# --- secret files -------------------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path, server: tuple[str, list[str]]) -> Path:
    return init_workspace(tmp_path / "ws", server[0])


def run_with_token(workspace: Path, written: str) -> tuple[int, str]:
    # every system signs in with the token, so none is asked anything before it is read
    edit(workspace / "connections.yaml", NONE_AUTH, token_auth(written), count=-1)
    return run("run", ACCOUNTS, "--workspace", str(workspace))


def test_a_secret_file_others_may_read_is_refused_with_chmod_600(
    workspace: Path, server: tuple[str, list[str]]
) -> None:
    (workspace / "secrets").mkdir()
    token = workspace / "secrets" / "sales.token"
    token.write_text(SECRET, encoding="utf-8")
    token.chmod(0o644)

    code, err = run_with_token(workspace, "secrets/sales.token")

    assert server[1] == []
    assert code == 2
    assert f"the secret file {token} can be read or written by others than you" in err
    assert f"chmod 600 {token}" in err
    assert SECRET not in err


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620, 0o666])
def test_any_group_or_other_bit_on_a_secret_file_is_refused(
    workspace: Path, server: tuple[str, list[str]], mode: int
) -> None:
    token = private_file(workspace / "sales.token")
    token.chmod(mode)

    code, err = run_with_token(workspace, "sales.token")

    assert (code, server[1]) == (2, [])
    assert f"mode {mode:04o}" in err


def test_a_private_secret_file_in_the_workspace_is_sent(
    workspace: Path, server: tuple[str, list[str]]
) -> None:
    private_file(workspace / "sales.token")

    run_with_token(workspace, "sales.token")

    assert f"Bearer {SECRET}" in server[1]


def test_a_relative_secret_path_may_not_leave_the_workspace_by_dotdot(
    workspace: Path, server: tuple[str, list[str]]
) -> None:
    private_file(workspace.parent / "victim.token")

    code, err = run_with_token(workspace, "../victim.token")

    assert (code, server[1]) == (2, [])
    assert "the secret file ../victim.token uses '..', which leaves the workspace" in err
    assert "write its absolute path if you mean that file" in err


def test_a_relative_secret_path_may_not_leave_the_workspace_by_a_link(
    workspace: Path, server: tuple[str, list[str]]
) -> None:
    victim = private_file(workspace.parent / "victim.token")
    (workspace / "sales.token").symlink_to(victim)

    code, err = run_with_token(workspace, "sales.token")

    assert (code, server[1]) == (2, [])
    assert f"the secret file sales.token is a link to {victim}, which leaves the workspace" in err


def test_an_absolute_secret_path_is_explicit_and_read_where_it_says(
    workspace: Path, server: tuple[str, list[str]]
) -> None:
    victim = private_file(workspace.parent / "elsewhere.token")

    run_with_token(workspace, str(victim))

    assert f"Bearer {SECRET}" in server[1]


def test_a_secret_that_is_not_a_regular_file_is_refused(
    workspace: Path, server: tuple[str, list[str]]
) -> None:
    os.mkfifo(workspace / "sales.token", 0o600)  # would block a plain read forever

    code, err = run_with_token(workspace, "sales.token")

    assert (code, server[1]) == (2, [])
    assert "is not a regular file" in err


@as_root
def test_a_secret_file_owned_by_another_user_is_refused(
    workspace: Path, server: tuple[str, list[str]]
) -> None:
    token = private_file(workspace / "sales.token")
    os.chown(token, NOBODY, NOBODY)

    code, err = run_with_token(workspace, "sales.token")

    assert (code, server[1]) == (2, [])
    assert f"the secret file {token} is owned by uid 65534" in err
    assert f"chmod 600 {token}" in err
