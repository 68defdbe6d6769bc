"""``notify:`` in a workspace without ``settings.smtp`` is a configuration problem (exit 2)
that names the project file and line; nothing runs."""

from __future__ import annotations

from pathlib import Path

from tests.commands import integrator
from tests.notify.conftest import CONTACTS, notify


def test_notify_without_a_mail_server_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    # nothing listens there: the run must stop at the configuration, before any system
    assert integrator("init", str(root), "--sandbox", "http://127.0.0.1:9").returncode == 0
    notify(root, CONTACTS, "[warning]")
    file = f"projects/{CONTACTS}.yaml"
    line = (root / file).read_text(encoding="utf-8").splitlines().index("notify:") + 1

    result = integrator("run", CONTACTS, "--workspace", str(root))
    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert f"{file}:{line}" in output
    assert "notifications need a mail server: add settings.smtp" in output
    assert "nothing was run or written" in output
