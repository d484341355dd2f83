"""Starting, confirming, cancelling and retiring import jobs: every change of state made
from outside a worker.

Each change is one conditional ``UPDATE`` (``WHERE state = <expected>``), so
that two clicks, two tabs or a click racing a worker cannot both win: a
confirm replayed after the import started, or sent for a job that was
cancelled, changes nothing and queues nothing.
"""

from __future__ import annotations

import datetime
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
from .models import ImportJob

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
        _drop_files(job, keep_report=True)
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
    from .revert import request_revert

    _check_token(job, token, user, REVERT_SALT)
    request_revert(job, user)


def delete_expired(now: datetime.datetime | None = None) -> dict[str, int]:
    """Retire old jobs: ``manage.py import_jobs cleanup`` or the task ``delete_expired_jobs``.

    - uploads of jobs that ended, or waited for a confirm longer than
      ``STAGING_MAX_AGE``, are deleted (the waiting jobs are cancelled);
    - running jobs whose heartbeat is stale are declared failed;
    - jobs ended more than ``JOB_MAX_AGE_DAYS`` ago go, with their reports;
    - undo data older than ``UNDO_MAX_AGE_DAYS`` goes (:func:`.undo.delete_expired_undo`).
    """
    from .undo import delete_expired_undo

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
            counts["files"] += _drop_files(job, keep_report=True)
    history_deadline = now - datetime.timedelta(days=config.JOB_MAX_AGE_DAYS)
    for job in ImportJob.objects.filter(
        state__in=ImportJob.ENDED_STATES, finished_at__lt=history_deadline
    ):
        counts["files"] += _drop_files(job, keep_report=False)
        job.delete()
        counts["deleted"] += 1
    return counts


def _drop_files(job: ImportJob, *, keep_report: bool) -> int:
    dropped = 0
    names = [job.file.name] + ([] if keep_report else [job.report.name, job.revert_report.name])
    for name in names:
        if name:
            storage.delete_quietly(name)
            dropped += 1
    reports = {} if keep_report else {"report": "", "revert_report": ""}
    ImportJob.objects.filter(pk=job.pk).update(file="", **reports)
    return dropped


def enqueue_step(job: ImportJob, step: str) -> None:
    """Enqueue ``"preview"``, ``"import"`` or ``"revert"`` once the job's row is committed."""
    _enqueue(job, step)


def _enqueue(job: ImportJob, step: str) -> None:
    """Enqueue the step once the job's row is committed, so that a worker can read it."""
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
