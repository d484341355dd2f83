"""The API's job path on a real ``db_worker``: a client posts, gets a job URL, and polls it.

``test_jobs.py`` runs each job in the request (the immediate backend); here the
job goes to django-tasks-db and a separate ``db_worker`` process imports it, as
in production, while the test acts only as an HTTP client would. A client
relies on:

- more records than ``API_SYNC_MAX_ROWS`` are answered ``202`` with the job's URL
  in ``Location``; polling that URL reaches ``done``, and the table then holds
  exactly the posted records (created or updated by their key) and nothing else;
- a worker killed mid-import (SIGKILL, as in ``tests/jobs/test_workers.py``)
  leaves the table as it was; polling the job then reads ``failed`` once its
  heartbeat is stale, and ``POST run-again/`` on a new worker imports every
  record once.

A worker process cannot open SQLite's in-memory test database: on SQLite these
tests run in noxfile.py's ``sqlite-files`` session (``SQLITE_FILES_TESTS``) and
skip, saying so, elsewhere (``tests.jobs.workers.WorkerBackend``).
"""

from __future__ import annotations

import random

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils.timezone import make_naive
from rest_framework.test import APIClient

from admin_bulk_upsert.jobs.models import ImportJob
from tests.jobs.test_workers import ACCOUNTS, _existing, _key, _keys_in_table, _table
from tests.testapp.models import Account

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

URL = "slow-transaction-bulk-upsert"


@pytest.fixture
def worker_backend(settings, tmp_path, transactional_db):
    """Import jobs on django-tasks-db, for ``db_worker`` processes the test starts.

    Needs ``transactional_db`` (a worker sees only committed rows) and comes after
    it, so that the workers are killed before the tables are flushed. Chunks of 50
    records; more than 10 records make a job; a heartbeat stale after 2 s.
    """
    from tests.jobs.workers import WorkerBackend

    backend = WorkerBackend(
        "db",
        settings,
        tmp_path,
        STAGING_DIR=str(tmp_path / "jobs"),
        BACKGROUND_IMPORTS=True,
        API_SYNC_MAX_ROWS=10,
        BATCH_SIZE=50,
        HEARTBEAT_TIMEOUT=2,
    )
    settings.ROOT_URLCONF = "tests.drf.worker_urls"
    try:
        yield backend
    finally:
        backend.stop()


@pytest.fixture(autouse=True)
def accounts(transactional_db):
    return {number: Account.objects.create(number=number) for number in ACCOUNTS}


@pytest.fixture
def client(django_user_model):
    """A client with the model's add and change permissions, as the import needs."""
    user = django_user_model.objects.create_user("feed", "feed@example.com", "pw")
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["add_loosetransaction", "change_loosetransaction"])
    )
    client = APIClient()
    client.force_authenticate(user)
    return client


def _records(numbers, description):
    """The ``number``-th transactions as JSON records: the key of ``tests.jobs.test_workers``."""
    records = []
    for number in numbers:
        account, moment, amount = _key(number)
        records.append(
            {
                "account": account,
                "datetime": f"{moment:%Y-%m-%d %H:%M:%S}",
                "amount": str(amount),
                "description": f"{description} {number}",
            }
        )
    return records


def _poll(backend, client, location, *states):
    """GET the job's URL until its state is one of ``states``; return its last body."""

    def reached():
        response = client.get(location)
        assert response.status_code == 200, response.content
        body = response.json()
        return body["state"] in states and body

    return backend.wait_for(reached, f"{location} to read {' or '.join(states)}")


def _post(client, records):
    response = client.post(reverse(URL), records, format="json")
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get()
    assert response["Location"] == f"http://testserver/api/import-jobs/{job.pk}/"
    assert response.json()["state"] == "confirmed"  # queued for the worker, not run in the request
    return response["Location"]


def test_a_posted_job_is_imported_by_the_worker_while_the_client_polls(worker_backend, client):
    _existing(range(0, 300, 3), description="before")  # a third of the keys exist
    _existing(range(5_000, 5_050), description="untouched")
    numbers = list(range(300))
    random.Random(26).shuffle(numbers)

    location = _post(client, _records(numbers, "posted"))
    worker_backend.start()
    body = _poll(worker_backend, client, location, "done", "failed")

    assert body["state"] == "done", body["failure"]
    assert body["rows_done"] == body["rows_total"] == 300
    assert (body["totals"]["new"], body["totals"]["update"]) == (200, 100)
    assert ImportJob.objects.get().worker  # a worker process took it
    keys = _keys_in_table()
    assert len(keys) == 350
    assert set(keys.values()) == {1}
    expected = {(*_key(n), f"posted {n}") for n in numbers} | {
        (*_key(n), f"untouched {n}") for n in range(5_000, 5_050)
    }
    table = {(account, make_naive(dt), amount, d) for account, dt, amount, d in _table()}
    assert table == expected


def test_a_killed_worker_writes_nothing_then_run_again_imports_every_record(worker_backend, client):
    _existing(range(0, 1_000, 2), description="before")
    _existing(range(5_000, 5_100), description="untouched")
    before = _table()
    numbers = list(range(1_000))
    random.Random(15).shuffle(numbers)
    location = _post(client, _records(numbers, "after"))
    worker = worker_backend.start()

    # 20 chunks of 50, each followed by a pause: the client sees the import mid-way.
    _poll_mid_way(worker_backend, client, location)
    worker.kill()  # SIGKILL to the worker and anything it forked

    assert _table() == before
    body = _poll(worker_backend, client, location, "failed")
    assert "stopped responding" in body["failure"]
    assert _table() == before

    again = client.post(location + "run-again/")
    assert again.status_code == 200, again.content
    worker_backend.start()
    body = _poll(worker_backend, client, location, "done", "failed")

    assert body["state"] == "done", body["failure"]
    assert (body["totals"]["new"], body["totals"]["update"]) == (500, 500)
    keys = _keys_in_table()
    assert len(keys) == 1_100
    assert set(keys.values()) == {1}
    table = _table()
    assert sum(description.startswith("after ") for *_, description in table) == 1_000
    assert sum(description.startswith("untouched ") for *_, description in table) == 100


def _poll_mid_way(backend, client, location):
    def mid_way():
        body = client.get(location).json()
        return body["state"] == "importing" and 0 < body["rows_done"] < body["rows_total"] and body

    return backend.wait_for(mid_way, f"{location} to be importing, some records done")
