"""One import of a model at a time, per database.

Two imports of overlapping files that both look a key up, find nothing and
insert it would end with the key twice on a model without a unique
constraint, and with a failed import on one that has one (measured: seven of
eight concurrent stock imports failing on deadlocks). An advisory lock per
model table makes the second import wait until the first has committed; it
then finds the first one's rows and reports them as updates.

PostgreSQL: ``pg_advisory_lock``; MariaDB/MySQL: ``GET_LOCK``. Both are
session locks, taken before the import's transaction opens and released after
it ends (on PostgreSQL, inside a caller's transaction, a transaction lock
held until that transaction ends; on MariaDB the lock is released when the
import returns, so wrap concurrent imports in no outer transaction there).
SQLite needs none: it lets one writer in at a time.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections
from django.db.models import Model
from django.utils.translation import gettext as _


class ImportLockTimeout(RuntimeError):
    """Another import of the same model held the lock for longer than allowed."""


def _lock_name(model: type[Model]) -> str:
    return f"admin_bulk_upsert:{model._meta.db_table}"


def _pg_lock_id(name: str) -> int:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@contextmanager
def model_import_lock(model: type[Model], using: str, timeout: float) -> Iterator[None]:
    """Hold the model's import lock on ``using`` for the duration of the block."""
    connection = connections[using]
    name = _lock_name(model)
    if connection.vendor == "postgresql":
        lock_id = _pg_lock_id(name)
        # Inside a caller's transaction, hold the lock until that transaction
        # ends: releasing it earlier would let another import in before this
        # one's rows are visible.
        in_transaction = connection.in_atomic_block
        function = "pg_try_advisory_xact_lock" if in_transaction else "pg_try_advisory_lock"
        deadline = time.monotonic() + timeout
        with connection.cursor() as cursor:
            while True:
                cursor.execute(f"SELECT {function}(%s)", [lock_id])
                if cursor.fetchone()[0]:
                    break
                if time.monotonic() >= deadline:
                    raise ImportLockTimeout(_lock_timeout_message(model, timeout))
                time.sleep(0.05)
        if in_transaction:
            yield
            return
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_id])
    elif connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT GET_LOCK(%s, %s)", [name, timeout])
            if cursor.fetchone()[0] != 1:
                raise ImportLockTimeout(_lock_timeout_message(model, timeout))
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT RELEASE_LOCK(%s)", [name])
    else:
        yield


def _lock_timeout_message(model: type[Model], timeout: float) -> str:
    return _(
        "Another import of %(model)s has been running for more than %(seconds)d seconds; "
        "try again when it has finished."
    ) % {"model": model._meta.verbose_name_plural, "seconds": timeout}
