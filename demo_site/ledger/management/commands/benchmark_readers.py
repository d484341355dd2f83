"""``manage.py benchmark_readers``: how long reading the sample file takes, CSV against XLSX."""

from __future__ import annotations

import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from ledger.benchmark.readers import time_readers


class Command(BaseCommand):
    help = (
        "Time read_dataset() and open_dataset() + one pass over the rows on the sample ledger "
        "file as CSV and as XLSX (python-calamine), and openpyxl's read-only reader on the "
        "same XLSX."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--rows", nargs="+", type=int, default=[100_000], metavar="N")
        parser.add_argument(
            "--openpyxl-up-to",
            type=int,
            default=100_000,
            metavar="N",
            help="Time openpyxl only on files up to N rows (default 100000: it is slow).",
        )
        parser.add_argument(
            "--repeat", type=int, default=3, help="Timed reads per reader; the median is kept."
        )
        parser.add_argument(
            "--folder",
            type=Path,
            default=Path("/tmp/admin_bulk_upsert_stream"),
            help="Where the sample files are written once and reused.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"load average: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
        self.stdout.write(f"{'rows':>10}  {'reader':<32}{'MB':>8}{'seconds':>10}{'x CSV':>8}")
        for rows in options["rows"]:
            timings = time_readers(
                rows,
                repeat=options["repeat"],
                with_openpyxl=rows <= options["openpyxl_up_to"],
                folder=options["folder"],
            )
            for timing in timings:
                self.stdout.write(
                    f"{timing.rows:>10,}  {timing.reader:<32}{timing.file_bytes / 1e6:>8.1f}"
                    f"{timing.seconds:>10.3f}{timing.times_csv:>8.2f}"
                )
        self.stdout.write(f"load average: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
