"""``manage.py benchmark_undo``: what recording undo data costs an import, and what a revert costs.

Per round, interleaved (the machine is noisy): the demo ledger reset to its
starting state (half of the file's keys stored), the file imported without
undo data, reset again, imported with it (:class:`UndoRecorder`, as a job's
import does), then reverted (:func:`revert`). Reports the medians, the
recording's share of the import, the revert against the import, and the
compressed undo data per updated record (the records whose values changed).
"""

from __future__ import annotations

import statistics
import time
from argparse import ArgumentParser
from typing import Any

import tablib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from admin_bulk_upsert.jobs.models import ImportJob
from admin_bulk_upsert.jobs.revert import revert
from admin_bulk_upsert.jobs.undo import UndoChunk, UndoRecorder
from ledger.resources import FinancialTransactionResource
from ledger.routing import pinned_database
from ledger.sample_data import csv_bytes
from ledger.seeding import ledger_state, reset_ledger, reset_transactions


class Command(BaseCommand):
    help = "Measure the cost of recording undo data and of reverting an import."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--database", default="postgresql")

    def handle(self, *args: Any, **options: Any) -> None:
        alias, rows = options["database"], options["rows"]
        if "jobs" in settings.DATABASES:  # the demo's own SQLite file for ImportJob, first:
            # django-tasks-db's data migrations read their table there whatever the alias.
            call_command("migrate", database="jobs", verbosity=0)
        call_command("migrate", database=alias, verbosity=0)
        dataset = tablib.Dataset().load(csv_bytes(rows).decode(), format="csv")
        plain, recorded, reverted, sizes = [], [], [], []
        with pinned_database(alias):
            reset_ledger(alias)
            for number in range(options["rounds"]):
                reset_transactions(rows, alias)
                plain.append(self._import(dataset, None))
                reset_transactions(rows, alias)
                before = ledger_state(alias)
                job = ImportJob.objects.create(
                    model_label="ledger.FinancialTransaction",
                    file_name="bench.csv",
                    sha256="-",
                    input_format="csv",
                    state=ImportJob.State.DONE,
                )
                recorder = UndoRecorder(job.pk, job.model_label)
                recorded.append(self._import(dataset, recorder))
                sizes.append((recorder.bytes, recorder.updated))
                ImportJob.objects.filter(pk=job.pk).update(new_rows=rows // 2, updated_rows=rows)
                job.refresh_from_db()
                started = time.perf_counter()
                outcome = revert(job)
                reverted.append(time.perf_counter() - started)
                assert ledger_state(alias) == before, "the revert did not restore the table"
                assert not UndoChunk.objects.using(alias).filter(job_id=job.pk).exists()
                self.stdout.write(
                    f"round {number + 1}: import {plain[-1]:.2f} s, with undo "
                    f"{recorded[-1]:.2f} s, revert {reverted[-1]:.2f} s, "
                    f"{recorder.bytes:,} bytes for {recorder.updated:,} updated records "
                    f"({outcome.totals['delete']:,} deleted, {outcome.totals['restore']:,} "
                    "restored)"
                )
        median = statistics.median
        total_bytes, updated = sizes[-1]
        self.stdout.write(
            f"{rows:,} rows on {alias}, median of {options['rounds']}: import "
            f"{median(plain):.2f} s, with undo data {median(recorded):.2f} s "
            f"({(median(recorded) / median(plain) - 1) * 100:+.1f}%), revert "
            f"{median(reverted):.2f} s ({median(reverted) / median(recorded):.2f}x the import); "
            f"undo data {total_bytes:,} bytes, {total_bytes / max(updated, 1):.1f} bytes per "
            "updated record (all chunks, created pks included)"
        )

    def _import(self, dataset: Any, recorder: UndoRecorder | None) -> float:
        resource = FinancialTransactionResource()
        started = time.perf_counter()
        result = resource.import_data(dataset, use_transactions=True, on_chunk_written=recorder)
        seconds = time.perf_counter() - started
        assert not result.has_errors() and not result.has_validation_errors()
        return seconds
