"""The steps of a job, as a worker runs them: the dry-run preview, the import, the revert.

Each step first claims the job with a conditional update (from the state it
expects to the running state), so a task delivered twice, or a job cancelled
while it waited in the queue, runs nothing. It then reads the stored file as a
stream of rows, runs the resource's ``import_data`` with
:class:`.heartbeat.JobProgress` as its progress callback and a
:class:`..reports.preview.PreviewBuilder` as its row consumer, and records the outcome.
No row's result is kept (the preview keeps the first changes and errors, the
report and the admin log entries go to temporary files), so a worker's memory
does not grow with the file. Whatever goes wrong ends in a
state the page can show (failed, cancelled) with a message: the import itself
runs in one transaction, so a failed or cancelled step has written nothing.

The revert step (:func:`run_revert`) claims a queued revert the same way and
runs :func:`.revert.revert`, which does the work; a revert that fails leaves
the job done, with the reason, since its transaction wrote nothing.
"""

from __future__ import annotations

import contextlib
import io
import logging
import tempfile
import time
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import DatabaseError, connections, router
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from import_export.signals import post_import

from ..column_mapping.renames import apply_column_map
from ..conf import get_config
from ..engine.lost_connection import connection_lost, loss_reason
from ..engine.results import each_of
from ..files.reading import ReadError
from ..files.streaming import open_dataset
from ..reports.log_entries import LogEntrySpool, write_log_entries
from ..reports.preview import Preview, PreviewBuilder
from ..resources import bulk_resource_factory
from . import storage
from .heartbeat import ImportCancelled, JobProgress, worker_name
from .models import ImportJob
from .revert import revert
from .undo import UndoRecorder

logger = logging.getLogger(__name__)

State = ImportJob.State


class NotImportable(Exception):
    """A resource class that a worker could not import by its module and name (``path``)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


def resource_path_of(resource_class: type) -> str:
    """The dotted path :func:`resource_class_for` imports ``resource_class`` back by.

    Raises :class:`NotImportable` when that path leads elsewhere (a class made in a
    function, or shadowed), so the caller can say so before the job is queued.
    """
    path = f"{resource_class.__module__}.{resource_class.__qualname__}"
    try:
        found = import_string(path)
    except ImportError:
        found = None
    if found is not resource_class:
        raise NotImportable(path)
    return path


def resource_class_for(job: ImportJob) -> Any:
    """The job's resource class: its dotted path, or the model's default bulk resource."""
    if job.resource_path:
        return import_string(job.resource_path)
    return bulk_resource_factory(job.model)


def run_preview(job_pk: int) -> None:
    """Dry-run the job's file and store the preview; the job ends up previewed."""
    job = _claim(job_pk, State.QUEUED, State.PREVIEWING)
    if job is None:
        return
    started = time.monotonic()
    try:
        with (
            JobProgress(job, State.PREVIEWING, import_alias=_import_alias(job)) as progress,
            job.file.open("rb") as stored,
        ):
            resource, dataset, user = _prepare(job, stored, progress)
            with _Summary(resource, show_changes=True) as summary:
                result = resource.import_data(
                    dataset,
                    dry_run=True,
                    raise_errors=False,
                    unique_fields=list(job.unique_fields),
                    retain_instance_in_row_result=True,
                    file_name=job.file_name,
                    user=user,
                    progress=progress,
                    row_consumer=summary.builder,
                    **job.import_kwargs,
                )
                preview, report = summary.finish(result)
            progress.check()
    except ImportCancelled as stop:
        _stopped(job, State.PREVIEWING, stop)
        return
    except Exception as exc:  # noqa: BLE001 - every failure is the job's to report
        _failed(job, State.PREVIEWING, exc)
        return
    _finish(
        job,
        State.PREVIEWING,
        State.PREVIEWED,
        preview,
        report,
        preview_seconds=time.monotonic() - started,
    )


def run_import(job_pk: int) -> None:
    """Import the job's file for real, all or nothing; the job ends up done or failed."""
    job = _claim(job_pk, State.CONFIRMED, State.IMPORTING)
    if job is None:
        return
    started = time.monotonic()
    try:
        with (
            JobProgress(job, State.IMPORTING, import_alias=_import_alias(job)) as progress,
            job.file.open("rb") as stored,
        ):
            resource, dataset, user = _prepare(job, stored, progress)
            log_entries = LogEntrySpool() if job.admin_site else None
            undo_refusal = _undo_refusal(resource)
            recorder = None if undo_refusal else UndoRecorder(job.pk, job.model_label)
            with _Summary(resource, show_changes=False) as summary:
                consumers = [summary.builder] + ([log_entries] if log_entries else [])
                outcome: dict[str, Any] = {}

                def keep_outcome(result: Any) -> None:
                    # Inside the import's transaction: a log entry or the report that
                    # cannot be written (a full disk) rolls the import back with it.
                    outcome["failed"] = result.has_errors() or result.has_validation_errors()
                    if not outcome["failed"] and log_entries is not None:
                        write_log_entries(
                            log_entries,
                            user_pk=user.pk if user is not None else None,
                            model=job.model,
                            file_name=job.file_name,
                            batch_size=int(
                                getattr(resource._meta, "batch_size", None)
                                or get_config().BATCH_SIZE
                            ),
                        )
                    outcome["preview"], outcome["report"] = summary.finish(result)

                result = resource.import_data(
                    dataset,
                    dry_run=False,
                    raise_errors=False,
                    use_transactions=True,
                    rollback_on_validation_errors=True,
                    unique_fields=list(job.unique_fields),
                    # The report names each row's changed columns from its instance;
                    # streamed, each row's result is dropped once the report has it.
                    retain_instance_in_row_result=True,
                    file_name=job.file_name,
                    user=user,
                    progress=progress,
                    row_consumer=each_of(*consumers),
                    **({"on_chunk_written": recorder} if recorder is not None else {}),
                    **(
                        {"before_transaction_end": keep_outcome}
                        if hasattr(resource, "stock_path_reason")
                        else {}
                    ),
                    **job.import_kwargs,
                )
                if not outcome:  # not a BulkUpsertResource: after its transaction, then
                    keep_outcome(result)
                failed, preview, report = (
                    outcome["failed"],
                    outcome["preview"],
                    outcome["report"],
                )
            if log_entries is not None:
                log_entries.close()
    except ImportCancelled as stop:
        _stopped(job, State.IMPORTING, stop)
        return
    except Exception as exc:  # noqa: BLE001
        _failed(job, State.IMPORTING, exc)
        return
    seconds = time.monotonic() - started
    if failed:
        _finish(
            job,
            State.IMPORTING,
            State.FAILED,
            preview,
            report,
            import_seconds=seconds,
            failure=_(
                "Nothing was imported: the data no longer passes validation. "
                "Correct the rows listed below and upload the file again."
            ),
        )
        return
    _finish(
        job,
        State.IMPORTING,
        State.DONE,
        preview,
        report,
        import_seconds=seconds,
        undo_refusal=undo_refusal,
    )
    post_import.send(sender=None, model=job.model)


def run_revert(job_pk: int) -> None:
    """The revert task's body: claim the queued revert, run it, record its outcome."""
    now = timezone.now()
    # The bar counts the revert's records from 0; the import's count comes back at the end.
    if not ImportJob.objects.filter(pk=job_pk, state=State.REVERT_QUEUED).update(
        state=State.REVERTING,
        step_started_at=now,
        heartbeat_at=now,
        rows_done=0,
        worker=worker_name(),
    ):
        logger.info("Revert of import job %s not run: it is no longer queued.", job_pk)
        return
    job = ImportJob.objects.get(pk=job_pk)
    rows_done = job.rows_total or 0
    try:
        with JobProgress(job, State.REVERTING, import_alias=_import_alias(job)) as progress:
            outcome = revert(job, user_pk=job.reverted_by or None, progress=progress)
    except Exception as exc:  # noqa: BLE001 - every failure is the job's to report
        if _lost(job, exc):
            logger.warning("Revert of import job %s: %s", job_pk, loss_reason(exc))
            failure = _(
                "The database connection was lost during the revert (%(reason)s): nothing "
                "was changed. Revert the import again."
            ) % {"reason": loss_reason(exc) or _("the server closed it")}
        else:
            logger.exception("Revert of import job %s failed", job_pk)
            failure = _("The revert stopped with an error; nothing was changed: %(error)s") % {
                "error": f"{type(exc).__name__}: {exc}"
            }
        ImportJob.objects.filter(pk=job_pk, state=State.REVERTING).update(
            state=State.DONE, rows_done=rows_done, revert_summary={"failure": failure}
        )
        return
    state = State.PARTLY_REVERTED if outcome.totals["conflict"] else State.REVERTED
    ImportJob.objects.filter(pk=job_pk, state=State.REVERTING).update(
        state=state,
        rows_done=rows_done,
        reverted_at=timezone.now(),
        revert_summary=outcome.as_json(),
        revert_report=outcome.report,
    )


# -- the steps' parts ------------------------------------------------------------------


def _undo_refusal(resource: Any) -> str:
    """Why this import records no undo data (blank when it does).

    A resource imported by stock DIE row by row overrides how rows are found
    or saved (its own ``import_row``, ``save_instance``, ...): what it wrote,
    and to which records, is its own business, so no undo data could be
    trusted to put the table back as it was. Refusing says so up front.
    """
    if not get_config().RECORD_UNDO:
        return _("This import cannot be reverted: undo data is turned off (RECORD_UNDO).")
    reason = resource.stock_path_reason() if hasattr(resource, "stock_path_reason") else None
    if reason is None and hasattr(resource, "stock_path_reason"):
        return ""
    return _(
        "This import cannot be reverted: its resource is imported row by row by "
        "django-import-export (%(reason)s), and what it wrote was not recorded."
    ) % {"reason": reason or _("not a BulkUpsertResource")}


def _claim(job_pk: int, expected: str, running: str) -> ImportJob | None:
    now = timezone.now()
    claimed = ImportJob.objects.filter(
        pk=job_pk, state=expected, cancel_requested_at__isnull=True
    ).update(
        state=running,
        step_started_at=now,
        heartbeat_at=now,
        rows_done=0,
        worker=worker_name(),
    )
    if not claimed:
        logger.info("Import job %s not run: it is no longer %s.", job_pk, expected)
        return None
    return ImportJob.objects.get(pk=job_pk)


def _import_alias(job: ImportJob) -> str:
    return router.db_for_write(job.model)


def _prepare(job: ImportJob, stored: IO[bytes], progress: JobProgress) -> tuple[Any, Any, Any]:
    """The resource, the file's rows (headers renamed by the job's column mapping) and the
    user, with the row count saved for the bar.

    The rows are read from storage as the import goes (:mod:`..files.streaming`),
    so ``stored`` must stay open until the import ends.
    """
    dataset = open_dataset(
        stored,
        filename=job.file_name,
        input_format=job.input_format,
        encoding=job.encoding or None,
    )
    ImportJob.objects.filter(pk=job.pk).update(rows_total=len(dataset))
    progress.check()
    resource = resource_class_for(job)(**job.resource_kwargs)
    apply_column_map(dataset, resource, job.column_map)
    user = get_user_model()._default_manager.filter(pk=job.user_pk).first() if job.user_pk else None
    return resource, dataset, user


class _Summary:
    """The preview to store on the job and the per-row report, built as the rows are imported.

    ``builder`` is the import's row consumer; :meth:`finish` saves the
    report to storage and returns the preview with its name.
    """

    def __init__(self, resource: Any, *, show_changes: bool) -> None:
        config = get_config()
        self._raw = tempfile.TemporaryFile("w+b")  # noqa: SIM115 - closed by __exit__
        self._text = io.TextIOWrapper(self._raw, encoding="utf-8", newline="")
        self.builder = PreviewBuilder(
            resource,
            list(resource.get_diff_headers()),
            max_rows=config.PREVIEW_ROWS if show_changes else 0,
            max_errors=config.PREVIEW_ERRORS,
            csv_file=self._text,
        )

    def __enter__(self) -> _Summary:
        return self

    def __exit__(self, *exc_info: object) -> None:
        # The file is dropped either way. On a full disk flushing what is left
        # fails again; the descriptor is still closed, not left to the collector.
        with contextlib.suppress(OSError):
            self._text.detach()
        with contextlib.suppress(OSError):
            self._raw.close()

    def finish(self, result: Any) -> tuple[Preview, str]:
        preview = self.builder.finish(result)
        self._text.flush()
        self._raw.seek(0)
        return preview, storage.save_new("report.csv", File(self._raw))


def _counts(preview: Preview) -> dict[str, int]:
    totals = preview.totals
    return {
        "new_rows": totals.get("new", 0),
        "updated_rows": totals.get("update", 0),
        "unchanged_rows": totals.get("skip", 0),
        "deleted_rows": totals.get("delete", 0),
        "invalid_rows": totals.get("invalid", 0),
        "error_rows": totals.get("error", 0),
    }


def _finish(
    job: ImportJob,
    running: str,
    state: str,
    preview: Preview,
    report: str,
    **fields: Any,
) -> None:
    ended = state in ImportJob.ENDED_STATES
    if ended:
        # The upload goes in the same UPDATE as the end state, so that nobody reads an
        # ended job that still names it; the file itself is deleted just after.
        fields["file"] = ""
    updated = ImportJob.objects.filter(pk=job.pk, state=running).update(
        state=state,
        summary=preview.as_json(),
        report=report,
        rows_done=preview.total_rows,
        finished_at=timezone.now() if ended else None,
        heartbeat_at=timezone.now(),
        **_counts(preview),
        **fields,
    )
    if old_report := job.report.name:
        storage.delete_quietly(old_report)
    if not updated:
        # Marked failed meanwhile (its heartbeat went stale): the page says so.
        logger.warning("Import job %s finished after it was declared failed.", job.pk)
    if ended:
        _drop_upload(job)


def _stopped(job: ImportJob, running: str, stop: ImportCancelled) -> None:
    ImportJob.objects.filter(pk=job.pk, state=running).update(
        state=State.CANCELLED, finished_at=timezone.now(), file=""
    )
    logger.info("Import job %s stopped: %s", job.pk, stop.reason)
    _drop_upload(job)


def _lost(job: ImportJob, exc: Exception) -> bool:
    """Whether ``exc`` is the import connection's loss; if so, drop that dead connection.

    The worker keeps serving: the job's state is written next, and the next
    task's statements, on a new connection.
    """
    alias = _import_alias(job)
    if not connection_lost(alias, exc):
        return False
    with contextlib.suppress(DatabaseError):
        connections[alias].close_if_unusable_or_obsolete()
    return True


def _failed(job: ImportJob, running: str, exc: Exception) -> None:
    if isinstance(exc, ReadError):
        message = exc.message
    elif isinstance(exc, storage.StorageFull) or storage.disk_full(exc):
        logger.warning("Import job %s: disk full: %s", job.pk, exc)
        cause = exc.__cause__ if isinstance(exc, storage.StorageFull) else exc
        error = getattr(cause, "strerror", None) or str(cause)
        message = (
            _(
                "The server ran out of disk space during the preview (%(error)s): nothing "
                "was written. Run the job again once space has been freed."
            )
            if running == State.PREVIEWING
            else _(
                "The server ran out of disk space during the import (%(error)s): nothing "
                "was written. Run the job again once space has been freed."
            )
        ) % {"error": error}
    elif _lost(job, exc):
        logger.warning("Import job %s: database connection lost: %s", job.pk, loss_reason(exc))
        message = (
            _(
                "The database connection was lost during the preview (%(reason)s): nothing "
                "was written. Run the job again."
            )
            if running == State.PREVIEWING
            else _(
                "The database connection was lost during the import (%(reason)s): nothing "
                "was written. Run the job again."
            )
        ) % {"reason": loss_reason(exc) or _("the server closed it")}
    else:
        logger.exception("Import job %s failed", job.pk)
        message = _("The import stopped with an error: %(error)s") % {
            "error": f"{type(exc).__name__}: {exc}"
        }
    ImportJob.objects.filter(pk=job.pk, state=running).update(
        state=State.FAILED,
        failure=message,
        failed_step="preview" if running == State.PREVIEWING else "import",
        finished_at=timezone.now(),
    )
    # The upload is kept: "run again" needs it (it expires with STAGING_MAX_AGE).


def _drop_upload(job: ImportJob) -> None:
    if job.file.name:
        storage.delete_quietly(job.file.name)
        ImportJob.objects.filter(pk=job.pk, file=job.file.name).update(file="")
