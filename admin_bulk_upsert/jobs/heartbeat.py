"""A running job's rows done, heartbeat and cancellation, written outside its transaction.

The import runs in one transaction (a dry run's is rolled back), so anything
written on its connection stays invisible to the job page until the end, or
forever. Progress is written instead by a helper thread, on that thread's own
connection, in autocommit. The import thread only hands it the latest count
(once per chunk) and reads back whether to stop; it never waits for it.

The thread also beats on its own, every ``interval`` seconds, so that a job
busy on one long chunk (or waiting for another import's lock) still looks
alive, and a worker that died is noticed by its silence (``HEARTBEAT_TIMEOUT``).

The job is told to stop when someone asked to cancel it, or when it is no
longer in the state this step put it in (declared dead while it was only
slow, say): its work would be rolled back in any case. A job this thread
cannot see at all (created in a transaction not yet committed, e.g. with
``ATOMIC_REQUESTS`` and the immediate backend) is left to run.

On SQLite, a second connection cannot write while the import holds the
database's write lock; when the job table is in the same database as the
imported model, progress is only read (for cancellation), not written.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from django.db import DatabaseError, connections, router
from django.utils import timezone

from .models import ImportJob

logger = logging.getLogger(__name__)


class ImportCancelled(Exception):
    """Raised in the import thread at a chunk boundary: the job is to stop, nothing kept."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def shares_sqlite_database(job_alias: str, import_alias: str) -> bool:
    """Whether the job table and the imported model live in one SQLite database."""
    job_db, import_db = connections[job_alias], connections[import_alias]
    if job_db.vendor != "sqlite" or import_db.vendor != "sqlite":
        return False
    return (
        job_alias == import_alias or job_db.settings_dict["NAME"] == import_db.settings_dict["NAME"]
    )


class JobProgress:
    """Use as a context manager around a step, and as the import's ``progress`` callback."""

    def __init__(
        self,
        job: ImportJob,
        state: str,
        *,
        import_alias: str,
        interval: float = 2.0,
        min_gap: float = 0.2,
    ) -> None:
        self.job_pk = job.pk
        self.state = state
        self.interval = interval
        self.min_gap = min_gap
        self.alias = router.db_for_write(ImportJob)
        self.writes = not shares_sqlite_database(self.alias, import_alias)
        self._latest: tuple[int, int | None] | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._stopping = False
        self._stop_reason: str | None = None
        self._thread: threading.Thread | None = None

    # -- the import thread's side ------------------------------------------------------

    def __enter__(self) -> JobProgress:
        self._thread = threading.Thread(
            target=self._run, name=f"import-job-{self.job_pk}-progress", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stopping = True
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def __call__(self, done: int, total: int | None) -> None:
        """Called by the engine after each chunk: hand over the count, stop if told to."""
        self._latest = (done, total)
        self._wake.set()
        self.check()

    def check(self) -> None:
        if self._stop_reason is not None:
            raise ImportCancelled(self._stop_reason)

    # -- the helper thread ---------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                self._wake.wait(self.interval)
                self._wake.clear()
                stopping = self._stopping
                try:
                    self._beat()
                except DatabaseError as exc:
                    # A busy database is no reason to fail the import: try again later.
                    logger.debug("Progress of import job %s not written: %s", self.job_pk, exc)
                if stopping:
                    return
                # At most one write per min_gap, however fast the chunks go.
                self._stop.wait(self.min_gap)
        finally:
            connections[self.alias].close()

    def _beat(self) -> None:
        jobs = ImportJob.objects.using(self.alias).filter(pk=self.job_pk)
        if self.writes:
            changes: dict[str, Any] = {"heartbeat_at": timezone.now()}
            latest = self._latest
            if latest is not None:
                changes["rows_done"] = latest[0]
            if jobs.filter(state=self.state, cancel_requested_at__isnull=True).update(**changes):
                return
        found = jobs.values_list("state", "cancel_requested_at").first()
        if found is None:
            return  # not visible from here (an uncommitted creation): nothing to say
        state, cancel_requested_at = found
        if cancel_requested_at is not None:
            self._stop_reason = "cancelled"
        elif state != self.state:
            self._stop_reason = f"state changed to {state}"
