"""The tasks a worker runs: thin wrappers, so that any ``TASKS`` backend can carry them.

A task receives only the job's id: everything else is read from the job's row
and the stored file, so the task's arguments stay JSON, as every backend needs.

The tasks are declared on the configured ``TASK_BACKEND`` and ``TASK_QUEUE``
rather than on Django's defaults: the task framework checks a task against its
backend when the task is declared, and a backend whose ``QUEUES`` do not list
``"default"`` (an RQ backend with its own queue names, say) would refuse the
declaration, and so the import of this module, in the web server and in the
worker alike. :mod:`.transitions` still names backend and queue at each enqueue,
and imports this module only then (its ``_enqueue`` says why).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ..conf import get_config
from ..gc_pause import import_owns_process
from .compat import ImmediateBackend, task, task_backends
from .expiry import delete_expired
from .steps import run_import, run_preview, run_revert

__all__ = ["delete_expired_jobs", "import_job", "preview_job", "revert_job"]


def _job_task(function: Callable[..., Any]) -> Any:
    config = get_config()
    return task(backend=config.TASK_BACKEND, queue_name=config.TASK_QUEUE)(function)


def _step_process() -> AbstractContextManager[None]:
    """A worker's step has the process to itself (:func:`..gc_pause.import_owns_process`).

    Not under Django's immediate backend: that runs the step in the process
    that enqueued it, a web request's thread among others.
    """
    if isinstance(task_backends[get_config().TASK_BACKEND], ImmediateBackend):
        return nullcontext()
    return import_owns_process()


@_job_task
def preview_job(job_pk: int) -> None:
    """Dry-run an uploaded file and store its preview on the job."""
    with _step_process():
        run_preview(job_pk)


@_job_task
def import_job(job_pk: int) -> None:
    """Import a confirmed job's file, all or nothing."""
    with _step_process():
        run_import(job_pk)


@_job_task
def revert_job(job_pk: int) -> None:
    """Revert a done job's import from its undo data, all or nothing."""
    with _step_process():
        run_revert(job_pk)


@_job_task
def delete_expired_jobs() -> dict[str, int]:
    """Retire old jobs and their files (:func:`.expiry.delete_expired`); schedule it hourly.

    The same as ``manage.py import_jobs cleanup``, for projects whose task
    backend has a periodic scheduler; returns the counts. Declared on the job
    tasks' backend and queue, as they are, or its declaration would refuse a
    backend without a "default" queue and take the whole module down with it.
    """
    return delete_expired()
