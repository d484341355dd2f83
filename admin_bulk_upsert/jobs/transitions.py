"""Starting, confirming, cancelling, running again and reverting import jobs: every change
of state made from outside a worker (the admin's views, the management commands).

Each change is one conditional ``UPDATE`` (``WHERE state = <expected>``), so
that two clicks, two tabs or a click racing a worker cannot both win: a
confirm replayed after the import started, or sent for a job that was
cancelled, changes nothing and queues nothing. A change that hands the job to
a worker enqueues the step's task (:mod:`.tasks`) once the row is committed.

The worker's side of each change is in :mod:`.steps`; retiring old and silent
jobs is in :mod:`.expiry`. This module sits on top of the jobs package: it
imports them, nothing in the package imports it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from django.core import signing
from django.db import router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import get_config
from . import storage
from .compat import ImmediateBackend, task_backends
from .expiry import drop_files
from .models import ImportJob
from .revert import may_revert, refusal

__all__ = ["JobStateError", "request_revert"]

State = ImportJob.State
CONFIRM_SALT = "admin_bulk_upsert.jobs.confirm"
REVERT_SALT = "admin_bulk_upsert.jobs.revert"


class JobStateError(Exception):
    """The job is not in a state that allows this (confirmed twice, already ended ...)."""


def background_imports_enabled() -> bool:
    """Whether the admin runs uploads as jobs: the setting, ``"auto"`` = a real task backend."""
    setting = get_config().BACKGROUND_IMPORTS
    if setting == "auto":
        backend = task_backends[get_config().TASK_BACKEND]
        return not isinstance(backend, ImmediateBackend)
    return bool(setting)


def jobs_run_on_workers() -> bool:
    """Whether import jobs are on and run outside the request (not the immediate backend).

    Only then can a job wait for another import without holding a web server thread.
    """
    config = get_config()
    if config.BACKGROUND_IMPORTS is False:
        return False
    backend = task_backends[config.TASK_BACKEND]
    return not isinstance(backend, ImmediateBackend)


def create_job(
    data: bytes,
    *,
    user: Any,
    model_label: str,
    file_name: str,
    input_format: str,
    unique_fields: Sequence[str],
    resource_path: str = "",
    resource_kwargs: dict[str, Any] | None = None,
    import_kwargs: dict[str, Any] | None = None,
    encoding: str = "",
    admin_site: str = "",
    preview: bool = True,
    column_map: dict[str, str] | None = None,
) -> ImportJob:
    """Store the upload and queue its first step: the preview, or straight the import."""
    name = storage.save_new("upload", data)
    job = ImportJob.objects.create(
        user_pk="" if user is None else str(user.pk),
        user_name="" if user is None else user.get_username(),
        model_label=model_label,
        resource_path=resource_path,
        resource_kwargs=resource_kwargs or {},
        import_kwargs=import_kwargs or {},
        admin_site=admin_site,
        file_name=file_name.replace("\\", "/").rsplit("/", 1)[-1][:255],
        file=name,
        file_size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        input_format=input_format,
        encoding=encoding,
        unique_fields=list(unique_fields),
        column_map=dict(column_map or {}),
        state=State.QUEUED if preview else State.CONFIRMED,
    )
    _enqueue(job, "preview" if preview else "import")
    return job


def _token_payload(job: ImportJob, user_pk: Any) -> dict[str, Any]:
    """What a job's signed tokens bind: the job, the user, the file's content."""
    return {"j": job.pk, "u": str(user_pk), "h": job.sha256}


def _check_token(job: ImportJob, token: str, user: Any, salt: str) -> None:
    """Raise :class:`signing.BadSignature` unless ``token`` was issued for ``job`` and ``user``."""
    payload = signing.loads(token, salt=salt, max_age=get_config().STAGING_MAX_AGE)
    if payload != _token_payload(job, user.pk):
        raise signing.BadSignature("token issued for another job or user")


def confirm_token(job: ImportJob) -> str:
    """The confirm form's token: this job, this user, this file's content."""
    return signing.dumps(_token_payload(job, job.user_pk), salt=CONFIRM_SALT)


def confirm(job: ImportJob, token: str, user: Any) -> None:
    """Queue the import of a previewed job, if ``token`` was issued for it and ``user``.

    Raises :class:`signing.BadSignature` for a forged or foreign token and
    :class:`JobStateError` when the job is not waiting for a confirm (a replay).
    """
    _check_token(job, token, user, CONFIRM_SALT)
    if not ImportJob.objects.filter(pk=job.pk, state=State.PREVIEWED).update(state=State.CONFIRMED):
        raise JobStateError(_("This import was confirmed already or is no longer available."))
    _enqueue(job, "import")


def cancel(job: ImportJob) -> None:
    """Cancel a waiting job at once, or ask a running one to stop at its next chunk."""
    now = timezone.now()
    jobs = ImportJob.objects.filter(pk=job.pk)
    if jobs.filter(state__in=(State.QUEUED, State.CONFIRMED, State.PREVIEWED)).update(
        state=State.CANCELLED, cancel_requested_at=now, finished_at=now
    ):
        drop_files(job, keep_report=True)
        return
    running = (State.PREVIEWING, State.IMPORTING)
    if not jobs.filter(state__in=running).update(cancel_requested_at=now):
        raise JobStateError(_("This import has ended already."))


def run_again(job: ImportJob) -> None:
    """Queue a failed job's step again, from the stored upload."""
    if not job.file.name:
        raise JobStateError(_("The uploaded file is no longer available: upload it again."))
    step = job.failed_step or ("import" if job.preview_seconds is not None else "preview")
    state = State.CONFIRMED if step == "import" else State.QUEUED
    if not ImportJob.objects.filter(pk=job.pk, state=State.FAILED).update(
        state=state, failure="", finished_at=None, cancel_requested_at=None, rows_done=0
    ):
        raise JobStateError(_("Only a failed import can be run again."))
    _enqueue(job, step)


def revert_token(job: ImportJob, user: Any) -> str:
    """The "Confirm revert" form's token: this job, this user (who previewed the revert)."""
    return signing.dumps(_token_payload(job, user.pk), salt=REVERT_SALT)


def confirm_revert(job: ImportJob, token: str, user: Any) -> None:
    """Queue the revert of a done job, if ``token`` was issued for it and ``user``.

    Raises :class:`signing.BadSignature` for a forged or foreign token,
    :class:`PermissionError` when ``user`` may not revert it
    (:func:`.revert.may_revert`) and :class:`JobStateError` when it cannot be
    reverted (any more): reverted already, being reverted, no undo data.
    """
    _check_token(job, token, user, REVERT_SALT)
    request_revert(job, user)


def request_revert(job: ImportJob, user: Any) -> None:
    """Queue the revert of a done job for ``user`` (who must pass :func:`.revert.may_revert`)."""
    if not may_revert(user, job):
        raise PermissionError(_("You may not revert this import."))
    reason = refusal(job)
    if reason is not None:
        raise JobStateError(reason)
    if not ImportJob.objects.filter(pk=job.pk, state=State.DONE).update(
        state=State.REVERT_QUEUED, reverted_by=str(user.pk), revert_summary=None, rows_done=0
    ):
        raise JobStateError(_("This import was reverted already or is being reverted."))
    enqueue_step(job, "revert")


def enqueue_step(job: ImportJob, step: str) -> None:
    """Enqueue ``"preview"``, ``"import"`` or ``"revert"`` once the job's row is committed."""
    _enqueue(job, step)


def _enqueue(job: ImportJob, step: str) -> None:
    """Enqueue the step once the job's row is committed, so that a worker can read it."""
    # Imported here, at the first enqueue, not with this module: declaring the tasks checks
    # TASK_BACKEND and TASK_QUEUE against TASKS (see .tasks), and the admin imports this
    # module, so a project that never enqueues (BACKGROUND_IMPORTS off) on a backend
    # without the configured queue would otherwise lose its admin at startup.
    from . import tasks

    task = {
        "preview": tasks.preview_job,
        "import": tasks.import_job,
        "revert": tasks.revert_job,
    }[step]
    config = get_config()
    configured = task.using(backend=config.TASK_BACKEND, queue_name=config.TASK_QUEUE)

    def send() -> None:
        result = configured.enqueue(job.pk)
        ImportJob.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])

    transaction.on_commit(send, using=router.db_for_write(ImportJob))
