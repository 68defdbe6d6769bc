"""Opening the history from several threads at once (a worker running two jobs opens two
stores, each migrating) never breaks: alembic keeps its environment in module globals, so the
migrations run one at a time in a process."""

from __future__ import annotations

import threading

import pytest

from integrator.engine.history import HistoryStore
from tests.connectors.databases import postgres_missing, postgres_schema


def test_stores_opened_by_many_threads_at_once_all_open() -> None:
    missing = postgres_missing()
    if missing is not None:
        pytest.skip(missing)
    with postgres_schema("threads") as url:
        HistoryStore.open(url).close()  # migrated: the threads race on the version check
        errors: list[BaseException] = []
        start = threading.Barrier(8)

        def open_and_close() -> None:
            start.wait()
            for _ in range(10):
                try:
                    HistoryStore.open(url).close()
                except BaseException as error:  # what the race raises (KeyError: 'config')
                    errors.append(error)

        threads = [threading.Thread(target=open_and_close) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

    assert errors == []
