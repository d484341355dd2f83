"""Run one database statement on a helper thread while this thread does other work.

Why: an import is mostly Python, and while PostgreSQL executes a statement
Python would only wait. psycopg runs one statement at a time per connection
(it holds the connection's lock for the whole statement), so a statement
started on a helper thread, through a cursor made on this one, keeps its
place in the connection's order: anything this thread sends meanwhile runs
after it, as it would have.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def helper_threads_allowed(connection: Any) -> bool:
    """Whether this connection's statements may run on a helper thread.

    PostgreSQL only, and not with ``server_side_binding``: Django's query
    logging then opens a cursor of its own, which a helper thread may not.
    """
    return connection.vendor == "postgresql" and not connection.features.uses_server_side_binding


def in_background(function: Callable[[], T], name: str) -> Callable[[], T]:
    """Start ``function()`` on a helper thread; the returned call waits for it.

    The call gives ``function``'s result or raises its exception, here. It
    must be made (the thread uses a connection this thread owns).
    """
    outcome: list[tuple[bool, T | BaseException]] = []

    def run() -> None:
        try:
            outcome.append((True, function()))
        except BaseException as exc:  # raised by the waiting call
            outcome.append((False, exc))

    helper = threading.Thread(target=run, name=f"admin_bulk_upsert-{name}", daemon=True)
    helper.start()

    def wait() -> T:
        helper.join()
        ((ok, value),) = outcome
        if not ok:
            raise value  # type: ignore[misc]
        return value  # type: ignore[return-value]

    return wait
