"""A job's progress costs at most one write per chunk, on the progress thread's connection."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.backends.signals import connection_created

from admin_bulk_upsert.jobs import transitions
from admin_bulk_upsert.jobs.heartbeat import JobProgress
from admin_bulk_upsert.jobs.models import ImportJob
from admin_bulk_upsert.jobs.steps import run_import
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db(transaction=True)

CHUNKS = 10


@pytest.fixture
def progress_statements(settings, tmp_path, monkeypatch):
    """SQL sent by the jobs' progress threads, recorded as it is sent."""
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "jobs"), "BATCH_SIZE": 2}
    # The worst case: no minimum gap between writes, one wake-up per chunk.
    monkeypatch.setitem(JobProgress.__init__.__kwdefaults__, "min_gap", 0.0)
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    def watch(sender, connection, **kwargs):
        if threading.current_thread().name.startswith("import-job-"):
            connection.execute_wrappers.append(record)

    connection_created.connect(watch)
    yield statements
    connection_created.disconnect(watch)


def job_updates(statements):
    table = ImportJob._meta.db_table
    return [sql for sql in statements if sql.startswith("UPDATE") and table in sql]


def test_progress_writes_at_most_once_per_chunk(progress_statements):
    rows = "".join(f"P{number},name {number},1.00\n" for number in range(2 * CHUNKS))
    job = transitions.create_job(
        f"sku,name,price\n{rows}".encode(),
        user=None,
        model_label="testapp.Product",
        file_name="products.csv",
        input_format="csv",
        unique_fields=["sku"],
    )
    job.refresh_from_db()
    assert job.state == "previewed", job.failure
    preview_updates = job_updates(progress_statements)
    progress_statements.clear()

    ImportJob.objects.filter(pk=job.pk).update(state="confirmed")
    run_import(job.pk)
    job.refresh_from_db()
    assert job.state == "done", job.failure
    assert Product.objects.count() == 2 * CHUNKS
    import_updates = job_updates(progress_statements)

    for updates in (preview_updates, import_updates):
        if connection.vendor == "sqlite":
            # One writer at a time: the progress thread only reads (for a cancel).
            assert updates == []
        else:
            # One per chunk at most, plus a timed beat and the last one on leaving.
            assert 1 <= len(updates) <= CHUNKS + 2
