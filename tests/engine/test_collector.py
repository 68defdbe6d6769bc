"""A run changes the garbage collector only while it goes on (it is the whole process's, so a
portal running several projects on threads must get it back as it was)."""

from __future__ import annotations

import gc
import threading

from integrator.engine.collector import fewer_collections


def test_objects_from_before_the_run_are_handed_back_after_it() -> None:
    frozen_before = gc.get_freeze_count()
    with fewer_collections():
        assert gc.get_freeze_count() > frozen_before
    assert gc.get_freeze_count() == frozen_before


def test_overlapping_runs_on_threads_undo_it_once_the_last_ends() -> None:
    frozen_before = gc.get_freeze_count()
    first_in, second_out, finish = threading.Event(), threading.Event(), threading.Event()
    during: list[int] = []

    def long_run() -> None:
        with fewer_collections():
            first_in.set()
            finish.wait(10)
            during.append(gc.get_freeze_count())

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
    # the short run ended while the long one goes on: the long one keeps its freeze
    assert gc.get_freeze_count() > frozen_before
    finish.set()
    worker.join(10)
    short.join(10)
    assert during and during[0] > frozen_before
    assert gc.get_freeze_count() == frozen_before


def test_an_error_in_the_run_undoes_it_too() -> None:
    frozen_before = gc.get_freeze_count()
    try:
        with fewer_collections():
            raise RuntimeError("a stage failed")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == frozen_before
