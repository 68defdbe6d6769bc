"""Which finished runs queue a mail: a new failure or a change of status does; the same records
failing the same way again do not, even with runs in between whose records waited."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from integrator.config.workspace import load_workspace
from integrator.engine.history import Counts, HistoryStore, PageCommit, RecordError, RunStatus
from integrator.engine.history.runlog import FinishHook
from integrator.notify import mail_status, notification_hook
from tests.commands import integrator
from tests.notify.conftest import CONTACTS, notify

TASK = "Contacts"


@pytest.fixture
def finish(tmp_path: Path) -> Iterator[tuple[HistoryStore, FinishHook | None]]:
    root = tmp_path / "ws"
    assert integrator("init", str(root), "--sandbox", "http://127.0.0.1:9").returncode == 0
    with (root / "integrator.yaml").open("a", encoding="utf-8") as settings:
        settings.write("smtp: {host: 127.0.0.1, port: 9, sender: integrator@contoso.com}\n")
    notify(root, CONTACTS, None)
    workspace = load_workspace(root)
    store = HistoryStore.open(workspace.history_database_url)
    yield store, notification_hook(workspace)
    store.close()


def _run(
    store: HistoryStore,
    hook: FinishHook,
    errors: list[tuple[str, str, bool]],
    *,
    succeeded: int = 1,
    status: RunStatus | None = None,
    message: str | None = None,
) -> tuple[RunStatus, bool]:
    """A finished run of Contacts with ``errors`` (key, message, still failing); returns its
    status and whether it queued a mail."""
    log = store.log
    run_id = log.start_run(CONTACTS, [TASK], mode="incremental")
    failed = [
        RecordError(TASK, "CDS → Destination", key, text, field="F", still_failing=same)
        for key, text, same in errors
    ]
    counts = Counts(
        read=succeeded + len(failed),
        inserted=succeeded,
        errors=len(failed),
        still_failing=sum(e.still_failing for e in failed),
    )
    store.record_batch(PageCommit(run_id, 0, CONTACTS, TASK, counts=counts, errors=failed))
    log.finish_task(run_id, 0, status)
    final = log.finish_run(run_id, status, message, after=hook)
    return final, mail_status(store, run_id) is not None


def test_only_news_is_mailed(finish: tuple[HistoryStore, FinishHook | None]) -> None:
    store, hook = finish
    assert hook is not None
    bad_role = ("CON-1", "role 'Influencer' does not exist", False)
    still_bad_role = ("CON-1", "role 'Influencer' does not exist", True)
    assert _run(store, hook, [bad_role]) == (RunStatus.WARNING, True)
    assert _run(store, hook, [still_bad_role]) == (RunStatus.WARNING, False)
    # its records wait for their backoff: Completed, no mail; then retried, the same failure
    assert _run(store, hook, []) == (RunStatus.COMPLETED, False)
    assert _run(store, hook, [still_bad_role]) == (RunStatus.WARNING, False)
    # a record failing anew
    assert _run(store, hook, [still_bad_role, ("CON-2", "no account", False)]) == (
        RunStatus.WARNING,
        True,
    )
    # a change of status: the same failures, then the next stage failed as a whole
    down = "F&O cannot be reached"
    assert _run(store, hook, [still_bad_role], status=RunStatus.ERROR, message=down) == (
        RunStatus.ERROR,
        True,
    )
    # a stage failure: the same message again is no news, another one is
    assert _run(store, hook, [], status=RunStatus.ERROR, message=down) == (RunStatus.ERROR, False)
    assert _run(store, hook, [], status=RunStatus.ERROR, message="F&O refused the login") == (
        RunStatus.ERROR,
        True,
    )
    # and a status the project did not ask for never mails
    assert _run(store, hook, [], status=RunStatus.INTERRUPTED) == (RunStatus.INTERRUPTED, False)
