"""A run changes the garbage collector's settings only while it goes on (they are the whole
process's, so a portal running several projects on threads must get them back as they were)."""

from __future__ import annotations

import gc
import threading

from integrator.engine.collector import RUN_GEN0_THRESHOLD, fewer_collections


def test_the_settings_are_the_process_own_again_after_the_run() -> None:
    before = gc.get_threshold()
    frozen_before = gc.get_freeze_count()
    with fewer_collections():
        assert gc.get_threshold() == (RUN_GEN0_THRESHOLD, *before[1:])
        assert gc.get_freeze_count() > frozen_before
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == frozen_before


def test_overlapping_runs_on_threads_restore_them_once_the_last_ends() -> None:
    before = gc.get_threshold()
    first_in, second_out, finish = threading.Event(), threading.Event(), threading.Event()
    seen: list[tuple[int, int, int]] = []

    def long_run() -> None:
        with fewer_collections():
            first_in.set()
            finish.wait(10)
            seen.append(gc.get_threshold())

    def short_run() -> None:
        with fewer_collections():
            pass
        second_out.set()

    worker = threading.Thread(target=long_run)
    worker.start()
    first_in.wait(10)
    short = threading.Thread(target=short_run)
    short.start()
    second_out.wait(10)
    # the short run ended while the long one goes on: the long one keeps the run settings
    assert gc.get_threshold()[0] == RUN_GEN0_THRESHOLD
    finish.set()
    worker.join(10)
    short.join(10)
    assert seen == [(RUN_GEN0_THRESHOLD, *before[1:])]
    assert gc.get_threshold() == before


def test_an_error_in_the_run_restores_them_too() -> None:
    before = gc.get_threshold()
    try:
        with fewer_collections():
            raise RuntimeError("a stage failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == before
