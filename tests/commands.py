"""The ``integrator`` command run as a user runs it: a separate process, its output piped."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def integrator(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str | None] | None = None,
    columns: int | None = 200,
    timeout: float = 300,
    umask: int | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``integrator ARGS`` and return what it printed and its exit code.

    Not a terminal: ``NO_COLOR=1`` and ``COLUMNS=columns`` (``None``: no ``COLUMNS`` or
    ``LINES``, as ``integrator ... | cat``). ``env`` overrides the environment; a ``None``
    value removes the variable. ``umask``, when given, is the process's umask."""
    environment = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    environment["NO_COLOR"] = "1"
    if columns is not None:
        environment["COLUMNS"] = str(columns)
    for name, value in (env or {}).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return subprocess.run(
        [sys.executable, "-m", "integrator.cli.main", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=timeout,
        preexec_fn=None if umask is None else (lambda: os.umask(umask)),
    )
