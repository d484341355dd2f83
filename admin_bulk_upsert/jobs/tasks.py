"""The tasks a worker runs: thin wrappers, so that any ``TASKS`` backend can carry them.

A task receives only the job's id: everything else is read from the job's row
and the stored file, so the task's arguments stay JSON, as every backend needs.
"""

from __future__ import annotations

from .compat import task
from .running import run_import, run_preview


@task()
def preview_job(job_pk: int) -> None:
    """Dry-run an uploaded file and store its preview on the job."""
    run_preview(job_pk)


@task()
def import_job(job_pk: int) -> None:
    """Import a confirmed job's file, all or nothing."""
    run_import(job_pk)


@task()
def delete_expired_jobs() -> dict[str, int]:
    """Retire old jobs and their files (:func:`.lifecycle.delete_expired`); schedule it hourly.

    The same as ``manage.py import_jobs cleanup``, for projects whose task
    backend has a periodic scheduler; returns the counts.
    """
    from .lifecycle import delete_expired

    return delete_expired()
