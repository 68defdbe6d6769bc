"""Notifications: the e-mail a project's run that ends in Warning or Error sends (SPEC §7)."""

from __future__ import annotations

from integrator.config.workspace import Workspace
from integrator.engine.history.runlog import FinishHook

__all__ = ["notification_hook"]


def notification_hook(workspace: Workspace) -> FinishHook | None:
    """The hook that writes a finished run's notification to the outbox (none yet)."""
    return None
