"""The HTTP API's contenders (``admin_bulk_upsert.drf``, the drf extra): api_sync, api_job.

Both send the workload's rows as a JSON list of records, as a service would:
the CSV's cells as JSON strings, its amounts as JSON numbers written with the
file's digits. The body is built before the clock starts (it is the client's
work); the timed part is DRF's ``APIClient.post`` to the demo's
``/api/financial-transactions/bulk-upsert/`` (``ledger.api``): Django's request
handling and middleware, the JSON parsing, the import and the rendering of the
response body. Reading the response back is the untimed check.

``api_sync`` is the request that imports the records itself (up to
``API_SYNC_MAX_ROWS``). ``api_job`` is the request that stores them as an import
job (``202 Accepted``), followed by the job's import step run in this process as
``job_import`` runs it (``job_steps``): the worker's pickup is excluded, the rest
is timed. The request runs in background mode on a backend that only queues; when
the workload is not above ``API_SYNC_MAX_ROWS`` the request runs with the limit
lowered just below its size, so that it is a job at every size.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.test.utils import override_settings
from django.urls import reverse

from admin_bulk_upsert.conf import get_config
from admin_bulk_upsert.gc_pause import import_owns_process
from ledger.benchmark import job_steps
from ledger.benchmark.admin_flow import benchmark_user
from ledger.benchmark.measuring import Outcome


def sync_limit() -> int:
    return int(get_config().API_SYNC_MAX_ROWS)


def too_many_for_sync(rows: int) -> str | None:
    """Why ``api_sync`` is left out at this size: above the limit the request makes a job."""
    limit = sync_limit()
    if rows > limit:
        return f"skipped above {limit:,} rows (API_SYNC_MAX_ROWS: the request makes a job)"
    return None


def records_json(csv_data: bytes) -> bytes:
    """The file's rows as a JSON list of objects; amounts are numbers with the file's digits."""
    reader = csv.reader(io.StringIO(csv_data.decode("utf-8-sig")))
    headers = next(reader)
    amount = headers.index("amount")
    keys = [json.dumps(name) for name in headers]
    objects = []
    for row in reader:
        # The amount's text is a JSON number already: json.dumps of a float could
        # rewrite its digits (1022.10 -> 1022.1), which a CSV cell never does.
        values = [
            cell if index == amount else json.dumps(cell, ensure_ascii=False)
            for index, cell in enumerate(row)
        ]
        objects.append(
            "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, values, strict=True)) + "}"
        )
    return ("[" + ",\n".join(objects) + "]").encode()


@dataclass(frozen=True)
class ApiRequest:
    """A logged-in API client and the body it is about to send (built untimed)."""

    client: Any
    url: str
    body: bytes


def _api_client(alias: str) -> Any:
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(benchmark_user(alias))
    return client


def prepare_request(workload: Any) -> ApiRequest:
    return ApiRequest(
        _api_client(workload.alias),
        reverse("financial-transaction-bulk-upsert"),
        records_json(workload.csv_data),
    )


@dataclass(frozen=True)
class ApiOutcome(Outcome):
    """The response to a synchronous bulk upsert, read (untimed) by :meth:`check`."""

    status_code: int = 0
    content: bytes = b""
    read_back: dict[str, int] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int] | None:
        return self.read_back or None

    def check(self) -> None:
        body = json.loads(self.content)
        if self.status_code != 200 or body["errors"] or not body["committed"]:
            raise RuntimeError(f"the API answered {self.status_code}: {body.get('errors')}")
        self.read_back.update(body["totals"])


def run_sync(workload: Any, request: ApiRequest) -> ApiOutcome:
    response = request.client.post(request.url, request.body, content_type="application/json")
    return ApiOutcome(status_code=response.status_code, content=response.content)


def prepare_job_request(workload: Any) -> ApiRequest:
    """The request's client and body, with the previous run's jobs deleted (untimed)."""
    from admin_bulk_upsert.jobs import storage
    from admin_bulk_upsert.jobs.models import ImportJob

    for old in ImportJob.objects.all():
        storage.delete_quietly(old.file.name)
        storage.delete_quietly(old.report.name)
        old.delete()
    return prepare_request(workload)


def run_job(workload: Any, request: ApiRequest) -> job_steps.JobOutcome:
    from admin_bulk_upsert.jobs import steps

    with job_steps.background_mode():
        config = {
            **settings.ADMIN_BULK_UPSERT,
            "API_SYNC_MAX_ROWS": min(sync_limit(), workload.rows - 1),
        }
        with override_settings(ADMIN_BULK_UPSERT=config):
            response = request.client.post(
                request.url, request.body, content_type="application/json"
            )
    if response.status_code != 202:
        raise RuntimeError(f"the API answered {response.status_code}: {response.content[:500]!r}")
    job_pk = int(response["Location"].rstrip("/").rpartition("/")[2])
    # As a worker's task runs the step (jobs.tasks): with the process to itself.
    with job_steps.counting_progress_writes() as updates, import_owns_process():
        steps.run_import(job_pk)
    return job_steps.JobOutcome(
        job_pk=job_pk,
        expected_state="done",
        progress_writes=len(updates),
        chunks=-(-workload.rows // job_steps.BATCH_SIZE),
    )
