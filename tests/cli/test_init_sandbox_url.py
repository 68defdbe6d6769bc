"""Issue 11 item 10: ``init --sandbox URL`` takes an http(s) URL and nothing else, and what it
writes into connections.yaml cannot be turned into more YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from integrator.cli.main import app
from integrator.config import init_workspace, load_workspace
from integrator.config.files import connections_text
from integrator.errors import ConfigError

INJECTED = (
    "http://127.0.0.1:8700\n  evil:\n    sales: {kind: dataverse, url: 'https://evil.example/'}"
)


def init(root: Path, url: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["init", str(root), "--sandbox", url])
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    "url",
    [
        INJECTED,
        "http://127.0.0.1:8700\r# x",
        "http://127.0.0.1:8700/\u2028evil: 1",
        "http://127.0.0.1:8700/\x85x",
        "http://127.0.0.1:8700/\x00",
        "http://127.0.0.1:8700/a b",
        "http://127.0.0.1:8700/\ta",
    ],
)
def test_a_url_with_a_line_break_or_control_character_is_refused_and_nothing_written(
    tmp_path: Path, url: str
) -> None:
    code, err = init(tmp_path / "ws", url)

    assert code == 2
    assert err.startswith(f"error: --sandbox {url!r} holds ")
    assert "a URL has no whitespace or control characters" in err
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/", "file:///etc/passwd", "javascript:x"])
def test_a_url_that_is_not_http_is_refused(tmp_path: Path, url: str) -> None:
    code, err = init(tmp_path / "ws", url)

    assert code == 2
    assert f"--sandbox {url!r} is not an http(s) URL with a host" in err
    assert not (tmp_path / "ws").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [(INJECTED, "a URL has no whitespace or control characters"), ("ftp://h/", "not an http")],
)
def test_init_workspace_itself_refuses_a_bad_url(tmp_path: Path, url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        init_workspace(tmp_path / "ws", url)
    assert not (tmp_path / "ws").exists()


def test_the_url_in_the_comment_is_escaped_so_it_cannot_end_the_comment(tmp_path: Path) -> None:
    text = connections_text(INJECTED)
    assert "# Points at the sandbox at http://127.0.0.1:8700\\n  evil:" in text
    assert "\n  evil:" not in text


def test_an_https_url_with_a_path_and_port_is_kept(tmp_path: Path) -> None:
    code, _ = init(tmp_path / "ws", "https://sandbox.example:8443/base/")
    assert code == 0
    sets = load_workspace(tmp_path / "ws").connection_sets
    assert list(sets) == ["default"]
    sales = sets["default"].sales
    assert (
        sales is not None and sales.url == "https://sandbox.example:8443/base/sales/api/data/v9.2/"
    )
