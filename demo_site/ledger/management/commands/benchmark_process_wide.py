"""``manage.py benchmark_process_wide``: what the collector pause and the helper threads earn.

Both act on the whole process (:mod:`admin_bulk_upsert.gc_pause`,
:mod:`admin_bulk_upsert.engine.statement_thread`), so they only run where an
import has the process to itself. This command times an import as the
``bulk_import`` command runs it (the file read as a stream, inside
``import_owns_process()``) with each of them on and off, side by side:
per round and per size, the four combinations one after the other (the
machine is noisy), the table reset to its starting state (half of the file's
keys stored) before each. Prints each round and the medians.
"""

from __future__ import annotations

import io
import statistics
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.test import override_settings

from admin_bulk_upsert.files.streaming import open_dataset
from admin_bulk_upsert.gc_pause import import_owns_process
from ledger.resources import FinancialTransactionResource
from ledger.routing import pinned_database
from ledger.sample_data import csv_bytes
from ledger.seeding import reset_ledger, reset_transactions

#: (label, PAUSE_GC, HELPER_THREADS)
VARIANTS = [
    ("both", True, True),
    ("no gc pause", False, True),
    ("no helper threads", True, False),
    ("neither", False, False),
]


class Command(BaseCommand):
    help = "Time an import with and without the collector pause and the helper threads."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
        parser.add_argument("--rounds", type=int, default=3)
        parser.add_argument("--database", default="postgresql")

    def handle(self, *args: Any, **options: Any) -> None:
        alias = options["database"]
        call_command("migrate", database=alias, verbosity=0)
        base = dict(getattr(settings, "ADMIN_BULK_UPSERT", {}) or {})
        with pinned_database(alias), override_settings(DEBUG=False):
            reset_ledger(alias)
            for rows in options["rows"]:
                data = csv_bytes(rows)
                times: dict[str, list[float]] = {label: [] for label, *_ in VARIANTS}
                for number in range(options["rounds"]):
                    line = []
                    for label, pause_gc, helper_threads in VARIANTS:
                        reset_transactions(rows, alias)
                        config = {**base, "PAUSE_GC": pause_gc, "HELPER_THREADS": helper_threads}
                        with override_settings(ADMIN_BULK_UPSERT=config):
                            times[label].append(_timed_import(data))
                        line.append(f"{label} {times[label][-1]:.2f} s")
                    self.stdout.write(f"{rows:,} rows, round {number + 1}: " + ", ".join(line))
                medians = {label: statistics.median(t) for label, t in times.items()}
                both = medians["both"]
                self.stdout.write(
                    f"{rows:,} rows on {alias}, median of {options['rounds']}: "
                    + ", ".join(
                        f"{label} {seconds:.2f} s ({seconds / both - 1:+.0%})"
                        for label, seconds in medians.items()
                    )
                )
            reset_ledger(alias)


def _timed_import(data: bytes) -> float:
    started = time.perf_counter()
    with import_owns_process():
        dataset = open_dataset(io.BytesIO(data), filename="bench.csv")
        result = FinancialTransactionResource().import_data(
            dataset, dry_run=False, raise_errors=True, use_transactions=True
        )
    seconds = time.perf_counter() - started
    assert not result.has_errors() and not result.has_validation_errors()
    return seconds
