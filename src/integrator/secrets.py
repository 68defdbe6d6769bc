"""Secrets as a type: configuration names where a secret is (an environment variable or a file),
never the secret itself; the value is read only when it is used and is masked when printed."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator
from sqlalchemy.engine import URL

from integrator.errors import ConfigError
from integrator.paths import PathLeavesFolder, resolve_inside

_MAX_SECRET_BYTES = 64 * 1024

__all__ = ["SecretRef", "owner_problem", "read_secret_file", "url_holds_password"]

_LITERAL_SECRET = (
    "write where the secret is (`env: VAR_NAME` or `file: path`), never the secret itself"
)


class SecretRef(BaseModel):
    """Where a secret lives: ``{env: VAR_NAME}`` or ``{file: path}`` (relative to the workspace)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_the_secret_itself(cls, data: Any) -> Any:
        if not isinstance(data, (dict, SecretRef)):
            raise ValueError(_LITERAL_SECRET)
        return data

    @model_validator(mode="after")
    def _exactly_one_place(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of `env: VAR_NAME` or `file: path`")
        return self

    def describe(self) -> str:
        """Where the secret is, for messages: ``environment variable X`` or ``file Y``."""
        return f"environment variable {self.env}" if self.env else f"file {self.file}"

    def resolve(self, base_dir: Path | None = None) -> SecretStr:
        """Read the secret now. Raises :class:`ConfigError` naming where it was looked for.

        A ``file:`` written as a relative path is read inside ``base_dir`` (the workspace;
        default: the current folder) and may not leave it, by ``..`` or by a symbolic link; a
        path written as absolute (or ``~/...``) is read where it says. Either way the file must
        be a regular file owned by you (or root) that neither group nor others may read or
        write (``chmod 600 FILE``), as ssh requires of a private key.
        """
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise ConfigError(f"the environment variable {self.env} is not set")
            return SecretStr(value)
        assert self.file is not None
        return SecretStr(read_secret_file(_secret_path(self.file, base_dir)))


def _secret_path(written: str, base_dir: Path | None) -> Path:
    """Where the secret file ``written`` in configuration is, for a workspace at ``base_dir``."""
    path = Path(written).expanduser()
    if path.is_absolute():
        return path  # written out in full: the user named this very file
    base = (base_dir or Path.cwd()).resolve()
    try:
        return resolve_inside(base, path)
    except PathLeavesFolder as leaves:
        raise ConfigError(
            f"the secret file {written} {leaves.how}, which leaves the workspace ({base}): put the "
            "secret inside the workspace, or write its absolute path if you mean that file"
        ) from None


def read_secret_file(path: Path) -> str:
    """The secret in the file at ``path`` (surrounding whitespace stripped). Raises
    :class:`ConfigError` when it cannot be read, is not a regular file, is empty, or is owned
    by another user or open to group or others (the message says ``chmod 600 FILE``)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigError(f"cannot read the secret file {path}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        # checked on the open file, so what is checked is what is read
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"the secret file {path} is not a regular file")
        if (problem := owner_problem(info)) is not None:
            raise ConfigError(
                f"the secret file {path} is {problem}: it must be yours "
                f"(`chown $(id -u) {path}` and `chmod 600 {path}`)"
            )
        if os.name == "posix" and info.st_mode & 0o077:
            mode = stat.S_IMODE(info.st_mode)
            raise ConfigError(
                f"the secret file {path} can be read or written by others than you "
                f"(mode {mode:04o}): `chmod 600 {path}`"
            )
        data = handle.read(_MAX_SECRET_BYTES + 1)
    if len(data) > _MAX_SECRET_BYTES:
        raise ConfigError(f"the secret file {path} is over {_MAX_SECRET_BYTES} bytes: not a secret")
    try:
        value = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise ConfigError(f"the secret file {path} is not UTF-8 text") from None
    if not value:
        raise ConfigError(f"the secret file {path} is empty")
    return value


def owner_problem(info: os.stat_result) -> str | None:
    """``None`` when the file ``info`` describes belongs to the current user or root, else
    who owns it (``owned by uid 65534 (nobody), not by you (uid 0)``). Always ``None`` where
    files have no POSIX owners."""
    if not hasattr(os, "geteuid"):
        return None
    me = os.geteuid()
    if info.st_uid in (me, 0):
        return None
    return f"owned by {_user(info.st_uid)}, not by you ({_user(me)})"


def _user(uid: int) -> str:
    try:
        import pwd

        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except (ImportError, KeyError):
        return f"uid {uid}"


#: query parameters the database drivers read a password from (libpq, psycopg, pymysql, ODBC)
_PASSWORD_PARAMETERS = frozenset({"password", "passwd", "pwd"})


def url_holds_password(url: URL) -> bool:
    """Whether the database URL ``url`` carries a password: ``user:pw@host``, a ``password=``
    (or ``passwd=``, ``pwd=``) query parameter, or ``PWD=`` inside an ``odbc_connect`` string.
    Configuration never holds secrets, so such a URL is refused where it is configured."""
    if url.password is not None:
        return True
    for key, value in url.query.items():
        if key.casefold() in _PASSWORD_PARAMETERS:
            return True
        if key.casefold() == "odbc_connect":
            texts = value if isinstance(value, tuple) else (value,)
            for text in texts:
                pairs = (p.split("=", 1)[0].strip().casefold() for p in text.split(";"))
                if any(name in _PASSWORD_PARAMETERS for name in pairs):
                    return True
    return False
