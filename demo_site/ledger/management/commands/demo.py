"""``manage.py demo``: everything needed to try the plugin in the admin, then serve it.

Uploads run as background import jobs (the demo's ``TASKS`` is django-tasks-db's
database queue), so the command starts ``manage.py db_worker`` beside the
development server, and stops it when the server stops.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS

from ledger.sample_data import write_sample_files
from ledger.seeding import ensure_accounts, reset_transactions

JOBS_ALIAS = "jobs"


def _die_with_parent() -> None:
    """In the worker's process, before it starts: ask Linux for SIGTERM when the demo dies."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """Stop the worker: it finishes nothing half-way (an import rolls back) and exits."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


class Command(BaseCommand):
    help = (
        "Migrate the demo database, create an admin user, load sample accounts and "
        "transactions, write sample files to import, and serve the admin."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--sizes",
            nargs="+",
            type=int,
            default=[1_000, 100_000],
            metavar="ROWS",
            help="Rows of each sample file (default: 1000 100000).",
        )
        parser.add_argument(
            "--output",
            type=Path,
            default=Path(settings.DEMO_SAMPLE_DIR),
            help="Folder for the sample files (default: demo_site/sample_files/).",
        )
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", default="admin")
        parser.add_argument(
            "--no-serve",
            action="store_false",
            dest="serve",
            help="Prepare everything but do not start the development server.",
        )
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument(
            "--no-worker",
            action="store_false",
            dest="worker",
            help="Serve without starting the import jobs' worker (run 'manage.py db_worker').",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sizes: list[int] = options["sizes"]
        if any(size < 2 for size in sizes):
            raise CommandError("Every size must be at least 2 rows.")
        verbosity: int = options["verbosity"]

        self.stdout.write("Migrating the demo database ...")
        call_command("migrate", database=DEFAULT_DB_ALIAS, interactive=False, verbosity=0)
        if JOBS_ALIAS in settings.DATABASES:
            # The import jobs' own SQLite file (see demo_site/settings.py).
            call_command("migrate", database=JOBS_ALIAS, interactive=False, verbosity=0)
        self._ensure_admin(options["username"], options["password"])

        ensure_accounts(DEFAULT_DB_ALIAS)
        # Every sample file's even-numbered rows are the starting state of the
        # largest one, so one load serves all sizes.
        loaded = reset_transactions(max(sizes), DEFAULT_DB_ALIAS)
        self.stdout.write(f"Loaded {loaded:,} existing transactions (any others were removed).")

        folder: Path = options["output"].resolve()
        self.stdout.write(f"Writing sample files to {folder} ...")
        for path in write_sample_files(folder, sorted(sizes)):
            if verbosity >= 1:
                self.stdout.write(f"  {path.name}  ({path.stat().st_size:,} bytes)")
        self._explain(sorted(sizes), folder, options["addrport"])

        if options["serve"]:
            worker = self._start_worker() if options["worker"] else None
            try:
                # The autoreloader would run this whole command again in a child process.
                call_command("runserver", options["addrport"], use_reloader=False)
            finally:
                if worker is not None:
                    _stop(worker)

    def _start_worker(self) -> subprocess.Popen[bytes]:
        """``manage.py db_worker`` in a child process, with this process's settings.

        The worker is stopped when the server stops (Ctrl-C, or SIGTERM, which is
        turned into the same exit here), and on Linux also when this process dies
        without a word (the kernel sends it SIGTERM then).
        """
        manage_py = Path(settings.BASE_DIR) / "manage.py"
        command = [sys.executable, str(manage_py), "db_worker", "--no-reload", "--interval", "0.5"]
        worker = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=dict(os.environ), preexec_fn=_die_with_parent
        )
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        self.stdout.write(f"Started the import jobs' worker (db_worker, pid {worker.pid}).")
        return worker

    def _ensure_admin(self, username: str, password: str) -> None:
        """Create the superuser, or reset its password: running demo twice must work."""
        user_model = get_user_model()
        user, created = user_model._default_manager.get_or_create(
            **{user_model.USERNAME_FIELD: username},
            defaults={"is_staff": True, "is_superuser": True},
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        verb = "Created" if created else "Reset"
        self.stdout.write(
            self.style.SUCCESS(f"{verb} admin user: username {username!r}, password {password!r}")
        )

    def _explain(self, sizes: list[int], folder: Path, addrport: str) -> None:
        smallest = sizes[0]
        matching = (smallest + 1) // 2
        corrected = (smallest + 9) // 10
        self.stdout.write(
            self.style.SUCCESS(
                f"\nReady. Open http://{addrport}/admin/ledger/financialtransaction/, "
                f"click Import and choose {folder / f'transactions_{smallest}.csv'}."
            )
        )
        self.stdout.write(
            f"Each file holds its rows shuffled: half of them ({matching:,} of {smallest:,} here) "
            f"are transactions already in the database, {corrected:,} of those with a "
            "corrected description; the other half are new."
        )
