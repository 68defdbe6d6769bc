"""The exception tree, grouped by what the caller should do about each error.

Each class carries the exit code the command line ends with when it escapes a command
(SPEC §7) and a short ``category`` that ``--json`` prints as ``{"error": {"code": ...}}``:

- :class:`ConfigError` (2): the configuration is wrong; nothing runs.
- :class:`UsageError` (2): the command line names something that is not there
  (:class:`RunNotFound`).
- :class:`SystemUnavailable` (3): a system could not be reached (:class:`SystemUnreachable`) or
  refused the credentials (:class:`CredentialsRefused`), or answered its metadata with an
  error or something that is not OData (:class:`SystemFailing`); names the system and its URL.
  :class:`UnavailableSystems` gathers one per system when validation met several.
- :class:`ProjectBusy` (4): the project is already running elsewhere.
- :class:`RetriableError` (1): a transient failure (429, 5xx, dropped connection); try again later.
- :class:`RequestRejected` (1): the remote system refused a request; sending it again fails again.
- :class:`BadResponseError` (1): the remote system answered something that is not its protocol.
- :class:`RecordRejected` (1): one record was refused; the run goes on without it.
- :class:`StageFailed` (1): a stage of a run failed as a whole; names the stage and the run.
- :class:`NothingToRerun` (0): not a failure: Re-run of a run that has no failed records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

__all__ = [
    "BadResponseError",
    "ConfigError",
    "ConfigProblem",
    "ConnectorError",
    "CredentialsRefused",
    "FilterSyntaxError",
    "FilterTypeError",
    "IntegratorError",
    "NothingToRerun",
    "ProjectBusy",
    "RecordRejected",
    "RequestRejected",
    "RetriableError",
    "RunAlreadyWaiting",
    "RunNotFound",
    "StageFailed",
    "SystemFailing",
    "SystemUnavailable",
    "SystemUnreachable",
    "UnavailableSystems",
    "UsageError",
]


class IntegratorError(Exception):
    """Base of every error integrator raises on purpose.

    ``exit_code`` is what the command line exits with when the error ends a command;
    ``category`` names the kind of error in ``--json`` output (``{"error": {"code": ...}}``).
    """

    exit_code: ClassVar[int] = 1
    category: ClassVar[str] = "error"


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

    exit_code = 2
    category = "configuration"

    def __init__(self, problems: list[ConfigProblem] | ConfigProblem | str) -> None:
        if isinstance(problems, str):
            problems = [ConfigProblem(file="", line=None, path="", message=problems)]
        elif isinstance(problems, ConfigProblem):
            problems = [problems]
        self.problems: list[ConfigProblem] = problems
        super().__init__("\n".join(str(p) for p in problems))


class UsageError(IntegratorError):
    """The command line names something that is not there (a run, a project); nothing ran."""

    exit_code = 2
    category = "usage"


class RunNotFound(UsageError):
    """The history has no run with this number."""

    category = "no-such-run"

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(f"there is no run {run_id} in this workspace's history")


class NothingToRerun(IntegratorError):
    """Not a failure: Re-run execution of a run without failed records has nothing to send,
    so no run is added (exit code 0)."""

    exit_code = 0
    category = "nothing-to-rerun"

    def __init__(self, run_id: int, project: str) -> None:
        self.run_id = run_id
        self.project = project
        super().__init__(
            f"run {run_id} of {project} has no failed records: nothing to run again, "
            "no run was added"
        )


class ProjectBusy(IntegratorError):
    """Another process is running the project; this run did not start."""

    exit_code = 4
    category = "project-busy"

    def __init__(self, project: str, message: str) -> None:
        self.project = project
        super().__init__(message)


class RunAlreadyWaiting(ProjectBusy):
    """Distributed mode: a run of the project already waits in the queue (job ``job_id``,
    when it could be read), so no other is enqueued."""

    category = "already-waiting"

    def __init__(self, project: str, job_id: int | None) -> None:
        self.job_id = job_id
        which = f" (job {job_id})" if job_id is not None else ""
        super().__init__(
            project,
            f"a run of {project} already waits in the queue for a worker{which}; "
            "it was not enqueued again",
        )


class FilterSyntaxError(IntegratorError, ValueError):
    """An OData ``$filter`` expression could not be parsed. ``position`` is 0-based."""

    exit_code = 2
    category = "filter"

    def __init__(self, message: str, text: str, position: int) -> None:
        self.text = text
        self.position = position
        self.reason = message
        super().__init__(f"invalid $filter at position {position}: {message} in {text!r}")


class FilterTypeError(IntegratorError, ValueError):
    """An OData ``$filter`` parses but does not fit the entity's property types
    (``lastname eq 1``). The message is worded as Dataverse words it."""

    exit_code = 2
    category = "filter"

    def __init__(self, message: str) -> None:
        self.reason = message
        super().__init__(message)


class ConnectorError(IntegratorError):
    """Base for errors talking to a connected system."""

    category = "connector"


class RetriableError(ConnectorError):
    """A transient failure: throttled (429), server error (5xx) or the connection dropped."""

    category = "transient"

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class RequestRejected(ConnectorError):
    """The system refused the request (a 4xx other than 429); sending it again will not help.

    ``code`` is the system's own error code (OData ``error.code``), not :attr:`category`."""

    category = "rejected"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None) -> None:
        self.status = status
        self.code = code
        super().__init__(message)


class BadResponseError(ConnectorError):
    """The system answered with something that is not its protocol (garbage, wrong shape)."""

    category = "bad-response"


class SystemUnavailable(ConnectorError):
    """A system could not be reached, or refused the credentials: nothing can be done with it
    until someone fixes the network, the URL or the credentials (exit code 3).

    ``system`` is the workspace's name for it (``sales``, ``cds``, ``finops``), ``url`` its
    service root; either may be filled in by a caller that knows it (:meth:`named`).
    """

    exit_code = 3
    category = "system-unavailable"
    verb: ClassVar[str] = "is not available"

    def __init__(self, reason: str, *, url: str | None = None, system: str | None = None) -> None:
        self.reason = reason
        self.url = url
        self.system = system
        ConnectorError.__init__(self, reason)

    def named(self, *, system: str | None = None, url: str | None = None) -> SystemUnavailable:
        """This error, with ``system`` and ``url`` filled in where they were not known yet."""
        self.system = self.system or system
        self.url = self.url or url
        return self

    def __str__(self) -> str:
        who = self.system or "the system"
        where = f" at {self.url}" if self.url else ""
        return f"{who} {self.verb}{where}: {self.reason}"


class SystemUnreachable(SystemUnavailable, RetriableError):
    """The system cannot be reached: connection refused, host not found, TLS handshake failed,
    no answer to connect. Retried briefly before it is raised. Mid-run it is still a transient
    failure (a :class:`RetriableError`): the records it stopped are retried by the next run."""

    category = "system-unreachable"
    verb = "cannot be reached"

    def __init__(self, reason: str, *, url: str | None = None, system: str | None = None) -> None:
        SystemUnavailable.__init__(self, reason, url=url, system=system)
        self.status = None
        self.retry_after = None


class CredentialsRefused(SystemUnavailable):
    """The system (or its identity provider) refused the credentials: HTTP 401, 403 on a
    read, a redirect to a sign-in page, Azure AD refusing the client (``invalid_client``)."""

    category = "credentials-refused"
    verb = "refused the credentials"

    def __init__(
        self,
        reason: str,
        *,
        url: str | None = None,
        system: str | None = None,
        status: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(reason, url=url, system=system)
        self.status = status
        self.code = code


class SystemFailing(SystemUnavailable, RetriableError):
    """The system answers, but not its metadata: a 5xx after every retry, an error, or a body
    that is not OData. Nothing can be checked or run against it (exit code 3); mid-run it is a
    transient failure like :class:`SystemUnreachable`. ``reason`` starts with what it answered
    (``500 to 8 attempts: ...``)."""

    category = "system-failing"
    verb = "answered"

    def __init__(
        self,
        reason: str,
        *,
        url: str | None = None,
        system: str | None = None,
        status: int | None = None,
    ) -> None:
        SystemUnavailable.__init__(self, reason, url=url, system=system)
        self.status = status
        self.retry_after = None

    def __str__(self) -> str:
        who = self.system or (f"the system at {self.url}" if self.url else "the system")
        return f"{who} {self.verb} {self.reason}"


class UnavailableSystems(IntegratorError):
    """Validation met systems it could not use: one :class:`SystemUnavailable` per system, in
    the order they were met. Nothing ran (exit code 3)."""

    exit_code = 3
    category = "system-unavailable"

    def __init__(self, errors: Sequence[SystemUnavailable]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(str(error) for error in self.errors))


class RecordRejected(IntegratorError):
    """One record was refused. ``field`` names the field at fault when it is known."""

    category = "record-rejected"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class StageFailed(IntegratorError):
    """A stage of a run (plan, read, map, write, remove) failed as a whole, for one task."""

    category = "stage-failed"

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
