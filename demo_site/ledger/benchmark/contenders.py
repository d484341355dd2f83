"""The ways of importing the same file that the benchmark compares.

Every contender gets the same CSV bytes. All but the floor read them inside the
timed part, each with the reader its own admin uses (DIE's CSV format, which is
tablib; the plugin's ``read_dataset``, which also returns a tablib Dataset).
The floor is Django's ``bulk_create(update_conflicts=True)`` of model
instances built before the clock starts: no reading, no parsing, no account
lookups, no per-row results. It is what a database write of these rows costs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from importlib.util import find_spec
from typing import Any

from django.db import connections, transaction
from django.utils import timezone
from import_export.formats.base_formats import CSV
from import_export.results import Result

try:
    from admin_bulk_upsert.gc_pause import import_owns_process
except ImportError:  # pragma: no cover - before the pause was tied to owning the process
    from contextlib import nullcontext as import_owns_process

from ledger.benchmark import job_steps
from ledger.benchmark.measuring import Outcome
from ledger.models import FinancialTransaction
from ledger.resources import (
    FinancialTransactionResource,
    SavingFinancialTransactionResource,
    StockBulkFinancialTransactionResource,
    StockFinancialTransactionResource,
)
from ledger.sample_data import DATETIME_FORMAT
from ledger.seeding import account_pks

_FLOOR_BATCH_SIZE = 1000


@dataclass(frozen=True)
class Workload:
    """One file to import into one database."""

    alias: str
    rows: int
    csv_data: bytes


@dataclass(frozen=True)
class Contender:
    key: str
    label: str
    #: Whether a run changes the table (a dry run must leave the starting state).
    writes: bool
    #: Stock DIE: row by row, so skipped above ``--skip-stock-above``.
    stock: bool
    #: Untimed work before each run; its result is passed to ``run``.
    prepare: Callable[[Workload], Any]
    run: Callable[[Workload, Any], Outcome]
    #: The contender this one is compared with (a ratio printed after the run).
    baseline: str | None = None
    #: Given the file's rows, why the contender is left out at that size (None: it runs).
    left_out: Callable[[int], str | None] | None = None


def _nothing(workload: Workload) -> None:
    return None


def _import_with(resource: Any, dataset: Any, *, dry_run: bool) -> Outcome:
    # Measured as ``bulk_import`` and a job worker run an import: with the process to
    # itself, so that the plugin may pause the collector (PAUSE_GC); stock DIE has no
    # such pause, and the admin's in-request contenders run without it, as in a request.
    with import_owns_process():
        result: Result = resource.import_data(
            dataset, dry_run=dry_run, raise_errors=True, use_transactions=True
        )
    return Outcome(result)


def _die_dataset(workload: Workload) -> Any:
    # What DIE's admin does with an uploaded CSV.
    return CSV().create_dataset(workload.csv_data.decode("utf-8-sig"))


def _plugin_dataset(workload: Workload) -> Any:
    try:
        from admin_bulk_upsert.files.reading import read_dataset
    except ImportError:  # pragma: no cover - only before the plugin's reader existed
        return _die_dataset(workload)
    return read_dataset(workload.csv_data, filename="transactions.csv")


def _run_stock(workload: Workload, prepared: None) -> Outcome:
    return _import_with(StockFinancialTransactionResource(), _die_dataset(workload), dry_run=False)


def _run_stock_bulk(workload: Workload, prepared: None) -> Outcome:
    resource = StockBulkFinancialTransactionResource()
    return _import_with(resource, _die_dataset(workload), dry_run=False)


def _run_plugin(workload: Workload, prepared: None) -> Outcome:
    resource = FinancialTransactionResource()
    return _import_with(resource, _plugin_dataset(workload), dry_run=False)


def _run_plugin_save(workload: Workload, prepared: None) -> Outcome:
    resource = SavingFinancialTransactionResource()
    return _import_with(resource, _plugin_dataset(workload), dry_run=False)


def _run_plugin_dry(workload: Workload, prepared: None) -> Outcome:
    resource = FinancialTransactionResource()
    return _import_with(resource, _plugin_dataset(workload), dry_run=True)


def _build_instances(workload: Workload) -> list[FinancialTransaction]:
    """Parse the CSV into model instances, as an ideal importer would have them."""
    pks = account_pks(workload.alias)
    zone = timezone.get_current_timezone()
    reader = csv.DictReader(io.StringIO(workload.csv_data.decode("utf-8")))
    return [
        FinancialTransaction(
            financial_account_id=pks[row["account_number"]],
            datetime=datetime.strptime(row["datetime"], DATETIME_FORMAT).replace(tzinfo=zone),
            amount=Decimal(row["amount"]),
            description=row["description"],
        )
        for row in reader
    ]


def _run_floor(workload: Workload, instances: list[FinancialTransaction]) -> Outcome:
    # MySQL and MariaDB upsert on whichever unique key conflicts and refuse
    # unique_fields (NotSupportedError).
    vendor = connections[workload.alias].vendor
    unique_fields = None if vendor == "mysql" else ["financial_account", "datetime", "amount"]
    with transaction.atomic(using=workload.alias):
        FinancialTransaction.objects.using(workload.alias).bulk_create(
            instances,
            update_conflicts=True,
            unique_fields=unique_fields,
            update_fields=["description"],
            batch_size=_FLOOR_BATCH_SIZE,
        )
    return Outcome()


FLOOR = Contender(
    key="floor",
    label="floor: bulk_create(update_conflicts)",
    writes=True,
    stock=False,
    prepare=_build_instances,
    run=_run_floor,
)

CONTENDERS = (
    FLOOR,
    Contender("plugin", "admin_bulk_upsert import", True, False, _nothing, _run_plugin),
    Contender("plugin_dry", "admin_bulk_upsert dry run", False, False, _nothing, _run_plugin_dry),
    Contender(
        "plugin_save",
        "admin_bulk_upsert save() per row",
        True,
        False,
        _nothing,
        _run_plugin_save,
    ),
    Contender("die_bulk", "DIE use_bulk=True", True, True, _nothing, _run_stock_bulk),
    Contender("die", "DIE row by row", True, True, _nothing, _run_stock),
)

#: Background jobs and the upload request: run with ``--jobs`` or named in ``--only``.
JOB_CONTENDERS = (
    Contender(
        "job_preview",
        "background job preview (in process)",
        False,
        False,
        lambda workload: job_steps.queue_job(workload, preview=True),
        job_steps.run_job_preview,
        baseline="plugin_dry",
    ),
    Contender(
        "job_import",
        "background job import (in process)",
        True,
        False,
        lambda workload: job_steps.queue_job(workload, preview=False),
        job_steps.run_job_import,
        baseline="plugin",
    ),
    Contender(
        "job_import_no_undo",
        "background job import, RECORD_UNDO off",
        True,
        False,
        lambda workload: job_steps.queue_job(workload, preview=False),
        job_steps.run_job_import_without_undo,
        baseline="plugin",
    ),
    Contender(
        "job_import_log",
        "background job import + admin log entries",
        True,
        False,
        lambda workload: job_steps.queue_job(workload, preview=False, admin_site="admin"),
        job_steps.run_job_import,
        baseline="plugin",
    ),
    Contender(
        "upload_csv",
        "admin upload request, CSV (background mode)",
        False,
        False,
        lambda workload: job_steps.prepare_upload(workload, "csv"),
        job_steps.run_upload,
    ),
    Contender(
        "upload_xlsx",
        "admin upload request, XLSX (background mode)",
        False,
        False,
        lambda workload: job_steps.prepare_upload(workload, "xlsx"),
        job_steps.run_upload,
    ),
)


def _api_contenders() -> tuple[Contender, ...]:
    """The HTTP API's contenders (:mod:`ledger.benchmark.api_steps`), where DRF is installed."""
    if not find_spec("rest_framework"):
        return ()
    from ledger.benchmark import api_steps

    return (
        Contender(
            "api_sync",
            "HTTP API bulk-upsert request (JSON)",
            True,
            False,
            api_steps.prepare_request,
            api_steps.run_sync,
            baseline="plugin",
            left_out=api_steps.too_many_for_sync,
        ),
        Contender(
            "api_job",
            "HTTP API request + job import (in process)",
            True,
            False,
            api_steps.prepare_job_request,
            api_steps.run_job,
            baseline="plugin",
        ),
    )


#: The HTTP API's requests: run with ``--api`` or named in ``--only``. Both compare
#: with ``plugin``, the resource's ``import_data`` as ``bulk_import`` runs it.
API_CONTENDERS = _api_contenders()
