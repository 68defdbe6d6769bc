"""The cyclic garbage collector's settings while a project runs.

A run creates millions of short-lived objects (records, mapped rows, statement parameters) that
reference counting frees as soon as a page is done: they hold no cycles. Python's default
thresholds still collect the youngest generation every 700 net allocations and, every hundred
or so of those, run a full collection that walks every live object of the process: the
libraries' modules, compiled statements, the connectors' metadata, hundreds of thousands of
objects that will live as long as the process. Measured on a 20,000-contact initial run over
SQL (``gc.callbacks`` timing each collection): 2.2 s in 1,692 collections of a 14 s run; with
the settings below, 0.5 s in 270.

For the length of a run, :func:`fewer_collections` moves what exists at its start out of the
collector's reach (``gc.freeze``: those objects were already there and stay) and collects the
youngest generation after 50,000 net allocations instead of 700; cycles made during the run are
still found, only later. Runs on several threads of one process (the portal) share the setting:
the first to start sets it, the last to end restores what was there.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["RUN_GEN0_THRESHOLD", "fewer_collections"]

#: net allocations between collections of the youngest generation while a run goes on
RUN_GEN0_THRESHOLD = 50_000

_lock = threading.Lock()
_active = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Within the block: objects that existed before it are not scanned by the collector, and
    the youngest generation is collected less often; both restored when the last such block of
    the process ends (blocks may overlap on several threads)."""
    global _active, _saved
    with _lock:
        if _active == 0:
            _saved = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(RUN_GEN0_THRESHOLD, *_saved[1:])
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                gc.unfreeze()
                _saved = None
