"""Run one database statement on a helper thread while this thread does other work.

Why: an import is mostly Python, and while PostgreSQL executes a statement
Python would only wait. psycopg runs one statement at a time per connection
(it holds the connection's lock for the whole statement), so a statement
started on a helper thread, through a cursor made on this one, keeps its
place in the connection's order once it is sent: anything this thread sends
after that runs after it, as it would have.

Only where the import has the process to itself (the ``bulk_import`` command,
a job worker's step: :func:`~admin_bulk_upsert.gc_pause.import_owns_process`)
and the ``HELPER_THREADS`` setting is on (it is off by default: measured side
by side, ``docs/operations.md``, it gained nothing); in a web request the
statements always stay on the request's thread. A helper thread runs in a copy of the caller's
``contextvars`` context, so that what keeps state there (error reporting,
tracing, a database execute wrapper) sees the import's context on its
statements.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..conf import get_config
from ..gc_pause import owns_process

T = TypeVar("T")


def helper_threads_allowed(connection: Any) -> bool:
    """Whether this connection's statements may run on a helper thread.

    PostgreSQL only, and not with ``server_side_binding``: Django's query
    logging then opens a cursor of its own, which a helper thread may not.
    Only where the import owns the process, and ``HELPER_THREADS`` is on.
    """
    return (
        connection.vendor == "postgresql"
        and not connection.features.uses_server_side_binding
        and owns_process()
        and get_config().HELPER_THREADS
    )


def statement_sent(connection: Any) -> Callable[[], bool]:
    """Whether a statement is in progress on the connection (PostgreSQL).

    psycopg holds the connection's lock from sending a statement until its
    results are read, so once this is true, whatever this thread sends next
    waits for that statement: it runs after it, as it would have. (Only
    while no other thread has a statement of its own in progress: the
    writes wait for the lookups' helpers before they start theirs.)
    """
    from psycopg import pq  # optional (the postgres extra): only called on PostgreSQL

    pgconn = connection.connection.pgconn
    active = pq.TransactionStatus.ACTIVE
    return lambda: pgconn.transaction_status == active


def in_background(
    function: Callable[[], T], name: str, begun: Callable[[], bool] | None = None
) -> Callable[[], T]:
    """Start ``function()`` on a helper thread; the returned call waits for it.

    The call gives ``function``'s result or raises its exception, here. It
    must be made (the thread uses a connection this thread owns).

    With ``begun``, this returns only once ``begun()`` is true or the helper
    is done: a statement the helper must send before anything this thread
    sends next (see :func:`statement_sent`).
    """
    outcome: list[tuple[bool, T | BaseException]] = []

    def run() -> None:
        try:
            outcome.append((True, function()))
        except BaseException as exc:  # raised by the waiting call
            outcome.append((False, exc))

    context = contextvars.copy_context()
    helper = threading.Thread(
        target=context.run, args=(run,), name=f"admin_bulk_upsert-{name}", daemon=True
    )
    helper.start()
    if begun is not None:
        while not outcome and not begun():
            time.sleep(0)  # lets the helper run

    def wait() -> T:
        helper.join()
        ((ok, value),) = outcome
        if not ok:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]

    return wait
