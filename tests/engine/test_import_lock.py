"""How long the import lock is held, seen from the database server.

On PostgreSQL the lock taken inside a transaction is the transaction's: still held when the
block that took it ends, gone with the commit, nothing left on the session (what a pooler in
transaction mode needs). Without a transaction it is a session lock for the block. On
MariaDB, ``GET_LOCK`` is held from before the transaction until after it. Another connection
asking for a held lock gives up after its timeout.

SQLite is skipped: it has no import lock (one writer at a time).
"""

from __future__ import annotations

import threading

import pytest
import tablib
from django.conf import settings
from django.db import connection, connections, transaction

from admin_bulk_upsert.engine import import_lock
from tests.engine.resources import ProductResource
from tests.testapp.models import Product

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.TEST_DB == "sqlite",
        reason="SQLite has no import lock: run on postgresql or mariadb",
    ),
]


HEADERS = ["sku", "code", "name"]


def held_here() -> bool:
    """Whether this connection's session holds a lock of the kind the import takes."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid() AND granted"
            )
        else:
            cursor.execute(
                "SELECT IS_USED_LOCK(%s) = CONNECTION_ID()",
                [f"admin_bulk_upsert:{Product._meta.db_table}"],
            )
        return bool(cursor.fetchone()[0])


def elsewhere(work):
    """Run ``work`` on another thread, hence another connection; what it raised or returned."""
    outcome = {}

    def run():
        try:
            outcome["value"] = work()
        except Exception as exc:
            outcome["error"] = exc
        finally:
            connections.close_all()  # this thread's connection only

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    return outcome


def try_lock():
    with import_lock.locked_transaction(Product, "default", 0):
        return "locked"


@pytest.mark.skipif(settings.TEST_DB != "postgresql", reason="PostgreSQL's transaction lock")
def test_postgresql_lock_in_a_transaction_ends_with_the_transaction():
    with transaction.atomic():
        with import_lock.lock_in_transaction(Product, "default", 5):
            assert held_here()
        # The block has ended, the transaction has not: the rows are not committed yet.
        assert held_here()
        assert isinstance(elsewhere(try_lock).get("error"), import_lock.ImportLockTimeout)
    assert not held_here()
    assert elsewhere(try_lock) == {"value": "locked"}


@pytest.mark.skipif(settings.TEST_DB != "postgresql", reason="PostgreSQL's session lock")
def test_postgresql_lock_without_a_transaction_is_held_for_the_block():
    with import_lock.lock_in_transaction(Product, "default", 5):
        assert held_here()
        assert isinstance(elsewhere(try_lock).get("error"), import_lock.ImportLockTimeout)
    assert not held_here()


@pytest.mark.skipif(settings.TEST_DB != "mariadb", reason="MariaDB's GET_LOCK")
def test_mariadb_lock_is_held_around_the_transaction():
    with import_lock.locked_transaction(Product, "default", 5):
        assert held_here()
        assert isinstance(elsewhere(try_lock).get("error"), import_lock.ImportLockTimeout)
    assert not held_here()
    assert elsewhere(try_lock) == {"value": "locked"}


@pytest.mark.parametrize("use_transactions", [True, False])
def test_an_import_leaves_no_lock_behind(use_transactions):
    dataset = tablib.Dataset(["P1", "c1", "one"], ["P2", "c2", "two"], headers=HEADERS)
    result = ProductResource().import_data(dataset, use_transactions=use_transactions)
    assert not result.has_errors()
    assert not held_here()
    assert Product.objects.count() == 2


def test_the_timeout_message_names_the_model():
    error = import_lock.ImportLockTimeout(Product, 5)
    assert str(error) == (
        "Another import of products has been running for more than 5 seconds; "
        "try again when it has finished."
    )
