"""Row results whose diff is rendered only when someone reads it, and a result that keeps none.

Stock django-import-export renders an HTML diff of every row as it imports
(diff-match-patch over every column): a large share of its per-row cost, paid
even when nobody looks. The admin preview shows a hundred rows; so here
``row_result.diff`` is computed on first access, from the instance as it was
before the row (a shallow copy) and the instance after the chunk was written,
which is what stock compares too.

:class:`StreamingResult` is for files too big to keep a result per row: it
counts, and hands each row's result to a consumer that keeps what the user
sees.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from import_export.results import Result, RowResult


class LazyDiffRowResult(RowResult):
    """A :class:`~import_export.results.RowResult` with a diff made on demand."""

    def __init__(self) -> None:
        self._diff: list[str] | None = None
        self._diff_source: Any = None
        super().__init__()

    def defer_diff(
        self, resource: Any, before: Any, after: Any, new: bool, links: Any = None
    ) -> None:
        """Remember what to compare; :attr:`diff` renders it when first read.

        ``links`` (:class:`.m2m_diff.DiffLinks`), if given, gives the two instances
        the many-to-many links the diff shows when it is rendered.
        """
        self._diff_source = (resource, before, after, new, links)

    def defer_diff_rendering(self, diff: Any) -> None:
        """Keep a diff whose values were read already; :attr:`diff` renders it when first read."""
        self._diff_source = diff

    def compared_values(self, positions: Sequence[int]) -> list[tuple[Any, Any]] | None:
        """The diff's values before and after of the import fields at ``positions``.

        These are what stock's diff compares (``Field.export`` of each side),
        read as the row was written: many-to-many links included, which a
        reader coming after a dry run's rollback could no longer see. A new
        row's values before are ``""``. None when the row keeps no diff
        (``skip_diff``, ``skip_html_diff``) or it was rendered already.
        """
        source = self._diff_source
        if source is None:
            return None
        if isinstance(source, tuple):
            resource, before, after, new, links = source
            if links is not None:
                before, after = links.apply(before, after)
            fields = resource.get_import_fields()
            return [
                ("" if new else fields[i].export(before), fields[i].export(after))
                for i in positions
            ]
        left, right = source.left, source.right
        return [("" if source.new else left[i], right[i]) for i in positions]

    @property  # type: ignore[override]
    def diff(self) -> list[str] | None:
        if self._diff is None and self._diff_source is not None:
            source, self._diff_source = self._diff_source, None
            if isinstance(source, tuple):
                resource, before, after, new, links = source
                if links is not None:
                    before, after = links.apply(before, after)
                diff = resource.get_diff_class()(resource, before, new)
                diff.compare_with(resource, after)
            else:
                diff = source
            self._diff = diff.as_html()
        return self._diff

    @diff.setter
    def diff(self, value: list[str] | None) -> None:
        self._diff = value
        self._diff_source = None


@dataclasses.dataclass(frozen=True)
class FailedRow:
    """What a consumer of a failed row's result may need besides the result itself."""

    #: DIE's row number: 1 is the first row under the header.
    number: int
    #: The row's cells by column name, as the import read them.
    row: Mapping[str, Any]
    #: For an invalid row, its cells in ``diff_headers`` order, as DIE's ``InvalidRow.values``.
    values: tuple[Any, ...] = ()


#: Called with each row result the import would have appended to ``Result.rows``, in order,
#: and, for a failed row, its :class:`FailedRow`.
RowConsumer = Callable[[RowResult, "FailedRow | None"], None]


class StreamingResult(Result):
    """A ``Result`` that hands each row's result to a consumer instead of keeping it.

    Stock's ``Result`` keeps every row result, invalid row and error row, so an
    import's memory grows with the file (a row result and its instance are a
    kilobyte or more). This one counts: ``totals``, ``total_rows``,
    ``base_errors``, :meth:`has_errors` and :meth:`has_validation_errors` are
    what stock's would say, so ``import_data`` rolls back in the same cases.
    The rows go to the consumer (the preview, the report file, the admin log)
    as they are recorded, and are then dropped.

    ``rows`` holds only the first row result of each import type, so that a
    hook asking whether any row was new (stock ``ModelResource.after_import``,
    which then resets the database's sequences) gets the right answer.
    ``invalid_rows`` and ``error_rows`` stay empty: their rows went to the
    consumer. A caller that needs every row result imports with the default
    ``Result`` (no ``row_consumer``).
    """

    def __init__(self, consumer: RowConsumer | None = None) -> None:
        super().__init__()
        self._consumer = consumer
        self._failed: FailedRow | None = None
        self._types_seen: set[str | None] = set()
        self.invalid_row_count = 0
        self.error_row_count = 0

    def append_row_result(self, row_result: RowResult) -> None:
        failed, self._failed = self._failed, None
        if row_result.import_type not in self._types_seen:
            self._types_seen.add(row_result.import_type)
            self.rows.append(row_result)
        if self._consumer is not None:
            self._consumer(row_result, failed)

    def append_invalid_row(self, number: int, row: Any, validation_error: Any) -> None:
        self.invalid_row_count += 1
        values = tuple(row.get(column, "---") for column in self.diff_headers)
        self._failed = FailedRow(number, row, values)

    def append_error_row(self, number: int, row: Any, errors: Any) -> None:
        self.error_row_count += 1
        self._failed = FailedRow(number, row)

    def row_errors(self) -> list[Any]:
        raise TypeError("A StreamingResult keeps no rows: its row errors went to its consumer.")

    def has_errors(self) -> bool:
        return bool(self.base_errors or self.error_row_count)

    def has_validation_errors(self) -> bool:
        return bool(self.invalid_row_count)


def each_of(*consumers: RowConsumer) -> RowConsumer:
    """One consumer that hands each row to every one of ``consumers``, in order."""

    def consume(row_result: RowResult, failed: FailedRow | None) -> None:
        for consumer in consumers:
            consumer(row_result, failed)

    return consume


@contextmanager
def streaming_result_class(resource: Any, consumer: RowConsumer | None) -> Iterator[None]:
    """With a row consumer, make ``resource.get_result_class()`` give a :class:`StreamingResult`.

    Stock's row loop (the row-by-row path) makes its result the same way,
    so it streams too.
    """
    if consumer is None:
        yield
        return
    resource.get_result_class = lambda: functools.partial(StreamingResult, consumer)
    try:
        yield
    finally:
        del resource.get_result_class
