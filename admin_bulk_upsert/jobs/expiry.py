"""Retiring import jobs: expired previews, silent workers, old jobs and their files.

:func:`delete_expired` is what ``manage.py import_jobs cleanup`` and the task
``delete_expired_jobs`` run; :func:`fail_if_stale` is also called by every
page and command that shows a job, so that a job whose worker died is reported
failed without waiting for the next cleanup. Each change is a conditional
``UPDATE``, as in :mod:`.transitions`, so that a worker finishing meanwhile wins
or loses cleanly.

This is a module of its own, rather than part of :mod:`.transitions`, because
:mod:`.tasks` declares ``delete_expired_jobs`` and :mod:`.transitions` imports
:mod:`.tasks` to enqueue the steps: retiring jobs here keeps the imports
pointing one way (transitions -> tasks -> expiry).
"""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import get_config
from . import storage
from .models import ImportJob
from .undo import delete_expired_undo

State = ImportJob.State


def fail_if_stale(job: ImportJob) -> bool:
    """Declare a running job failed when its worker went silent; return whether it was.

    A revert whose worker went silent goes back to done instead, with the reason
    in its ``revert_summary``: it runs in one transaction, so nothing of it was
    kept, the undo data is still there, and the import can be reverted again.
    """
    if not job.heartbeat_is_stale():
        return False
    jobs = ImportJob.objects.filter(pk=job.pk, state=job.state, heartbeat_at=job.heartbeat_at)
    when = timezone.localtime(job.heartbeat_at).strftime("%Y-%m-%d %H:%M:%S")
    if job.state == State.REVERTING:
        failed = jobs.update(
            state=State.DONE,
            rows_done=job.rows_total or 0,
            revert_summary={
                "failure": _(
                    "The worker running the revert stopped responding (last heard of "
                    "%(when)s). Nothing was changed: its transaction was rolled back. "
                    "You can revert again."
                )
                % {"when": when}
            },
        )
    else:
        failed = jobs.update(
            state=State.FAILED,
            failed_step="preview" if job.state == State.PREVIEWING else "import",
            finished_at=timezone.now(),
            failure=_(
                "The worker running this import stopped responding (last heard of %(when)s). "
                "Nothing was written: its transaction was rolled back. You can run it again."
            )
            % {"when": when},
        )
    if failed:
        job.refresh_from_db()
    return bool(failed)


def delete_expired(now: datetime.datetime | None = None) -> dict[str, int]:
    """Retire old jobs: ``manage.py import_jobs cleanup`` or the task ``delete_expired_jobs``.

    - uploads of jobs that ended, or waited for a confirm longer than
      ``STAGING_MAX_AGE``, are deleted (the waiting jobs are cancelled);
    - running jobs whose heartbeat is stale are declared failed;
    - jobs ended more than ``JOB_MAX_AGE_DAYS`` ago go, with their reports;
    - undo data older than ``UNDO_MAX_AGE_DAYS`` goes (:func:`.undo.delete_expired_undo`).
    """
    now = now or timezone.now()
    config = get_config()
    counts = {"expired": 0, "failed": 0, "deleted": 0, "files": 0}
    counts["undo_chunks"] = delete_expired_undo(
        now - datetime.timedelta(days=config.UNDO_MAX_AGE_DAYS)
    )
    staging_deadline = now - datetime.timedelta(seconds=config.STAGING_MAX_AGE)
    for job in ImportJob.objects.filter(state=State.PREVIEWED, created_at__lt=staging_deadline):
        if ImportJob.objects.filter(pk=job.pk, state=State.PREVIEWED).update(
            state=State.CANCELLED,
            finished_at=now,
            failure=_("The preview expired before the import was confirmed."),
        ):
            counts["expired"] += 1
    for job in ImportJob.objects.running():
        counts["failed"] += fail_if_stale(job)
    for job in ImportJob.objects.filter(state__in=ImportJob.ENDED_STATES).exclude(file=""):
        if (
            job.state != State.FAILED
            or job.finished_at is None
            or job.finished_at < (staging_deadline)
        ):
            counts["files"] += drop_files(job, keep_report=True)
    history_deadline = now - datetime.timedelta(days=config.JOB_MAX_AGE_DAYS)
    for job in ImportJob.objects.filter(
        state__in=ImportJob.ENDED_STATES, finished_at__lt=history_deadline
    ):
        counts["files"] += drop_files(job, keep_report=False)
        job.delete()
        counts["deleted"] += 1
    return counts


def drop_files(job: ImportJob, *, keep_report: bool) -> int:
    """Delete the job's upload (and its reports unless ``keep_report``); return how many."""
    dropped = 0
    names = [job.file.name] + ([] if keep_report else [job.report.name, job.revert_report.name])
    for name in names:
        if name:
            storage.delete_quietly(name)
            dropped += 1
    reports = {} if keep_report else {"report": "", "revert_report": ""}
    ImportJob.objects.filter(pk=job.pk).update(file="", **reports)
    return dropped
