"""Kill a database connection from another one, as a failover or a DBA does.

PostgreSQL: ``pg_terminate_backend``; MariaDB/MySQL: ``KILL CONNECTION``. The
statement runs on a connection of its own (a fresh ``DatabaseWrapper`` on the
same settings), never on the one it kills.
"""

from __future__ import annotations

import time

from django.db import connections


def backend_id(using="default"):
    """The server's id of ``using``'s open connection (its pid, its thread id)."""
    connection = connections[using]
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        return connection.connection.info.backend_pid
    return connection.connection.thread_id()


def kill(backend, using="default"):
    """Kill the server connection ``backend`` from another connection; wait until it is gone."""
    other = connections.create_connection(using)
    try:
        with other.cursor() as cursor:
            if other.vendor == "postgresql":
                cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
                for _ in range(200):
                    cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [backend])
                    if cursor.fetchone() is None:
                        return
                    time.sleep(0.05)
                raise AssertionError(f"backend {backend} still there after its termination")
            cursor.execute(f"KILL CONNECTION {int(backend)}")
    finally:
        other.close()


def long_transactions(using="default", seconds=1):
    """Ids of the other connections whose transaction has been open ``seconds`` or more.

    How a test finds the connection of an import running in another process:
    the import runs in one long transaction that has written rows, the job's
    progress in short ones (on MariaDB one of those may wait a while for a lock
    the import holds, having written nothing).
    """
    other = connections.create_connection(using)
    try:
        with other.cursor() as cursor:
            if other.vendor == "postgresql":
                cursor.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() "
                    "AND xact_start < now() - make_interval(secs => %s)",
                    [seconds],
                )
            else:
                cursor.execute(
                    "SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX "
                    "WHERE trx_mysql_thread_id <> CONNECTION_ID() AND trx_rows_modified > 0 "
                    "AND trx_started <= NOW() - INTERVAL %s SECOND",
                    [seconds],
                )
            return [row[0] for row in cursor.fetchall()]
    finally:
        other.close()


def import_connection(model, using="default"):
    """The id of the connection that runs an import of ``model`` in another process, or None.

    MariaDB/MySQL: the connection that holds the model's import lock
    (``IS_USED_LOCK``), else the long transaction that has written rows.
    PostgreSQL: the long transaction.
    """
    other = connections.create_connection(using)
    try:
        if other.vendor == "mysql":
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT IS_USED_LOCK(%s)", [f"admin_bulk_upsert:{model._meta.db_table}"]
                )
                (holder,) = cursor.fetchone()
            if holder is not None:
                return holder
    finally:
        other.close()
    found = long_transactions(using)
    return found[0] if len(found) == 1 else None
