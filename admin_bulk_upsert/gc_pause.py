"""Keep Python's cyclic garbage collector from rescanning a growing import, where that is safe.

An import keeps a result per row (and, for the admin, the diff data) until it
ends, so the heap grows by tens of objects per row. CPython's collector runs a
full collection each time the long-lived objects grew by a quarter, and every
one of those walks the whole heap. Almost everything an import frees is freed
by reference counting; the cycles it makes (an exception and its traceback,
for a failing row) are young. So while chunks are imported the automatic
collector may be paused, and after each chunk only the young generations are
collected: that finds the chunk's cycles, in time proportional to the chunk,
never to the file. ``docs/operations.md`` gives the measured figures.

The collector is the process's, not the import's: paused, it stops for every
thread. So it is paused only where the import has the process to itself: the
``bulk_import`` command and a job worker's step say so with
:func:`import_owns_process`; a web request or a thread pool never does, and
there the collector runs as usual. The ``PAUSE_GC`` setting turns the pause
off everywhere (a worker that runs several tasks at once on threads).

Imports that overlap in one process share one pause: the first pauses, the
last to end gives automatic collection back (if it was on before the first),
so that one import ending never switches it back on under another.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .conf import get_config

__all__ = ["import_owns_process", "owns_process", "paused_collection"]

#: Set by the code that runs an import in a process of its own; read by the
#: import's own threads (helper threads copy the caller's context).
_owns_process: ContextVar[bool] = ContextVar("admin_bulk_upsert_owns_process", default=False)

_lock = threading.Lock()
_pauses = 0
_enable_after = False


@contextmanager
def import_owns_process() -> Iterator[None]:
    """Declare that, inside this block, the imports run in a process of their own.

    The ``bulk_import`` command and a job worker's step use it: nothing else
    runs Python code in the process meanwhile, so pausing the collector and
    running statements on helper threads (:mod:`.engine.statement_thread`)
    costs no one else anything.
    """
    token = _owns_process.set(True)
    try:
        yield
    finally:
        _owns_process.reset(token)


def owns_process() -> bool:
    """Whether the current code runs inside :func:`import_owns_process`."""
    return _owns_process.get()


@contextmanager
def paused_collection() -> Iterator[Callable[[], None]]:
    """Pause automatic collection; yield the function that collects the young generations.

    An import calls it after each chunk. Code that only builds survivors
    (reading a file into rows) need not call it at all. Outside
    :func:`import_owns_process`, or with ``PAUSE_GC`` off, nothing is paused
    and the function does nothing: the collector runs as usual.
    """
    if not (owns_process() and get_config().PAUSE_GC):
        yield _nothing
        return
    _pause()
    try:
        yield _collect_young
    finally:
        _resume()


def _pause() -> None:
    global _pauses, _enable_after
    with _lock:
        if _pauses == 0:
            _enable_after = gc.isenabled()
            gc.disable()
        _pauses += 1


def _resume() -> None:
    global _pauses
    with _lock:
        _pauses -= 1
        if _pauses == 0 and _enable_after:
            gc.enable()


def _collect_young() -> None:
    gc.collect(1)


def _nothing() -> None:
    return None
