"""Sending the outbox through the workspace's SMTP server (``settings.smtp``), with retries."""

from __future__ import annotations

import json
import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from integrator.config.models import SmtpSettings
from integrator.config.workspace import Workspace
from integrator.engine.history import HistoryStore
from integrator.errors import ConfigError
from integrator.notify.outbox import (
    FAILED,
    claim,
    due_rows,
    record_failure,
    record_sent,
)

__all__ = ["SendReport", "send_due"]

log = logging.getLogger(__name__)


@dataclass
class SendReport:
    """What one :func:`send_due` did: mails sent, attempts that failed (to be retried), mails
    given up, and each failure's message."""

    sent: int = 0
    retrying: int = 0
    gave_up: int = 0
    errors: list[str] = field(default_factory=list)


class _SendFailed(Exception):
    """An attempt failed; the message says why in words a person can act on."""


def send_due(
    history: HistoryStore, workspace: Workspace, *, now: datetime | None = None, limit: int = 50
) -> SendReport:
    """Send the outbox's pending mails whose next attempt is due at ``now`` (default: now), at
    most ``limit`` of them, through ``workspace.settings.smtp``.

    Each row is claimed first, so two processes never send one mail twice. A failed attempt
    (the server refusing, a dropped connection, a timeout, the password's variable unset)
    leaves the row pending with the error and its next attempt after a backoff (1, 2, 4, ...
    minutes, at most an hour); after the 8th it is ``failed``. Never raises for SMTP, network
    or secret errors, nor for a bug while sending (kept as that attempt's error): only the
    history's own errors propagate."""
    moment = now or datetime.now(UTC)
    report = SendReport()
    smtp = workspace.settings.smtp
    # the longest an attempt can take: a process that dies sending leaves the row this long
    lease = timedelta(seconds=(smtp.timeout_seconds if smtp else 30) * 6 + 60)
    for row in due_rows(history, moment, limit):
        if not claim(history, row, moment, lease):
            continue
        attempts = row["attempts"] + 1
        try:
            if smtp is None:
                raise _SendFailed(
                    "integrator.yaml has no settings.smtp: add the mail server "
                    "(host, port, sender) to send notifications"
                )
            refused = _deliver(smtp, workspace.root, row)
        except Exception as failure:
            if not isinstance(failure, _SendFailed):
                # a bug: kept as this attempt's error, so `integrator serve` goes on sending
                log.exception("sending the mail of run %s failed", row["run_id"])
            error = (
                str(failure) if isinstance(failure, _SendFailed) else f"internal error: {failure!r}"
            )
            report.errors.append(error)
            if record_failure(history, row["id"], attempts, moment, error) == FAILED:
                report.gave_up += 1
                log.warning("gave up the mail of run %s: %s", row["run_id"], error)
            else:
                report.retrying += 1
                log.info("the mail of run %s is not sent yet: %s", row["run_id"], error)
            continue
        note = None
        if refused:
            note = f"the SMTP server {_where(smtp)} refused {_refusals(refused)}"
        record_sent(history, row["id"], moment, note)
        report.sent += 1
    return report


def _where(smtp: SmtpSettings) -> str:
    return f"{smtp.host}:{smtp.port}"


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{address} ({_reply(*reply)})" for address, reply in refused.items())


def _message(smtp: SmtpSettings, row: dict[str, Any]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = row["subject"]
    message["From"] = smtp.sender
    message["To"] = ", ".join(json.loads(row["recipients"]))
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=smtp.sender.partition("@")[2] or None)
    message.set_content(row["body"])
    return message


def _deliver(smtp: SmtpSettings, root: Path, row: dict[str, Any]) -> dict[str, tuple[int, bytes]]:
    """Send one row; returns the recipients refused while others were accepted. Raises
    :class:`_SendFailed` with what went wrong."""
    where = _where(smtp)
    password: str | None = None
    if smtp.username is not None and smtp.password is not None:
        if not smtp.starttls:
            raise _SendFailed(
                f"refusing to send the SMTP password to {where} without encryption: set "
                "settings.smtp.starttls: true (the server must offer STARTTLS)"
            )
        try:
            password = smtp.password.resolve(root).get_secret_value()
        except ConfigError as error:
            raise _SendFailed(f"cannot read the SMTP password: {error}") from None
    recipients = json.loads(row["recipients"])
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
            client.ehlo()
            if smtp.starttls:
                if not client.has_extn("starttls"):
                    raise _SendFailed(
                        f"the SMTP server {where} does not offer STARTTLS: use its submission "
                        "port (587), or set settings.smtp.starttls: false if it takes no login"
                    )
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if password is not None:
                assert smtp.username is not None
                client.login(smtp.username, password)
            return client.send_message(_message(smtp, row), smtp.sender, recipients)
    except smtplib.SMTPAuthenticationError as error:
        raise _SendFailed(
            f"the SMTP server {where} refused the login of {smtp.username}: "
            f"{_reply(error.smtp_code, error.smtp_error)} (check settings.smtp.username and the "
            f"password in {smtp.password.describe() if smtp.password else 'settings.smtp'})"
        ) from None
    except smtplib.SMTPRecipientsRefused as error:
        raise _SendFailed(
            f"the SMTP server {where} refused every recipient: {_refusals(error.recipients)}"
        ) from None
    except smtplib.SMTPSenderRefused as error:
        raise _SendFailed(
            f"the SMTP server {where} refused the sender {smtp.sender}: "
            f"{_reply(error.smtp_code, error.smtp_error)}"
        ) from None
    except smtplib.SMTPDataError as error:
        raise _SendFailed(
            f"the SMTP server {where} refused the message: "
            f"{_reply(error.smtp_code, error.smtp_error)}"
        ) from None
    except smtplib.SMTPServerDisconnected as error:
        raise _SendFailed(
            f"the SMTP server {where} closed the connection ({error or 'no reason given'})"
        ) from None
    except smtplib.SMTPResponseException as error:
        raise _SendFailed(
            f"the SMTP server {where} answered {_reply(error.smtp_code, error.smtp_error)}"
        ) from None
    except smtplib.SMTPNotSupportedError as error:
        raise _SendFailed(f"the SMTP server {where} does not support {error}") from None
    except smtplib.SMTPException as error:
        raise _SendFailed(f"sending through the SMTP server {where} failed: {error}") from None
    except ssl.SSLCertVerificationError as error:
        raise _SendFailed(
            f"the certificate of the SMTP server {where} cannot be trusted: "
            f"{error.verify_message} (if its CA is your own, point SSL_CERT_FILE at it)"
        ) from None
    except ssl.SSLError as error:
        raise _SendFailed(
            f"the TLS connection to the SMTP server {where} failed: {error}"
        ) from None
    except TimeoutError:
        raise _SendFailed(
            f"the SMTP server {where} did not answer within {smtp.timeout_seconds:g} s"
        ) from None
    except ConnectionRefusedError:
        raise _SendFailed(
            f"cannot connect to the SMTP server {where}: connection refused (is it running, "
            "and are settings.smtp.host and port right?)"
        ) from None
    except socket.gaierror as error:
        raise _SendFailed(
            f"cannot find the SMTP server {smtp.host}: {error.strerror} (check settings.smtp.host)"
        ) from None
    except OSError as error:
        raise _SendFailed(
            f"cannot reach the SMTP server {where}: {error.strerror or error}"
        ) from None
