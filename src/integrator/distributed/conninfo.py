"""The libpq connection string of a SQLAlchemy PostgreSQL URL (Procrastinate speaks libpq)."""

from __future__ import annotations

from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from integrator.errors import ConfigError

__all__ = ["libpq_conninfo"]


def libpq_conninfo(url: str) -> str:
    """``postgresql+psycopg://user:pw@host:port/db?options=...`` as a libpq conninfo string
    (query parameters such as ``options`` or ``sslmode`` kept). Raises :class:`ConfigError`
    for a URL that is not PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(f"the job queue needs a PostgreSQL database, not {parsed.drivername}")
    params: dict[str, str | int] = {}
    for key, value in parsed.query.items():
        params[key] = value if isinstance(value, str) else value[-1]
    if parsed.host:
        params["host"] = parsed.host
    if parsed.port:
        params["port"] = parsed.port
    if parsed.username:
        params["user"] = parsed.username
    if parsed.password is not None:
        params["password"] = str(parsed.password)
    if parsed.database:
        params["dbname"] = parsed.database
    return make_conninfo("", **params)
