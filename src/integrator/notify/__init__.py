"""Notifications: the e-mail a project's run that ends in Warning or Error sends (SPEC §7).

The run's end writes the mail to the outbox in its own transaction (:func:`notification_hook`);
:func:`send_due` sends it from there, after ``integrator run`` and from ``integrator serve``."""

from __future__ import annotations

from integrator.notify.compose import Mail, compose
from integrator.notify.outbox import MAX_ATTEMPTS, MailStatus, mail_status, notification_hook
from integrator.notify.sender import SendReport, send_due

__all__ = [
    "MAX_ATTEMPTS",
    "Mail",
    "MailStatus",
    "SendReport",
    "compose",
    "mail_status",
    "notification_hook",
    "send_due",
]
