"""``bulk_import`` when its database connection is killed mid-import.

A failover, a DBA's ``pg_terminate_backend`` or ``KILL CONNECTION``: the
command says in one line what happened, what was written and how to resume,
and exits non-zero; a traceback only with ``--traceback``.
"""

from __future__ import annotations

import io
from contextlib import redirect_stderr

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.db import connection

from tests.killing import backend_id, kill
from tests.test_bulk_import_command import TransactionResource
from tests.testapp.models import Account, Transaction

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor == "sqlite", reason="SQLite has no server connection to kill"
    ),
]

RESOURCE = "tests.test_killed_connection.KilledMidImport"
ROWS = 300


class KilledMidImport(TransactionResource):
    """Has its own connection killed, from another one, as it reaches row 150 (chunk 2)."""

    class Meta(TransactionResource.Meta):
        batch_size = 100

    def before_import_row(self, row, row_number=None, **kwargs):
        if row_number == 150:
            kill(backend_id())


@pytest.fixture(autouse=True)
def account():
    yield Account.objects.create(number="A1")
    connection.close()  # the killed connection, as the end of a request would


def write_file(tmp_path):
    path = tmp_path / "tx.csv"
    lines = ["account,datetime,amount,description"]
    lines += [f"A1,2024-01-01 10:{i // 60:02d}:{i % 60:02d},1.5,row {i}" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run_killed(path, *args):
    with pytest.raises(CommandError) as info:
        call_command(
            "bulk_import",
            RESOURCE,
            str(path),
            "--no-progress",
            *args,
            stdout=io.StringIO(),
            stderr=io.StringIO(),
        )
    connection.close()
    return info.value


def test_one_line_says_nothing_was_written_and_how_to_resume(tmp_path):
    error = run_killed(write_file(tmp_path))

    assert Transaction.objects.count() == 0
    message = str(error)
    assert message.startswith("The database connection was lost during the import (")
    # What the server or the driver said, whichever statement noticed first: on
    # PostgreSQL "terminating connection due to administrator command" or "the
    # connection is closed", on MariaDB "Lost connection to server during query".
    reason = message.removeprefix("The database connection was lost during the import (")
    assert reason.split("): ")[0]
    assert message.endswith(
        "): nothing was written. Run the same command again to import the file."
    )
    assert "\n" not in message
    assert error.returncode == 1


def test_run_again_imports_every_row(tmp_path):
    path = write_file(tmp_path)
    run_killed(path)

    call_command(
        "bulk_import",
        "tests.test_bulk_import_command.TransactionResource",
        str(path),
        "--no-progress",
        stdout=io.StringIO(),
    )

    assert Transaction.objects.count() == ROWS


def test_without_one_transaction_it_says_what_was_written(tmp_path, settings):
    settings.IMPORT_EXPORT_USE_TRANSACTIONS = False
    error = run_killed(write_file(tmp_path))

    # The first chunk (rows 1-100) was committed before the kill.
    assert Transaction.objects.count() == 100
    assert str(error).endswith(
        "the import runs without one transaction, so the rows before row 101 of 300 were "
        "written and part of the rows after may be. Run the same command again to import "
        "the rest: rows found by their key are updated, not added twice."
    )


def run_from_command_line(*args):
    """Run ``manage.py bulk_import ...`` as a shell would: the exit status and stderr."""
    stderr = io.StringIO()
    with redirect_stderr(stderr), pytest.raises(SystemExit) as info:
        ManagementUtility(["manage.py", "bulk_import", *args]).execute()
    connection.close()
    return info.value.code, stderr.getvalue()


def test_from_the_command_line_one_line_and_no_traceback(tmp_path):
    # --skip-checks: the command runs in the test process, where receivers other tests
    # connected can make the system checks print warnings first (Django's, not ours).
    status, stderr = run_from_command_line(
        RESOURCE, str(write_file(tmp_path)), "--no-progress", "--skip-checks"
    )

    assert status == 1
    lines = stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("CommandError: The database connection was lost during the import")
    assert "Traceback" not in stderr


def test_traceback_with_traceback(tmp_path):
    path = write_file(tmp_path)
    with pytest.raises(CommandError) as info:
        ManagementUtility(
            ["manage.py", "bulk_import", RESOURCE, str(path), "--no-progress", "--traceback"]
        ).execute()
    connection.close()
    # Django re-raises a CommandError under --traceback: the database error is its cause.
    assert "connection" in repr(info.value.__cause__).lower()
