"""The exception tree, grouped by what the caller should do about each error.

- :class:`ConfigError`: the configuration is wrong; nothing runs (CLI exit code 2).
- :class:`RetriableError`: a transient failure (429, 5xx, dropped connection); try again later.
- :class:`RequestRejected`: the remote system refused a request; sending it again fails again.
- :class:`BadResponseError`: the remote system answered something that is not its protocol.
- :class:`RecordRejected`: one record was refused; the run goes on without it.
- :class:`StageFailed`: a stage of a run failed as a whole; names the stage and the run.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "BadResponseError",
    "ConfigError",
    "ConfigProblem",
    "ConnectorError",
    "FilterSyntaxError",
    "FilterTypeError",
    "IntegratorError",
    "RecordRejected",
    "RequestRejected",
    "RetriableError",
    "StageFailed",
]


class IntegratorError(Exception):
    """Base of every error integrator raises on purpose."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a configuration file: where it is and what is wrong."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        parts = [part for part in (where, self.path, self.message) if part]
        return ": ".join(parts)


class ConfigError(IntegratorError):
    """The configuration is invalid. Carries every problem found, not just the first."""

    def __init__(self, problems: list[ConfigProblem] | ConfigProblem | str) -> None:
        if isinstance(problems, str):
            problems = [ConfigProblem(file="", line=None, path="", message=problems)]
        elif isinstance(problems, ConfigProblem):
            problems = [problems]
        self.problems: list[ConfigProblem] = problems
        super().__init__("\n".join(str(p) for p in problems))


class FilterSyntaxError(IntegratorError, ValueError):
    """An OData ``$filter`` expression could not be parsed. ``position`` is 0-based."""

    def __init__(self, message: str, text: str, position: int) -> None:
        self.text = text
        self.position = position
        self.reason = message
        super().__init__(f"invalid $filter at position {position}: {message} in {text!r}")


class FilterTypeError(IntegratorError, ValueError):
    """An OData ``$filter`` parses but does not fit the entity's property types
    (``lastname eq 1``). The message is worded as Dataverse words it."""

    def __init__(self, message: str) -> None:
        self.reason = message
        super().__init__(message)


class ConnectorError(IntegratorError):
    """Base for errors talking to a connected system."""


class RetriableError(ConnectorError):
    """A transient failure: throttled (429), server error (5xx) or the connection dropped."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class RequestRejected(ConnectorError):
    """The system refused the request (a 4xx other than 429); sending it again will not help."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        self.status = status
        self.code = code
        super().__init__(message)


class BadResponseError(ConnectorError):
    """The system answered with something that is not its protocol (garbage, wrong shape)."""


class RecordRejected(IntegratorError):
    """One record was refused. ``field`` names the field at fault when it is known."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class StageFailed(IntegratorError):
    """A stage of a run (plan, read, map, write, remove) failed as a whole, for one task."""

    def __init__(
        self,
        stage: str,
        run_id: str | int | None,
        cause: BaseException,
        *,
        task: str | None = None,
    ) -> None:
        self.stage = stage
        self.run_id = run_id
        self.task = task
        self.cause = cause
        where = f"run {run_id}" if task is None else f"run {run_id}, task {task}"
        super().__init__(f"{where}: stage {stage} failed: {cause}")
