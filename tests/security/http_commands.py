"""Helpers for the security tests: the ``integrator`` command run as a user runs it, and a
workspace made by ``integrator init`` against a service of the test's choosing."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests import commands


def integrator(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the ``integrator`` command (not a terminal: no colours); never a traceback."""
    result = commands.integrator(*args, env=env)
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def init_workspace(root: Path, url: str, *, fast_retries: bool = True) -> Path:
    """A workspace whose systems are at ``url`` (as ``init --sandbox`` writes it), each sending
    a request at most 3 times, quickly, when ``fast_retries``."""
    done = integrator("init", str(root), "--sandbox", url)
    assert done.returncode == 0, done.stderr
    if fast_retries:
        edit_connections(
            root,
            "auth: {type: none}",
            "auth: {type: none}\n      retry: {attempts: 3, base_delay_seconds: 0.01}",
        )
    return root


def edit_connections(root: Path, old: str, new: str, count: int = -1) -> None:
    """Replace ``old`` by ``new`` in the workspace's connections.yaml (``count`` times)."""
    path = root / "connections.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")
