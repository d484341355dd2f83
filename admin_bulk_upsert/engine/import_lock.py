"""One import of a model at a time, per database.

Two imports of overlapping files that both look a key up, find nothing and
insert it would end with the key twice on a model without a unique
constraint, and with a failed import on one that has one (measured: seven of
eight concurrent stock imports failing on deadlocks). A lock per model table
makes the second import wait until the first has committed; it then finds the
first one's rows and reports them as updates.

The lock must be held until the import's rows are committed, and must not
outlive the import. Each database gets the lock that does both:

- PostgreSQL: ``pg_try_advisory_xact_lock``, taken as the first statement
  *inside* the import's transaction (:func:`lock_in_transaction`) and released
  by its commit or rollback. Nothing of it is left on the server session, so
  it works behind a pooler in transaction mode (PgBouncer's
  ``pool_mode = transaction``), which hands each transaction whichever server
  connection is free: a session lock taken before the transaction and
  released after it would be taken on one server connection and "released"
  on another, neither keeping imports apart nor ever being released.
  The lock is polled (every 50 ms, until ``timeout``) rather than waited for
  in the server, so that the wait has a deadline without a ``SET`` of
  ``lock_timeout``. The transaction must be ``READ COMMITTED`` (Django's
  default): a ``REPEATABLE READ`` snapshot is taken by the lock's own
  statement, before the other import committed.
- MariaDB/MySQL: ``GET_LOCK``, a session lock that a commit does not release.
  It is taken *before* the import's transaction opens and released after it
  ends (:func:`lock_around_transaction`): released any earlier, the next
  import could read the table before this one's rows are committed. MariaDB
  has no pooler that moves a session between transactions, so the session
  holds it throughout. An import inside a caller's transaction still
  releases it when the import returns, before that transaction commits: run
  concurrent imports in no outer transaction there.
- SQLite needs none: it lets one writer in at a time.

An import without a transaction (DIE's ``use_transactions=False``, outside a
dry run) has no transaction to scope a lock to: on PostgreSQL it takes a
session lock (``pg_try_advisory_lock``) and releases it at the end, which is
right on a direct connection but not behind a transaction pooler (system
check ``admin_bulk_upsert.W007``, :mod:`admin_bulk_upsert.checks.pooling`).

:func:`locked_transaction` is both around a transaction of its own, for work
that is one transaction (a revert).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

#: Seconds between two tries of a PostgreSQL lock held by another import.
POLL_INTERVAL = 0.05


class ImportLockTimeout(RuntimeError):
    """Another import of the same model held the lock for longer than allowed."""

    def __init__(self, model: type[Model], timeout: float) -> None:
        super().__init__(_lock_timeout_message(model, timeout))
        self.model = model
        self.timeout = timeout


def _lock_name(model: type[Model]) -> str:
    return f"admin_bulk_upsert:{model._meta.db_table}"


def _pg_lock_id(name: str) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def lock_around_transaction(model: type[Model], using: str, timeout: float) -> Iterator[None]:
    """Enter before the import's transaction opens: MariaDB/MySQL's ``GET_LOCK``.

    A no-op on other databases, whose lock is :func:`lock_in_transaction`'s.
    """
    connection = connections[using]
    if connection.vendor != "mysql":
        yield
        return
    name = _lock_name(model)
    with connection.cursor() as cursor:
        cursor.execute("SELECT GET_LOCK(%s, %s)", [name, timeout])
        if cursor.fetchone()[0] != 1:
            raise ImportLockTimeout(model, timeout)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT RELEASE_LOCK(%s)", [name])


@contextmanager
def lock_in_transaction(model: type[Model], using: str, timeout: float) -> Iterator[None]:
    """Enter first thing inside the import's transaction: PostgreSQL's advisory lock.

    Inside a transaction, the lock is the transaction's and is released when
    it ends, not at the end of the block. Outside one, a session lock for the
    block (see the module docstring for what that means behind a pooler).
    A no-op on other databases.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    lock_id = _pg_lock_id(_lock_name(model))
    if connection.in_atomic_block:
        _poll(connection, "pg_try_advisory_xact_lock", lock_id, model, timeout)
        yield
        return
    _poll(connection, "pg_try_advisory_lock", lock_id, model, timeout)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
            released = cursor.fetchone()[0]
        if not released:
            # The statement reached another server session than the one
            # holding the lock: a pooler in transaction mode.
            logger.warning(
                "The import lock of %s was taken on another database session and could "
                "not be released: is a pooler in transaction mode in front of %r? Import "
                "in a transaction (use_transactions=True) behind such a pooler.",
                model._meta.label,
                using,
            )


@contextmanager
def locked_transaction(model: type[Model], using: str, timeout: float) -> Iterator[None]:
    """A transaction on ``using`` holding the model's import lock until it has ended."""
    with (
        lock_around_transaction(model, using, timeout),
        transaction.atomic(using=using),
        lock_in_transaction(model, using, timeout),
    ):
        yield


def _poll(
    connection: BaseDatabaseWrapper,
    function: str,
    lock_id: int,
    model: type[Model],
    timeout: float,
) -> None:
    """Try ``function`` (a ``pg_try_advisory_*lock``) until it succeeds or ``timeout`` ends."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute(f"SELECT {function}(%s)", [lock_id])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() >= deadline:
                raise ImportLockTimeout(model, timeout)
            time.sleep(POLL_INTERVAL)


def _lock_timeout_message(model: type[Model], timeout: float) -> str:
    return _(
        "Another import of %(model)s has been running for more than %(seconds)d seconds; "
        "try again when it has finished."
    ) % {"model": model._meta.verbose_name_plural, "seconds": timeout}
