"""``manage.py benchmark_streaming``: peak memory of million-row imports, CLI and job, CSV and XLSX.

Each measured import runs in a fresh Python process (this command with
``--child``), so that what the parent allocated to write the file and seed the
table is not counted, and the peak is the process's own: ``VmHWM`` (the kernel's
resident high-water mark, reset through ``/proc/self/clear_refs`` just before the
import) minus ``VmRSS`` at that moment. The file is the demo ledger (half of
its keys stored beforehand, a tenth of those with a changed description),
written once to ``--folder`` and reused, as CSV and as XLSX (``--formats``; a
sheet holds at most 1,048,575 data rows, so larger sizes are CSV only).

Paths: ``cli`` is ``manage.py bulk_import`` (a real import); ``job`` is a
background job's two steps run in-process, ``run_preview`` (a dry run that
builds the preview and the report) and then ``run_import``. Linux only.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from ledger.routing import pinned_database
from ledger.sample_data import XLSX_MAX_ROWS, sample_file
from ledger.seeding import reset_ledger, reset_transactions

#: The URLs the demo's settings read for each alias (and their defaults there).
_URLS = {
    "postgresql": ("DATABASE_URL_POSTGRESQL", "postgres://postgres@127.0.0.1:5432/test"),
    "mariadb": ("DATABASE_URL_MARIADB", "mysql://root@127.0.0.1:3306/test"),
}
RESOURCE = "ledger.resources.FinancialTransactionResource"


class Command(BaseCommand):
    help = "Measure the peak memory of streamed imports of growing size (CLI and job)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--rows", nargs="+", type=int, default=[100_000, 1_000_000])
        parser.add_argument("--database", default="postgresql", choices=sorted(_URLS))
        parser.add_argument("--paths", nargs="+", default=["cli", "job"], choices=["cli", "job"])
        parser.add_argument(
            "--formats", nargs="+", default=["csv", "xlsx"], choices=["csv", "xlsx"]
        )
        parser.add_argument(
            "--repeat", type=int, default=1, help="Runs of each import; the medians are shown."
        )
        parser.add_argument("--folder", type=Path, default=Path("/tmp/admin_bulk_upsert_stream"))
        parser.add_argument("--child", choices=["cli", "job-preview", "job-import"])
        parser.add_argument("--file", type=Path)
        parser.add_argument("--job", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["child"]:
            print(json.dumps(_child(options)), flush=True)  # noqa: T201 - read by the parent
            return
        alias = options["database"]
        _check_same_database(alias)
        # Migrated as the children see it (the jobs in the default database);
        # in this process, two aliases on one database deadlock a migration.
        _run(alias, ["migrate", "--verbosity", "0"])
        lines = [
            "| rows | file | path | step | seconds | µs/row | start RSS MB | peak above start MB |"
        ]
        lines.append("|---:|---|---|---|---:|---:|---:|---:|")
        self.stdout.write(f"load average: {_load()}")
        for rows in options["rows"]:
            # Formats and paths interleaved in each round: the load of a shared
            # machine drifts, and each median then comes from the same stretches.
            runs: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
            for _round in range(options["repeat"]):
                for fmt in options["formats"]:
                    if fmt == "xlsx" and rows > XLSX_MAX_ROWS:
                        continue  # more rows than a sheet holds
                    path = sample_file(options["folder"], rows, fmt)
                    for which in options["paths"]:
                        for step, figures in self._measure(alias, which, rows, path):
                            runs.setdefault((fmt, which, step), []).append(figures)
            for (fmt, which, step), figures in runs.items():
                seconds = statistics.median(run["seconds"] for run in figures)
                start = statistics.median(run["start"] for run in figures)
                above = statistics.median(run["peak"] - run["start"] for run in figures)
                lines.append(
                    f"| {rows:,} | {fmt} | {which} | {step} | {seconds:.1f} | "
                    f"{seconds / rows * 1e6:.1f} | {start / 1024:.0f} | {above / 1024:.0f} |"
                )
                self.stdout.write(lines[-1])
        self.stdout.write(f"load average: {_load()}")
        self.stdout.write("\n".join(lines))

    def _measure(self, alias: str, which: str, rows: int, path: Path) -> Any:
        with pinned_database(alias):
            reset_ledger(alias)
            reset_transactions(rows, alias)
        if which == "cli":
            yield "import", self._child(alias, "cli", file=path)
            return
        job_pk = _create_job(alias, path)
        yield "preview", self._child(alias, "job-preview", job=job_pk)
        from admin_bulk_upsert.jobs.models import ImportJob

        with pinned_database(alias):
            ImportJob.objects.filter(pk=job_pk).update(state=ImportJob.State.CONFIRMED)
        yield "import", self._child(alias, "job-import", job=job_pk)

    def _child(self, alias: str, step: str, **arguments: Any) -> dict[str, Any]:
        command = ["benchmark_streaming", "--child", step]
        for name, value in arguments.items():
            command += [f"--{name}", str(value)]
        figures: dict[str, Any] = json.loads(_run(alias, command).strip().splitlines()[-1])
        return figures


def _run(alias: str, arguments: list[str]) -> str:
    """``manage.py ARGUMENTS`` in a fresh process whose default database is ``alias``'s."""
    variable, default = _URLS[alias]
    env = {**os.environ, "DATABASE_URL": os.environ.get(variable, default), "DJANGO_DEBUG": "0"}
    done = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        env=env,
        capture_output=True,
        text=True,
        cwd=_demo_dir(),
        check=False,
    )
    if done.returncode != 0:
        raise CommandError(f"{' '.join(arguments)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _check_same_database(alias: str) -> None:
    """The jobs this process creates must be where the children (default: ``alias``) look."""
    from django.conf import settings

    def where(name: str) -> tuple[Any, ...]:
        config = settings.DATABASES[name]
        return config["ENGINE"], config["NAME"], config.get("HOST"), config.get("PORT")

    if where("default") != where(alias) or "jobs" in settings.DATABASES:
        variable = _URLS[alias][0]
        raise CommandError(
            f"Set DATABASE_URL to the same database as {variable} (the children import "
            "into their default database, and the jobs must be there too)."
        )


def _demo_dir() -> Path:
    return Path(__file__).resolve().parents[3]


def _load() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def _create_job(alias: str, path: Path) -> int:
    from admin_bulk_upsert.jobs import storage
    from admin_bulk_upsert.jobs.models import ImportJob

    with pinned_database(alias), path.open("rb") as file:
        job = ImportJob.objects.create(
            model_label="ledger.FinancialTransaction",
            resource_path=RESOURCE,
            file_name=path.name,
            file=storage.save_new("upload", File(file)),
            file_size=path.stat().st_size,
            input_format=path.suffix.lstrip("."),
            unique_fields=[],
            state=ImportJob.State.QUEUED,
        )
    return int(job.pk)


# -- in the child process ------------------------------------------------------------


def _child(options: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection

    from admin_bulk_upsert.jobs import steps

    connection.ensure_connection()
    step = options["child"]
    if step == "cli":

        def run() -> Any:
            return call_command("bulk_import", RESOURCE, str(options["file"]), "--no-progress")
    elif step == "job-preview":

        def run() -> Any:
            return steps.run_preview(options["job"])
    else:

        def run() -> Any:
            return steps.run_import(options["job"])

    gc.collect()
    _trim()
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    start = _status("VmRSS")
    started = time.monotonic()
    run()
    seconds = time.monotonic() - started
    figures = {"start": start, "peak": _status("VmHWM"), "seconds": seconds}
    if step != "cli":
        from admin_bulk_upsert.jobs.models import ImportJob

        job = ImportJob.objects.get(pk=options["job"])
        if job.state not in ("previewed", "done"):
            raise CommandError(f"job ended {job.state}: {job.failure}")
        figures["counts"] = [job.new_rows, job.updated_rows, job.unchanged_rows]
    return figures


def _status(field: str) -> int:
    """A ``/proc/self/status`` figure in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise CommandError(f"{field} not in /proc/self/status (Linux only)")


def _trim() -> None:
    with contextlib.suppress(OSError):  # not glibc
        ctypes.CDLL("libc.so.6").malloc_trim(0)
