"""Who may use the portal: one password (argon2id hash) and any number of bearer tokens (SHA-256
hashes: a token is 32 random bytes, so a fast hash is enough), kept in the workspace's
``.integrator/portal.json`` (mode 600) with the key that signs session cookies.

Nothing in the file can be turned back into the password or a token. A running ``integrator
serve`` follows the file: a token made or a password set by another process counts at once,
and a new password signs out every session made before it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from integrator.errors import ConfigError, ConfigProblem

__all__ = ["CREDENTIALS_FILE", "MIN_PASSWORD_LENGTH", "TOKEN_PREFIX", "PortalCredentials"]

CREDENTIALS_FILE = ".integrator/portal.json"
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "itk_"

_hasher = PasswordHasher()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class PortalCredentials:
    """The portal's password hash, token hashes and session key for the workspace at
    ``root``. Read with :meth:`load`; every change is written at once (mode 600)."""

    root: Path
    password_hash: str | None = None
    token_hashes: list[dict[str, str]] = field(default_factory=list)
    session_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    #: the file as last read or written here (inode, size, mtime), to notice another
    #: process's change
    _seen: tuple[int, int, int] | None = field(default=None, repr=False, compare=False)

    @property
    def path(self) -> Path:
        """The file the credentials live in."""
        return self.root / CREDENTIALS_FILE

    @property
    def configured(self) -> bool:
        """Whether anyone can sign in: a password or at least one token is set (as the file
        is now)."""
        self.refresh()
        return self.password_hash is not None or bool(self.token_hashes)

    @property
    def has_password(self) -> bool:
        """Whether a password is set (as the file is now)."""
        self.refresh()
        return self.password_hash is not None

    @property
    def session_key_id(self) -> str:
        """A name for the current session key (not the key): a session made under another
        one, before the password changed, is not signed in."""
        self.refresh()
        return hashlib.sha256(b"session-key:" + self.session_secret.encode()).hexdigest()[:16]

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            status = self.path.stat()
        except OSError:
            return None
        return (status.st_ino, status.st_size, status.st_mtime_ns)

    def refresh(self) -> None:
        """Read the file again when another process changed it since it was last read or
        written here (``integrator serve --new-token`` or ``--set-password`` while serving).
        A file that cannot be read keeps what was read before."""
        seen = self._stat()
        if seen is None or seen == self._seen:
            return
        with self._lock:
            try:
                data: Any = json.loads(self.path.read_text())
                password_hash = data.get("password_hash")
                token_hashes = list(data.get("tokens", []))
                session_secret = str(data["session_secret"])
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                return
            self.password_hash = password_hash
            self.token_hashes = token_hashes
            self.session_secret = session_secret
            self._seen = seen

    @classmethod
    def load(cls, root: Path) -> PortalCredentials:
        """The credentials of the workspace at ``root`` (none set when the file is absent;
        the session key is then created and written on first use). Raises
        :class:`ConfigError` naming the file when it is not what this module writes."""
        credentials = cls(root)
        path = credentials.path
        if not path.exists():
            return credentials
        credentials._seen = credentials._stat()
        try:
            data: Any = json.loads(path.read_text())
            credentials.password_hash = data.get("password_hash")
            credentials.token_hashes = list(data.get("tokens", []))
            credentials.session_secret = str(data["session_secret"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise ConfigError(
                ConfigProblem(
                    CREDENTIALS_FILE,
                    None,
                    "",
                    f"cannot be read ({error}); move it aside and set the password again "
                    "with `integrator serve --set-password`",
                )
            ) from None
        return credentials

    def save(self) -> None:
        """Write the file (mode 600, replaced atomically)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "password_hash": self.password_hash,
            "tokens": self.token_hashes,
            "session_secret": self.session_secret,
        }
        temporary = self.path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(document, handle, indent=2)
        os.replace(temporary, self.path)
        self._seen = self._stat()

    def set_password(self, password: str) -> None:
        """Set the password (at least :data:`MIN_PASSWORD_LENGTH` characters) and write it
        hashed; a new session key signs everyone out. Raises :class:`ValueError` for a
        password too short."""
        if len(password) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"the password needs at least {MIN_PASSWORD_LENGTH} characters")
        with self._lock:
            self.password_hash = _hasher.hash(password)
            self.session_secret = secrets.token_hex(32)
            self.save()

    def verify_password(self, password: str) -> bool:
        """Whether ``password`` is the portal's password (``False`` when none is set)."""
        self.refresh()
        if self.password_hash is None:
            return False
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def new_token(self) -> str:
        """A new bearer token (kept only as its hash: shown once, to the caller)."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._lock:
            self.token_hashes.append(
                {
                    "sha256": _token_hash(token),
                    "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                }
            )
            self.save()
        return token

    def verify_token(self, token: str) -> bool:
        """Whether ``token`` is one of the portal's bearer tokens."""
        self.refresh()
        wanted = _token_hash(token)
        return any(hmac.compare_digest(wanted, t.get("sha256", "")) for t in self.token_hashes)

    def ensure_saved(self) -> None:
        """Write the file when it does not exist yet (so the session key outlives a restart)."""
        if not self.path.exists():
            with self._lock:
                self.save()
