"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives."""

from __future__ import annotations

import socket
import threading
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class SmtpSink:
    """``with SmtpSink() as sink:`` an SMTP server on ``127.0.0.1:sink.port``; the messages
    it accepted are in ``sink.messages`` (parsed, :class:`EmailMessage`), each envelope's
    recipients in ``sink.recipients``."""

    def __init__(self, **controller_options: Any) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(
            self, hostname="127.0.0.1", port=self.port, **controller_options
        )

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """aiosmtpd's hook: keep the message."""
        content = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(content)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._controller.stop()
