"""Secrets as a type: configuration names where a secret is (an environment variable or a file),
never the secret itself; the value is read only when it is used and is masked when printed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, model_validator

from integrator.errors import ConfigError

__all__ = ["SecretRef"]

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
        """Read the secret now. Raises :class:`ConfigError` naming where it was looked for."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise ConfigError(f"the environment variable {self.env} is not set")
            return SecretStr(value)
        assert self.file is not None
        path = Path(self.file).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"cannot read the secret file {path}: {exc.strerror}") from None
        if not value:
            raise ConfigError(f"the secret file {path} is empty")
        return SecretStr(value)
