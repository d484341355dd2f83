"""Telling a lost database connection from an ordinary error.

A failover, a restarted server or a DBA's ``pg_terminate_backend`` /
``KILL CONNECTION`` ends the import's connection mid-import. What surfaces
then depends on the statement that noticed: "terminating connection due to
administrator command", "the connection is closed", "Lost connection to
server during query", or a later statement's "connection already closed",
raised from a ``finally`` over the first. None of these is the row's or the
file's fault: an import stops at the first (:func:`raise_if_lost`), where
stock DIE would record every later row as failed with the same error, and the
callers (the ``bulk_import`` command, a job's step, a revert) say in one line
what happened, what was written and how to resume, instead of a traceback.

An error says the connection is lost when the driver's error behind it does:
a PostgreSQL connection exception or operator intervention (SQLSTATE class
``08`` or ``57P``), or an error psycopg raises itself with no SQLSTATE (the
connection closed under it); MySQL/MariaDB client errors 2006 and 2013 (the
server has gone away, lost during a query), server errors 1927 (connection
killed) and 4031 (disconnected for inactivity).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import InterfaceError, OperationalError, connections

__all__ = ["connection_lost", "is_lost_connection", "loss_reason", "raise_if_lost"]

_MYSQL_LOST = frozenset({1927, 2006, 2013, 4031})


def is_lost_connection(exc: BaseException | None) -> bool:
    """Whether ``exc``, or an error it was raised over, says the connection is gone."""
    return any(_says_lost(error) for error in _chain(exc))


def connection_lost(using: str, exc: BaseException | None = None) -> bool:
    """Whether ``exc`` (raised by an import on ``using``) means its connection was lost.

    Asks the error first, then the connection: one that no longer answers
    (Django may already have opened a new one, for a statement in a
    ``finally``, so the error is the surer witness).
    """
    if is_lost_connection(exc):
        return True
    if exc is not None and not isinstance(exc, OperationalError | InterfaceError):
        return False
    connection = connections[using]
    if connection.vendor == "sqlite" or connection.connection is None:
        return False
    return not connection.is_usable()


def raise_if_lost(row_errors: Sequence[Any]) -> None:
    """Raise the first of a chunk's row errors (DIE ``Error`` objects) that is a lost connection.

    Every row after it would fail the same way: stop the import instead.
    """
    for error in row_errors:
        exc = getattr(error, "error", None)
        if isinstance(exc, BaseException) and is_lost_connection(exc):
            raise exc


def loss_reason(exc: BaseException | None) -> str:
    """What the server or driver first said, in one line.

    The statement that noticed the loss is often not the first error: a lock
    released in a ``finally`` reports "connection already closed" over the
    server's "terminating connection due to administrator command".
    """
    found = ""
    for error in _chain(exc):
        if _says_lost(error) or isinstance(error, OperationalError | InterfaceError):
            found = _message(error) or found
    return found


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _says_lost(error: BaseException) -> bool:
    module = type(error).__module__
    if module.startswith("psycopg"):  # psycopg 3 (sqlstate) and psycopg2 (pgcode)
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if code is None:
            return type(error).__name__ in ("OperationalError", "InterfaceError")
        return str(code).startswith(("08", "57P"))
    if module.startswith("MySQLdb"):
        return bool(error.args) and error.args[0] in _MYSQL_LOST
    return False


def _message(exc: BaseException) -> str:
    args = exc.args
    # MySQLdb's errors are (code, message).
    text = str(args[1]) if len(args) == 2 and isinstance(args[0], int) else str(exc)
    lines = text.strip().splitlines()
    return lines[0] if lines else ""
