"""A first run killed while it creates the history database leaves a database the next run
opens: the schema is created in one transaction, all or nothing.

(Found by the kill suite: before, each CREATE TABLE committed alone, and a kill between two
left tables without an ``alembic_version`` row; every later ``integrator run`` or ``history``
then failed with "table runs already exists".)
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from integrator.engine.history import HistoryStore

KILL_DURING_MIGRATION = textwrap.dedent(
    """
    import os, signal, sys
    import sqlalchemy as sa
    from integrator.engine.history import store

    create_engine = sa.create_engine

    def killing_engine(*args, **kwargs):
        engine = create_engine(*args, **kwargs)

        @sa.event.listens_for(engine, "after_cursor_execute")
        def after(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().startswith("CREATE TABLE") and sys.argv[2] in statement:
                os.kill(os.getpid(), signal.SIGKILL)

        return engine

    store.sa.create_engine = killing_engine
    store.HistoryStore.open(sys.argv[1])
    """
)


@pytest.mark.parametrize("table", ["runs", "task_runs", "checkpoints", "record_state"])
def test_a_history_database_killed_while_created_opens_again(tmp_path: Path, table: str) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    killed = subprocess.run(
        [sys.executable, "-c", KILL_DURING_MIGRATION, url, table],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr  # it really died in the middle

    store = HistoryStore.open(url)
    try:
        assert store.runs() == []
        run_id = store.log.start_run("Accounts", ["Accounts"], mode="incremental")
        assert [run.id for run in store.runs()] == [run_id]
    finally:
        store.close()
