"""Contenders for a background import job's two steps and for the upload request.

``job_preview`` and ``job_import`` run a job's steps as a worker does
(``admin_bulk_upsert.jobs.steps.run_preview``/``run_import``) but in this
process, on a job created before the clock starts: the worker's pickup is
excluded, everything the step does (claim, read the stored file, the import,
the progress thread, the preview and report, the final update) is timed. They
compare with the plugin's own ``import_data`` (``plugin_dry``, ``plugin``) on
the same bytes; the target is 1.1x at most. ``job_import_log`` adds the admin
history entries that a job started from the admin writes.

Each job step also counts its progress writes (``UPDATE`` of the job row on
the progress thread's own connection), reported next to the chunk count.

``upload_csv`` and ``upload_xlsx`` time the admin's upload POST, with
``BACKGROUND_IMPORTS`` on and a task backend that only queues (no worker
picks the job up), so the time is the request's own. Where the admin runs the
preview inside the upload request (before background jobs reached the admin),
that preview is what is timed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from unittest import mock

from django.conf import settings
from django.db.backends.signals import connection_created
from django.test.utils import override_settings

from admin_bulk_upsert.gc_pause import import_owns_process
from admin_bulk_upsert.jobs.compat import DUMMY_BACKEND, IMMEDIATE_BACKEND
from ledger.benchmark.measuring import Outcome
from ledger.sample_data import xlsx_bytes

BATCH_SIZE = 1000


@dataclass(frozen=True)
class JobOutcome(Outcome):
    """A job's step, read back from its row after the clock stopped."""

    job_pk: int = 0
    expected_state: str = ""
    progress_writes: int = 0
    chunks: int = 0
    #: The job's counts, read by :meth:`check` (untimed) before the next run deletes it.
    read_back: dict[str, int] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int] | None:
        return self.read_back or None

    def check(self) -> None:
        from admin_bulk_upsert.jobs.models import ImportJob

        job = ImportJob.objects.get(pk=self.job_pk)
        if job.state != self.expected_state or job.invalid_rows or job.error_rows:
            raise RuntimeError(f"job {job.pk} ended {job.state}: {job.failure}")
        self.read_back.update(job.totals)

    def summary(self) -> str:
        return (
            f"{super().summary()}; progress writes {self.progress_writes} for {self.chunks} chunks"
        )


@contextmanager
def counting_progress_writes() -> Iterator[list[str]]:
    """Statements the jobs' progress threads send on their own connections."""
    from admin_bulk_upsert.jobs.models import ImportJob

    table = ImportJob._meta.db_table
    updates: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.startswith("UPDATE") and table in sql:
            updates.append(sql)
        return execute(sql, params, many, context)

    def watch(sender: Any, connection: Any, **kwargs: Any) -> None:
        if threading.current_thread().name.startswith("import-job-"):
            connection.execute_wrappers.append(record)

    connection_created.connect(watch)
    try:
        yield updates
    finally:
        connection_created.disconnect(watch)


def queue_job(workload: Any, *, preview: bool, admin_site: str = "") -> int:
    """A job for the workload's file, left where a worker would find it (untimed)."""
    from admin_bulk_upsert.jobs import storage, transitions
    from admin_bulk_upsert.jobs.models import ImportJob

    for old in ImportJob.objects.all():
        storage.delete_quietly(old.file.name)
        storage.delete_quietly(old.report.name)
        old.delete()
    user = None
    if admin_site:
        from ledger.benchmark.admin_flow import admin_client

        admin_client(workload.alias)  # the user whose entries the log gets
        from django.contrib.auth import get_user_model

        user = get_user_model()._default_manager.get(username="benchmark-admin")
    with mock.patch.object(transitions, "_enqueue"):  # no worker: the step is run below
        job = transitions.create_job(
            workload.csv_data,
            user=user,
            model_label="ledger.FinancialTransaction",
            resource_path="ledger.resources.FinancialTransactionResource",
            file_name="transactions.csv",
            input_format="csv",
            unique_fields=[],
            admin_site=admin_site,
            preview=preview,
        )
    return int(job.pk)


def _run_step(step: str, expected_state: str, workload: Any, job_pk: int) -> JobOutcome:
    from admin_bulk_upsert.jobs import steps

    # As a worker's task runs the step (jobs.tasks): with the process to itself.
    with counting_progress_writes() as updates, import_owns_process():
        getattr(steps, step)(job_pk)
    return JobOutcome(
        job_pk=job_pk,
        expected_state=expected_state,
        progress_writes=len(updates),
        chunks=-(-workload.rows // BATCH_SIZE),
    )


def run_job_preview(workload: Any, job_pk: int) -> JobOutcome:
    return _run_step("run_preview", "previewed", workload, job_pk)


def run_job_import(workload: Any, job_pk: int) -> JobOutcome:
    return _run_step("run_import", "done", workload, job_pk)


def run_job_import_without_undo(workload: Any, job_pk: int) -> JobOutcome:
    """The import step with ``RECORD_UNDO`` off: what the job machinery costs without undo."""
    config = {**getattr(settings, "ADMIN_BULK_UPSERT", {}), "RECORD_UNDO": False}
    with override_settings(ADMIN_BULK_UPSERT=config):
        return _run_step("run_import", "done", workload, job_pk)


# -- the upload request ------------------------------------------------------------------


@cache
def _xlsx(rows: int) -> bytes:
    return xlsx_bytes(rows)


@contextmanager
def background_mode() -> Iterator[None]:
    """Background imports on, on a backend that only queues: nothing runs after the POST."""
    tasks = {
        **getattr(settings, "TASKS", {}),
        "benchmark-queue-only": {"BACKEND": DUMMY_BACKEND},
    }
    tasks.setdefault("default", {"BACKEND": IMMEDIATE_BACKEND})
    config = {
        **getattr(settings, "ADMIN_BULK_UPSERT", {}),
        "BACKGROUND_IMPORTS": True,
        "TASK_BACKEND": "benchmark-queue-only",
    }
    with override_settings(TASKS=tasks, ADMIN_BULK_UPSERT=config):
        yield


@dataclass(frozen=True)
class UploadForm:
    client: Any
    url: str
    file_name: str
    data: bytes
    fields: dict[str, Any]


def prepare_upload(workload: Any, fmt: str) -> UploadForm:
    """Log in and read the import form (untimed), as the browser has it before the POST."""
    from ledger.benchmark.admin_flow import admin_client, transaction_import_url
    from ledger.benchmark.admin_views import form_fields

    client = admin_client(workload.alias)
    url = transaction_import_url()
    data = workload.csv_data if fmt == "csv" else _xlsx(workload.rows)
    return UploadForm(client, url, f"transactions.{fmt}", data, form_fields(client, url, fmt))


def run_upload(workload: Any, form: UploadForm) -> Outcome:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from ledger.benchmark.admin_views import check_upload_response

    with background_mode():
        response = form.client.post(
            form.url,
            {**form.fields, "import_file": SimpleUploadedFile(form.file_name, form.data)},
        )
    check_upload_response(response)
    return Outcome()
