"""What every page and API handler of the portal reaches through ``request.app.state.portal``:
the workspace as its files are now, its history, the systems' metadata, the run launcher and
the sign-in settings.

The portal holds no copy of the configuration: each request reads the workspace as the files
are (reloaded when one changed), so an edit made in a file shows at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from starlette.templating import Jinja2Templates

from integrator.config.workspace import Workspace
from integrator.connectors.base import EntityInfo
from integrator.engine.connections import history_url
from integrator.engine.history import HistoryStore
from integrator.engine.run import Engine
from integrator.errors import ConfigError, ConfigProblem, SystemUnavailable, UnavailableSystems
from integrator.portal.auth import PortalCredentials
from integrator.portal.launcher import RunLauncher
from integrator.serve.watch import WorkspaceWatch

__all__ = ["PortalContext", "Validation"]

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


@dataclass
class Validation:
    """A project checked against its files and the systems' metadata: ``problems`` (each with
    file and line), or ``unavailable`` when a system could not be asked (why)."""

    problems: list[ConfigProblem] = field(default_factory=list)
    unavailable: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the project has no problem and every system answered."""
        return not self.problems and self.unavailable is None


class PortalContext:
    """The portal's view of the workspace at ``root``.

    ``no_auth`` serves without sign-in (loopback only, checked by the server). ``launcher``
    starts the runs the portal asks for; ``stop`` is the server's stop event.
    """

    def __init__(
        self,
        root: Path,
        *,
        credentials: PortalCredentials,
        launcher: RunLauncher | None = None,
        stop: threading.Event | None = None,
        no_auth: bool = False,
    ) -> None:
        self.root = root
        self.credentials = credentials
        self.no_auth = no_auth
        self.stop = stop if stop is not None else threading.Event()
        self._watch = WorkspaceWatch(root)
        self._watch_lock = threading.Lock()
        self.launcher = launcher or RunLauncher(self.workspace, stop=self.stop)
        self.templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
        self._history: HistoryStore | None = None
        self._metadata: Engine | None = None
        self._metadata_for: Workspace | None = None
        self._metadata_lock = threading.RLock()

    def workspace(self) -> Workspace:
        """The workspace as its files are now (reloaded only when one changed)."""
        with self._watch_lock:
            return self._watch.current()

    @property
    def history(self) -> HistoryStore:
        """The workspace's history store (opened and migrated on first use)."""
        if self._history is None:
            self._history = HistoryStore.open(history_url(self.workspace()))
        return self._history

    def _metadata_engine(self) -> Engine:
        """An engine kept for metadata and validation, replaced when the workspace reloads
        (its connectors then follow the connection sets as they are now)."""
        workspace = self.workspace()
        with self._metadata_lock:
            if self._metadata is None or self._metadata_for is not workspace:
                if self._metadata is not None:
                    self._metadata.close()
                self._metadata = Engine(workspace)
                self._metadata_for = workspace
            return self._metadata

    def describe(self, system: str, entity: str) -> EntityInfo | None:
        """``entity`` as ``system`` describes it (cached until :meth:`refresh_metadata` or the
        workspace reloads); ``None`` when the system has no such entity. Raises
        :class:`SystemUnavailable` naming the system when it cannot be asked."""
        with self._metadata_lock:
            return self._metadata_engine().describe(system, entity)

    def refresh_metadata(self) -> None:
        """Forget the metadata read so far (Data Integrator's *Refresh entities*)."""
        with self._metadata_lock:
            if self._metadata is not None:
                self._metadata.close()
            self._metadata = None

    def validate(self, project: str) -> Validation:
        """``project`` (and its prerequisites) checked as ``integrator run`` checks it first."""
        with self._metadata_lock:
            try:
                self._metadata_engine().validate([project])
            except ConfigError as error:
                return Validation(problems=list(error.problems))
            except (SystemUnavailable, UnavailableSystems) as error:
                return Validation(unavailable=str(error))
        return Validation()

    def close(self) -> None:
        """Release the history database and the systems' connections."""
        with self._metadata_lock:
            if self._metadata is not None:
                self._metadata.close()
                self._metadata = None
        if self._history is not None:
            self._history.close()
            self._history = None
