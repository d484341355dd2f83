"""One chunk end to end: plan it, write it (or replay it the stock way), finish and record its rows.

The functions take the resource as their first argument and call its DIE
hooks; :class:`~admin_bulk_upsert.resources.BulkUpsertResource` strings them
together for every chunk of an import. The stages have modules of their own:
:mod:`.planning` (each row's pre-save part), :mod:`.bulk_write` or
:mod:`.per_row_save` (the write), :mod:`.finishing` (each row's post-save
part); what stays here is their order, and the fallback to stock's row-by-row
replay when the database refuses a chunk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, transaction
from import_export import exceptions
from import_export.instance_loaders import ModelInstanceLoader
from import_export.resources import Resource
from import_export.results import Result, RowResult
from import_export.utils import atomic_if_using_transaction
from import_export.widgets import ManyToManyWidget

from .bulk_write import ChunkWriteError, write_chunk
from .chunk_changes import ChunkRecorder
from .finishing import BlankSnapshots, FinishBroken, finish_hooks, finish_rows
from .instances import overrides
from .keys import KeySpec
from .m2m_finishing import linked_finish
from .per_row_save import save_chunk
from .planning import RowWork, plan_chunk, row_kwargs
from .prefetch import prefetched_foreign_keys
from .save_signals import write_with_signals
from .write_mode import BULK, BULK_WITH_SIGNALS, SAVE_PER_ROW

logger = logging.getLogger(__name__)


def failed(work: RowWork) -> bool:
    """Whether stock would report the row as an error or invalid."""
    return bool(work.result.errors or work.result.validation_error)


def import_chunk(
    resource: Any,
    chunk: list[RowWork],
    spec: KeySpec | None,
    kwargs: dict[str, Any],
    write: bool,
    using: str,
    dataset: Any,
    raise_errors: bool,
    blanks: BlankSnapshots,
    idle_work: Callable[[], None] | None = None,
    write_how: str = BULK,
) -> None:
    """Plan, write (or replay the stock way) and finish one chunk.

    ``idle_work`` is done while the database writes the chunk, when it can
    be (reading the next chunk); the caller cannot tell whether it was.
    ``write_how`` (:mod:`.write_mode`) says how the chunk is written: in bulk,
    in bulk with the save signals sent per row (:mod:`.save_signals`), or
    through ``Model.save()`` one by one (:mod:`.per_row_save`).
    """
    rows = [work.row for work in chunk]
    with prefetched_foreign_keys(resource, rows, using):
        plan = plan_chunk(resource, spec, chunk, kwargs)
        recorder = _recorder(resource, plan, write, kwargs, using, dataset)
        if recorder is not None:
            recorder.before_write()
        if raise_errors and any(failed(work) for work in chunk):
            # Stock stops at the failing row: rows after it are never saved.
            replay_rows(resource, chunk, kwargs, using, dataset, stop_at_failure=True)
            _recorded(recorder, chunk, planned=False)
            return
        if skip_reads_written_m2m(resource, chunk) or any(work.awaits_pk for work in chunk):
            replay_rows(resource, chunk, kwargs, using, dataset, stop_at_failure=raise_errors)
            _recorded(recorder, chunk, planned=False)
            return
        hooks = any(finish_hooks(resource))
        if write and hooks and kwargs["using_transactions"]:
            planned = _write_then_finish(
                resource,
                chunk,
                plan,
                spec,
                kwargs,
                using,
                dataset,
                raise_errors,
                blanks,
                idle_work,
                write_how,
            )
            _recorded(recorder, chunk, planned)
            return
        finish = _Once(lambda: finish_rows(resource, chunk, kwargs, blanks))
        if write:
            # Finishing rows that calls no hook can run while the chunk's
            # last statement does (a replay redoes the rows anyway).
            # Not with post_save receivers, which run after the write and before stock's
            # results are taken (:func:`.save_signals.write_with_signals` decides).
            meanwhile = None if hooks or write_how == SAVE_PER_ROW else finish
            try:
                _write(resource, plan, spec, using, write_how, meanwhile, idle_work)
            except ChunkWriteError as exc:
                _log_write_stopped(write_how, exc)
                replay_rows(resource, chunk, kwargs, using, dataset, stop_at_failure=raise_errors)
                _recorded(recorder, chunk, planned=False)
                return
        finish()
        _recorded(recorder, chunk, planned=True)


def _recorder(
    resource: Any, plan: Any, write: bool, kwargs: dict[str, Any], using: str, dataset: Any
) -> ChunkRecorder | None:
    """A recorder of what the chunk writes, for a real import given ``on_chunk_written``."""
    callback = getattr(resource, "_on_chunk_written", None)
    if callback is None or not write or kwargs.get("dry_run"):
        return None
    return ChunkRecorder(resource, callback, plan, using, dataset.headers or ())


def _recorded(recorder: ChunkRecorder | None, chunk: Sequence[RowWork], planned: bool) -> None:
    if recorder is None:
        return
    if planned:
        recorder.planned()
    else:
        recorder.replayed(chunk)


def _write(
    resource: Any,
    plan: Any,
    spec: KeySpec | None,
    using: str,
    write_how: str,
    meanwhile: Callable[[], None] | None = None,
    idle_work: Callable[[], None] | None = None,
    savepoint: bool = True,
) -> None:
    """The chunk's write, the way ``write_how`` says (:mod:`.write_mode`).

    One savepoint covers it, its own or (``savepoint=False``) the caller's.
    """
    model = resource._meta.model
    if write_how == SAVE_PER_ROW:
        save_chunk(resource, plan, using, savepoint=savepoint)
    elif write_how == BULK_WITH_SIGNALS:

        def write(overlap: Callable[[], None] | None) -> None:
            write_chunk(model, plan, spec, using, overlap, idle_work, savepoint=False)

        write_with_signals(plan, using, write, meanwhile, savepoint=savepoint)
    else:
        write_chunk(model, plan, spec, using, meanwhile, idle_work, savepoint=savepoint)


_WRITE_NAMES = {
    SAVE_PER_ROW: "Saving with save() per row",
    BULK_WITH_SIGNALS: "Bulk write with save signals",
}


def _log_write_stopped(write_how: str, exc: ChunkWriteError) -> None:
    how = _WRITE_NAMES.get(write_how, "Bulk write")
    logger.info("%s stopped (%s); replaying the chunk row by row", how, exc)


def _write_then_finish(
    resource: Any,
    chunk: list[RowWork],
    plan: Any,
    spec: KeySpec | None,
    kwargs: dict[str, Any],
    using: str,
    dataset: Any,
    raise_errors: bool,
    blanks: BlankSnapshots,
    idle_work: Callable[[], None] | None,
    write_how: str,
) -> bool:
    """Write the chunk (as ``write_how`` says) and run its rows'
    post-save hooks in one savepoint.

    Stock runs each row in its own savepoint, so a hook the database refuses
    (``save_m2m`` adding a duplicate link, ...) fails that row and the import
    goes on. Here one savepoint covers the chunk (two statements per chunk,
    not per row); if a row's hooks break the transaction, the chunk is
    rolled back and replayed row by row the stock way. Where the chunk's
    many-to-many links are written set-based, their finishing is laid
    around the write (:mod:`.m2m_finishing`).
    """
    connection = connections[using]
    try:
        with transaction.atomic(using=using, savepoint=True):
            linked = linked_finish(resource, chunk, kwargs, blanks, connection, write_how)
            meanwhile = None if linked is None else linked.before_links
            _write(resource, plan, spec, using, write_how, meanwhile, idle_work, savepoint=False)
            if linked is None:
                finish_rows(resource, chunk, kwargs, blanks, connection)
            else:
                linked.finish()
    except ChunkWriteError as exc:
        _log_write_stopped(write_how, exc)
    except FinishBroken:
        logger.info("A row's post-save hooks broke the transaction; replaying the chunk row by row")
    else:
        return True
    replay_rows(resource, chunk, kwargs, using, dataset, stop_at_failure=raise_errors)
    return False


class _Once:
    """A call made at most once: wherever it happened first, later calls do nothing."""

    def __init__(self, function: Callable[[], None]) -> None:
        self.function: Callable[[], None] | None = function

    def __call__(self) -> None:
        function, self.function = self.function, None
        if function is not None:
            function()


def skip_reads_written_m2m(resource: Any, chunk: Sequence[RowWork]) -> bool:
    """Whether ``skip_row`` may compare m2m links an earlier row of the chunk writes.

    Stock's ``skip_row`` compares a row's m2m cells with the links of the
    record as stored at the row's turn (``original.tags.all()``), which an
    earlier row of the same key has just set through ``save_m2m``. Here the
    links are written once the chunk is, after every row is planned, so a
    chunk with such a row (a key repeated while rows may be skipped, with
    m2m columns in the file or an own ``save_m2m``) is replayed row by row
    the stock way. Other chunks, and files without m2m columns or
    skipping, never pay for this.
    """
    meta = resource._meta
    own_skip_row = overrides(resource, "skip_row")
    if not ((meta.skip_unchanged and not meta.skip_diff) or own_skip_row):
        return False
    if not any(work.follows for work in chunk):
        return False
    if overrides(resource, "save_m2m"):
        return True
    # Stock's save_m2m and skip_row leave an m2m column missing from the file alone.
    columns = chunk[0].row.keys()
    return any(
        isinstance(field.widget, ManyToManyWidget) and field.column_name in columns
        for field in resource.get_import_fields()
    )


def replay_rows(
    resource: Any,
    chunk: Sequence[RowWork],
    kwargs: dict[str, Any],
    using: str,
    dataset: Any,
    stop_at_failure: bool,
) -> None:
    """Import a chunk the stock way, one savepoint per row.

    With ``stop_at_failure`` (``raise_errors``), rows after the first
    failing one are left untouched, as stock never reaches them.
    """
    loader = ModelInstanceLoader(resource, dataset)
    using_transactions = kwargs["using_transactions"]
    meta = resource._meta
    declared_store_instance = meta.store_instance
    meta.store_instance = resource._store_instance
    try:
        for work in chunk:
            with atomic_if_using_transaction(using_transactions, using=using):
                hook_kwargs = row_kwargs(kwargs, work)
                work.result = Resource.import_row(resource, work.row, loader, **hook_kwargs)
            if stop_at_failure and failed(work):
                return
    finally:
        # Stock's import_row would leave Meta.store_instance set for good.
        meta.store_instance = declared_store_instance


def record_rows(
    resource: Any,
    result: Result,
    chunk: Sequence[RowWork],
    raise_errors: bool,
    collect_failed_rows: bool,
) -> None:
    """Add the chunk's rows to the result exactly as stock's loop does."""
    report_skipped = resource._meta.report_skipped
    for work in chunk:
        row_result = work.result
        result.increment_row_result_total(row_result)
        if row_result.errors:
            result.append_error_row(work.number, work.row, row_result.errors)
            if collect_failed_rows:
                result.append_failed_row(work.row, row_result.errors[0])
            if raise_errors:
                raise exceptions.ImportError(
                    row_result.errors[-1].error, number=work.number, row=work.row
                )
        elif row_result.validation_error:
            result.append_invalid_row(work.number, work.row, row_result.validation_error)
            if collect_failed_rows:
                result.append_failed_row(work.row, row_result.validation_error)
            if raise_errors:
                raise exceptions.ImportError(
                    row_result.validation_error, number=work.number, row=work.row
                )
        if row_result.import_type != RowResult.IMPORT_TYPE_SKIP or report_skipped:
            result.append_row_result(row_result)
