"""Uploading or confirming while another import of the model is running.

Another connection holds the model's import lock (as a running import does) for as long as
the test needs. The in-request preview and import wait only ``REQUEST_LOCK_TIMEOUT`` (1 s
here), not ``LOCK_TIMEOUT`` (an hour here, longer than the lock is ever held: a page that
waited that long would end up importing, and fail the test), then say that another import is
running, with nothing written. When import jobs run on a worker, the page offers to run the
file as a job instead.

SQLite is skipped: it has no import lock (one writer at a time), and its in-memory test
database is one connection shared by every thread.
"""

from __future__ import annotations

import contextlib
import re
import threading

import pytest
from django.conf import settings
from django.db import connections

from admin_bulk_upsert.engine import import_lock
from admin_bulk_upsert.jobs.compat import DUMMY_BACKEND
from admin_bulk_upsert.jobs.models import ImportJob
from tests.adminapp.admin import site
from tests.testapp.models import Transaction

from .conftest import confirm, csv_file, token_from, transaction_line, upload, url

pytestmark = pytest.mark.skipif(
    settings.TEST_DB == "sqlite",
    reason="SQLite has no import lock (one writer at a time), and its in-memory test "
    "database is one connection shared by every thread: run on postgresql or mariadb",
)

#: Seconds the other connection holds the lock at most (a hang, not a slow machine).
HOLD = 60
BUSY = (
    "Another import of transactions is running, so nothing was imported. "
    "Try again when it has finished."
)


@pytest.fixture(autouse=True)
def short_request_wait(admin_site_urls, settings):
    settings.ADMIN_BULK_UPSERT = {
        **settings.ADMIN_BULK_UPSERT,
        "LOCK_TIMEOUT": 3600,
        "REQUEST_LOCK_TIMEOUT": 1,
    }


@contextlib.contextmanager
def another_import_running():
    """The Transaction model's import lock, held on another connection for the block."""
    held, done = threading.Event(), threading.Event()
    errors = []

    def hold():
        try:
            with import_lock.locked_transaction(Transaction, "default", HOLD):
                held.set()
                done.wait(HOLD)
        except BaseException as exc:
            errors.append(exc)
            held.set()
        finally:
            connections.close_all()  # this thread's connection only

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert held.wait(HOLD) and not errors, errors
    try:
        yield
    finally:
        done.set()
        thread.join(HOLD)


def two_rows():
    return csv_file([transaction_line("A1", 5, "1.00", "x"), transaction_line("A2", 6, "2.00")])


def busy_message(response):
    page = response.content.decode()
    return re.findall(r'<p class="errornote">([^<]*)</p>', page)


@pytest.mark.django_db(transaction=True)
def test_a_preview_says_another_import_is_running(importer_client, accounts):
    with another_import_running():
        response = upload(importer_client, two_rows())

    assert response.status_code == 409
    assert busy_message(response) == [BUSY]
    assert 'name="_background"' not in response.content.decode()  # jobs do not run here
    assert not Transaction.objects.exists()
    # Once the other import has ended, the same file previews.
    assert "Confirm import" in upload(importer_client, two_rows()).content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_confirmed_import_says_another_import_is_running(importer_client, accounts):
    token = token_from(upload(importer_client, two_rows()))

    with another_import_running():
        response = confirm(importer_client, token)

    assert response.status_code == 409
    assert busy_message(response) == [BUSY]
    assert not Transaction.objects.exists()


@pytest.fixture
def jobs_on_a_worker(settings, monkeypatch):
    """Jobs queued for a worker (which never comes); this admin imports in the request."""
    settings.TASKS = {"default": {"BACKEND": DUMMY_BACKEND}}
    monkeypatch.setattr(site._registry[Transaction], "import_in_background", False)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("step", ["preview", "confirm"])
def test_the_page_offers_a_background_job(importer_client, accounts, jobs_on_a_worker, step):
    if step == "confirm":
        token = token_from(upload(importer_client, two_rows()))
    with another_import_running():
        if step == "preview":
            response = upload(importer_client, two_rows())
        else:
            response = confirm(importer_client, token)

    assert response.status_code == 409
    assert busy_message(response) == [BUSY]
    offered = re.search(
        r'<input type="hidden" name="token" value="([^"]+)">\s*<p>Or run it in the background',
        response.content.decode(),
    )
    assert offered, response.content.decode()

    started = importer_client.post(
        url("transaction", "process_import"), {"token": offered[1], "_background": "1"}
    )

    job = ImportJob.objects.get()
    assert started.status_code == 302
    assert started["Location"].endswith(f"/{job.pk}/")
    assert (job.state, job.file_name, job.unique_fields) == (
        "queued",
        "transactions.csv",
        ["account", "datetime", "amount"],
    )
    assert not Transaction.objects.exists()
    # The staged file went into the job: the offer cannot be taken twice.
    again = importer_client.post(
        url("transaction", "process_import"), {"token": offered[1], "_background": "1"}
    )
    assert again.status_code == 400
    assert ImportJob.objects.count() == 1
