"""One import's run through its file: every chunk in turn, the next read while the database writes.

The resource's ``import_data_inner`` (:mod:`admin_bulk_upsert.resources`) does
what stock does around the rows (``before_import``, the header checks,
``after_import``) and hands the rows to :func:`import_chunks`, which reads the
dataset ``batch_size`` rows at a time, imports each chunk (:mod:`.chunks`),
adds its rows to the result and lets them go, so that memory holds one chunk
(and the one read ahead) whatever the size of the file.

While a chunk's write runs on the database, the next chunk is read and its
cells cleaned ahead of time (:class:`ReadAhead`): work the import would do
anyway, done while it would otherwise wait.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from import_export.results import Result

from ..gc_pause import paused_collection
from .chunks import import_chunk, record_rows
from .finishing import BlankSnapshots
from .keys import KeySpec
from .lost_connection import raise_if_lost
from .planning import RowWork
from .widget_cleaning import fast_widget_cleaning


def import_chunks(
    resource: Any,
    dataset: Any,
    result: Result,
    spec: KeySpec | None,
    kwargs: dict[str, Any],
    *,
    write: bool,
    using: str,
    raise_errors: bool,
    collect_failed_rows: bool,
    write_how: str,
    progress: Callable[[int], None],
) -> None:
    """Import and record every row of ``dataset``, a chunk at a time.

    ``write``: whether chunks are written (a dry run inside a transaction
    writes too, and is rolled back); ``write_how``: in bulk, in bulk with the
    save signals, or through ``save()`` one by one (:mod:`.write_mode`);
    ``progress(done)`` is called with the rows done after each chunk.
    """
    done = 0
    import_fields = resource.get_import_fields()
    with (
        fast_widget_cleaning(
            [field.widget for field in import_fields],
            [(field.column_name, field.widget) for field in import_fields],
        ) as clean_early,
        fixed_import_fields(resource, import_fields),
        paused_collection() as collect_garbage,
    ):
        blanks = BlankSnapshots()
        chunks = ReadAhead(
            read_chunks(resource, dataset),
            prepare=lambda chunk: clean_early([work.row for work in chunk]),
        )
        for chunk in chunks:
            import_chunk(
                resource,
                chunk,
                spec,
                kwargs,
                write,
                using,
                dataset,
                raise_errors,
                blanks,
                idle_work=chunks.read_next,
                write_how=write_how,
            )
            raise_if_lost([error for work in chunk for error in work.result.errors])
            record_rows(resource, result, chunk, raise_errors, collect_failed_rows)
            done += len(chunk)
            # The rows' scaffolding goes now, by reference counting, rather
            # than being walked by the collection below.
            chunk.clear()
            collect_garbage()
            progress(done)


@contextmanager
def fixed_import_fields(resource: Any, import_fields: list[Any]) -> Iterator[None]:
    """Answer ``resource.get_import_fields()`` from one computation during the import.

    DIE recomputes the ordered field list several times per row
    (``import_instance``, ``skip_row``, the diff); it cannot change while
    rows are imported.
    """
    resource.get_import_fields = lambda: import_fields
    try:
        yield
    finally:
        del resource.get_import_fields


def read_chunks(resource: Any, dataset: Any) -> Iterable[list[RowWork]]:
    """The dataset's rows in chunks of ``batch_size``, numbered from 1 like stock's."""
    headers = dataset.headers
    rows = iter(dataset)
    size = resource.get_batch_size()
    row_result_class = resource.get_row_result_class()
    store_values = resource._meta.store_row_values
    number = 0
    while True:
        batch = list(itertools.islice(rows, size))
        if not batch:
            return
        chunk = []
        for values in batch:
            number += 1
            row = dict(zip(headers, values, strict=False))
            result = row_result_class()
            if store_values:
                result.row_values = row
            chunk.append(RowWork(number=number, row=row, result=result))
        yield chunk


class ReadAhead:
    """The chunks of :func:`read_chunks`, of which the next can be read early.

    :meth:`read_next` is work for the time the database spends on the
    previous chunk's write; an error reading is raised when the chunk is
    asked for, as it would have been. A chunk read early is also given to
    ``prepare`` (cleaning its cells ahead of time), which must not raise.
    """

    def __init__(
        self,
        chunks: Iterable[list[RowWork]],
        prepare: Callable[[list[RowWork]], None] | None = None,
    ) -> None:
        self._chunks = iter(chunks)
        self._prepare = prepare
        self._next: list[RowWork] | BaseException | None = None

    def __iter__(self) -> ReadAhead:
        return self

    def __next__(self) -> list[RowWork]:
        ready, self._next = self._next, None
        if ready is None:
            return next(self._chunks)
        if isinstance(ready, BaseException):
            raise ready
        return ready

    def read_next(self) -> None:
        if self._next is not None:
            return
        try:
            chunk = next(self._chunks)
        except BaseException as exc:  # StopIteration included: raised by __next__
            self._next = exc
            return
        self._next = chunk
        if self._prepare is not None:
            self._prepare(chunk)
