"""A job whose database connection is killed mid-import, on a real ``db_worker``; and a revert.

A failover or a DBA's ``pg_terminate_backend`` / ``KILL CONNECTION`` ends the
connection the import runs on. What a user relies on: the job reads failed,
with a message that says so and that nothing was written; the table is as it
was; the worker keeps serving (it imports the next job); "run again" imports
every row. A revert whose connection is killed the same way changes nothing,
says so, and can be asked again.

The test finds the import's connection from its own, as an operator would:
on MariaDB the one holding the model's import lock, on PostgreSQL the one
whose transaction has been open for a second or more (the job's progress is
written in short transactions on another connection).
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection

from admin_bulk_upsert.jobs import steps, transitions
from tests.jobs.test_workers import (
    _csv,
    _existing,
    _importing_mid_way,
    _job,
    _keys_in_table,
    _reaches,
    _start,
    _table,
)
from tests.killing import backend_id, import_connection, kill
from tests.testapp.models import LooseTransaction

pytestmark = [
    pytest.mark.django_db(transaction=True, databases="__all__"),
    pytest.mark.skipif(
        connection.vendor == "sqlite", reason="SQLite has no server connection to kill"
    ),
    pytest.mark.parametrize("worker_backend", ["db"], indirect=True),
]


@pytest.fixture(autouse=True)
def accounts(transactional_db):
    from tests.jobs.test_workers import ACCOUNTS
    from tests.testapp.models import Account

    return {number: Account.objects.create(number=number) for number in ACCOUNTS}


def _kill_the_import(backend):
    """Kill the connection of the import the worker runs; return its id."""
    found = backend.wait_for(lambda: import_connection(LooseTransaction), "the import's connection")
    kill(found)
    return found


def test_killed_import_connection_fails_the_job_then_run_again_imports_every_row(
    worker_backend,
):
    _existing(range(0, 1_000, 2))
    before = _table()
    ann = User.objects.create_user("ann")
    job = _start(
        _csv(range(1_000), "after"), preview=False, pause=0.3, user=ann
    )  # 20 chunks: 6 s or more
    worker = worker_backend.start()
    _importing_mid_way(worker_backend, job)

    _kill_the_import(worker_backend)

    job = _reaches(worker_backend, job, "failed", "done")
    assert job.state == "failed", worker_backend.logs()
    assert job.failure.startswith("The database connection was lost during the import (")
    assert job.failure.endswith("): nothing was written. Run the job again.")
    assert _table() == before
    assert worker.is_alive()

    transitions.run_again(job)  # the same worker takes it: it kept serving
    job = _reaches(worker_backend, job, "done", "failed")
    assert job.state == "done", job.failure
    assert (job.new_rows, job.updated_rows) == (500, 500)
    keys = _keys_in_table()
    assert len(keys) == 1_000 and set(keys.values()) == {1}


def test_killed_revert_connection_changes_nothing_and_the_revert_can_be_asked_again(
    worker_backend, monkeypatch
):
    _existing(range(0, 1_000, 2))
    before = _table()
    ann = User.objects.create_user("ann", is_superuser=True, is_staff=True)
    job = _start(_csv(range(1_000), "after"), preview=False, user=ann)
    worker = worker_backend.start()
    job = _reaches(worker_backend, job, "done", "failed")
    assert job.state == "done", job.failure
    imported = _table()
    worker.kill()  # the revert runs here, in the test's process, on its connection

    real_revert = steps.revert

    def killed_after_the_first_chunk(job, *, user_pk=None, progress=None):
        def progress_then_kill(done, total):
            progress(done, total)
            kill(backend_id())

        return real_revert(job, user_pk=user_pk, progress=progress_then_kill)

    monkeypatch.setattr(steps, "revert", killed_after_the_first_chunk)
    transitions.request_revert(job, ann)
    steps.run_revert(job.pk)

    job = _job(job)
    assert job.state == "done"
    failure = job.revert_summary["failure"]
    assert failure.startswith("The database connection was lost during the revert (")
    assert failure.endswith("): nothing was changed. Revert the import again.")
    assert _table() == imported

    monkeypatch.setattr(steps, "revert", real_revert)
    transitions.request_revert(job, ann)
    worker_backend.start()
    job = _reaches(worker_backend, job, "reverted", "partly_reverted", "done")
    assert job.state == "reverted", job.revert_summary
    assert _table() == before
