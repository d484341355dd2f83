"""The dry-run preview: totals, the first changes and the first errors of a ``Result``.

Stock DIE renders every row's HTML diff, which makes the page grow with the
file (1.7 MB for 3,000 rows). This module walks the row results once, keeps
only ``PREVIEW_ROWS`` changed rows and ``PREVIEW_ERRORS`` errors, and streams
one CSV line per row to a file for download (a row's errors are named by
:mod:`.row_errors`). It never renders ``row_result.diff`` (computed lazily by
the engine): it reads the diff's values only for columns that are not a
concrete model field, such as many-to-many links, and renders field values
only for the rows it shows.

Updates that change no value are counted apart (``identical_updates``) and
not listed, so that the rows shown first are the ones that change something
or fail; stock's totals are kept as they are.

Row numbers follow DIE: 1 is the first data row under the header. They assume
the resource reports skipped rows (``Meta.report_skipped``, True by default),
as DIE's own ``Result.row_errors()`` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TextIO

from django.core.exceptions import FieldDoesNotExist
from django.utils.encoding import force_str
from import_export.results import Result, RowResult

from ..engine.results import FailedRow, LazyDiffRowResult
from .row_errors import ErrorNamer, PreviewError, describe
from .spreadsheet_safe import safe_writer

CHANGE_TYPES = (
    RowResult.IMPORT_TYPE_NEW,
    RowResult.IMPORT_TYPE_UPDATE,
    RowResult.IMPORT_TYPE_DELETE,
)
FAILED_TYPES = (RowResult.IMPORT_TYPE_INVALID, RowResult.IMPORT_TYPE_ERROR)
CSV_HEADER = ("row", "outcome", "changed_columns", "error")


@dataclasses.dataclass(frozen=True)
class PreviewCell:
    """One cell of a listed row: ``old`` is empty for a new row, ``new`` for a deleted one.

    A failed row's cells hold the file's values in ``new``; ``error`` marks
    the cells its errors name.
    """

    column: str
    old: str
    new: str
    changed: bool = True
    error: bool = False


#: The name this class had when a row listed its changed cells only.
ChangedCell = PreviewCell


@dataclasses.dataclass(frozen=True)
class PreviewRow:
    number: int
    import_type: str
    #: One cell per column of :attr:`Preview.columns`, in that order.
    cells: tuple[PreviewCell, ...]

    @property
    def changed_cells(self) -> tuple[PreviewCell, ...]:
        return tuple(cell for cell in self.cells if cell.changed)


@dataclasses.dataclass(frozen=True)
class Preview:
    """What the preview page shows; small whatever the size of the file.

    ``totals`` are stock's (``Result.totals``): an "update" is a row that
    matched a stored record, whether or not it changes a value. Of those,
    ``identical_updates`` change nothing (many-to-many links included); they
    are counted but not listed in ``rows``, which holds the first rows that
    change something or fail.
    """

    totals: dict[str, int]
    total_rows: int
    rows: tuple[PreviewRow, ...]
    hidden_rows: int
    errors: tuple[PreviewError, ...]
    hidden_errors: int
    base_errors: tuple[str, ...]
    #: The import's columns, in the file's order of fields: the table's header.
    columns: tuple[str, ...] = ()
    identical_updates: int = 0

    @property
    def changed_rows(self) -> int:
        """The rows the table would list in full: new, changing, deleted and failed ones."""
        return len(self.rows) + self.hidden_rows

    @property
    def changing_updates(self) -> int:
        return self.totals.get(RowResult.IMPORT_TYPE_UPDATE, 0) - self.identical_updates

    @property
    def error_count(self) -> int:
        return len(self.errors) + self.hidden_errors

    def has_errors(self) -> bool:
        """Mirrors ``Result.has_errors()`` so DIE's template blocks can test it."""
        return bool(self.base_errors) or self.totals.get(RowResult.IMPORT_TYPE_ERROR, 0) > 0

    def has_validation_errors(self) -> bool:
        return self.totals.get(RowResult.IMPORT_TYPE_INVALID, 0) > 0

    @property
    def importable(self) -> bool:
        return not (self.has_errors() or self.has_validation_errors())

    def as_json(self) -> dict[str, Any]:
        """Plain data for ``ImportJob.summary``: the job page renders it without the import."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Preview:
        """The stored preview; one stored before rows listed every column gets its table too."""
        rows = [
            PreviewRow(
                number=row["number"],
                import_type=row["import_type"],
                cells=tuple(PreviewCell(**cell) for cell in row["cells"]),
            )
            for row in data["rows"]
        ]
        columns = tuple(data.get("columns") or ())
        if not columns:
            names = {cell.column: None for row in rows for cell in row.cells}
            columns = tuple(names)
            rows = [_padded(row, columns) for row in rows]
        return cls(
            totals=dict(data["totals"]),
            total_rows=data["total_rows"],
            rows=tuple(rows),
            hidden_rows=data["hidden_rows"],
            errors=tuple(PreviewError(**error) for error in data["errors"]),
            hidden_errors=data["hidden_errors"],
            base_errors=tuple(data["base_errors"]),
            columns=columns,
            identical_updates=data.get("identical_updates", 0),
        )


def _padded(row: PreviewRow, columns: tuple[str, ...]) -> PreviewRow:
    by_column = {cell.column: cell for cell in row.cells}
    cells = tuple(by_column.get(name, PreviewCell(name, "", "", changed=False)) for name in columns)
    return dataclasses.replace(row, cells=cells)


@dataclasses.dataclass(frozen=True)
class _Column:
    """One import field: how to tell whether it changed, cheaply, for every row."""

    field: Any
    name: str
    #: Set when the field maps straight onto a concrete column of the model (not a
    #: many-to-many field, whose links are not in the instance's ``__dict__``).
    attname: str | None


def _columns(resource: Any) -> list[_Column]:
    model = resource._meta.model
    columns = []
    for field in resource.get_import_fields():
        attname = None
        attribute = getattr(field, "attribute", None)
        if attribute and "__" not in attribute:
            try:
                model_field = model._meta.get_field(attribute)
            except FieldDoesNotExist:
                model_field = None
            if model_field is not None and model_field.concrete and not model_field.many_to_many:
                attname = model_field.attname
        columns.append(_Column(field, force_str(field.column_name), attname))
    return columns


def _changed(column: _Column, original: Any, instance: Any) -> bool:
    try:
        return bool(column.field.get_value(original) != column.field.get_value(instance))
    except Exception:
        return False  # a computed attribute that fails on a blank instance: show nothing


def _export(column: _Column, instance: Any) -> str:
    if instance is None:
        return ""
    try:
        return force_str(column.field.export(instance))
    except Exception:
        return ""


def _compared(row: RowResult, positions: list[int]) -> dict[int, tuple[str, str]]:
    """The engine's diff values of the columns at ``positions``, if the row kept its diff."""
    if not positions or not isinstance(row, LazyDiffRowResult):
        return {}
    values = row.compared_values(positions)
    if values is None:
        return {}
    return {
        i: (force_str(old), force_str(new)) for i, (old, new) in zip(positions, values, strict=True)
    }


class PreviewBuilder:
    """The preview built row by row, as the import records its rows.

    :meth:`add` takes each row result in ``result.rows`` order and keeps only
    what the page shows; :meth:`finish` adds the totals. Used after the import
    by :func:`build_preview`, or during it as the ``row_consumer`` of
    ``import_data`` (it is callable as one), so that the rows need not be kept.
    ``headers`` are the result's ``diff_headers``.

    An update's changed columns are found by comparing the stored record with
    the written instance, two dict lookups per concrete column (this runs for
    every row of the file); columns that are not a concrete model field
    (many-to-many links, computed attributes) are compared on the engine's
    diff values, read as the row was written, since after a dry run's
    rollback the links are gone.
    """

    def __init__(
        self,
        resource: Any,
        headers: list[str],
        *,
        max_rows: int,
        max_errors: int,
        csv_file: TextIO | None = None,
    ) -> None:
        self.max_rows = max_rows
        self.max_errors = max_errors
        self._columns = _columns(resource)
        self._headers = [force_str(header) for header in headers]
        self._all_names = ";".join(column.name for column in self._columns)
        self._direct = [
            (i, column.attname) for i, column in enumerate(self._columns) if column.attname
        ]
        self._other = [i for i, column in enumerate(self._columns) if column.attname is None]
        self._namer = ErrorNamer(resource, headers)
        self._writer = safe_writer(csv_file) if csv_file is not None else None
        if self._writer is not None:
            self._writer.writerow(CSV_HEADER)
        self._number = 0
        self._shown: list[PreviewRow] = []
        self._errors: list[PreviewError] = []
        self._hidden_rows = self._hidden_errors = self._identical = 0

    def __call__(self, row: RowResult, failed: FailedRow | None) -> None:
        if failed is None:
            self.add(row)
        else:
            self.add(row, failed.values, failed.row)

    def add(
        self, row: RowResult, values: tuple[Any, ...] = (), cells: Mapping[str, Any] | None = None
    ) -> None:
        """The next row's result.

        ``values``: an invalid row's cells in ``diff_headers`` order;
        ``cells``: a failed row's cells by column name (either shows what the
        file held).
        """
        self._number += 1
        number = self._number
        if row.import_type == RowResult.IMPORT_TYPE_INVALID or row.errors:
            self._add_failed(number, row, values, cells)
            return
        if row.import_type not in CHANGE_TYPES:
            self._write(number, row.import_type, "", "")
            return
        changed, compared = self._changes(row)
        if row.import_type == RowResult.IMPORT_TYPE_UPDATE and changed is not None and not changed:
            self._identical += 1
            self._write(number, row.import_type, "", "")
            return
        if len(self._shown) < self.max_rows:
            self._shown.append(self._listed(number, row, changed, compared))
        else:
            self._hidden_rows += 1
        if changed is None:
            names = self._all_names if row.instance is not None else ""
        else:
            names = ";".join(self._columns[i].name for i in changed)
        self._write(number, row.import_type, names, "")

    def _write(self, number: int, outcome: str, changed: str, error: str) -> None:
        if self._writer is not None:
            self._writer.writerow((number, outcome, changed, error))

    def _changes(self, row: RowResult) -> tuple[list[int] | None, dict[int, tuple[str, str]]]:
        """The positions of the columns ``row`` changes (None: all, or not known) and the
        diff values read for them."""
        instance, original = row.instance, row.original
        if instance is None:
            return None, {}  # not retained: counted, not compared
        if row.import_type != RowResult.IMPORT_TYPE_UPDATE or original is None:
            return None, {}
        old, new = original.__dict__, instance.__dict__
        changed = [i for i, attname in self._direct if old.get(attname) != new.get(attname)]
        if not self._other:
            return changed, {}
        compared = _compared(row, self._other)
        for i in self._other:
            if i in compared:
                if compared[i][0] != compared[i][1]:
                    changed.append(i)
            elif _changed(self._columns[i], original, instance):
                changed.append(i)
        changed.sort()
        return changed, compared

    def _listed(
        self,
        number: int,
        row: RowResult,
        changed: list[int] | None,
        compared: dict[int, tuple[str, str]],
    ) -> PreviewRow:
        """A row the table lists, with every column's old and new value."""
        kind = row.import_type
        if row.instance is None:
            return PreviewRow(number, kind, ())
        if kind != RowResult.IMPORT_TYPE_DELETE and not compared:
            compared = _compared(row, self._other)
        changed_set = set(range(len(self._columns))) if changed is None else set(changed)
        cells = []
        for i, column in enumerate(self._columns):
            if i in compared:
                old, new = compared[i]
            else:
                old = (
                    ""
                    if kind == RowResult.IMPORT_TYPE_NEW
                    else _export(column, row.original or row.instance)
                )
                new = _export(column, row.instance) if kind != RowResult.IMPORT_TYPE_DELETE else ""
            if kind == RowResult.IMPORT_TYPE_NEW:
                old = ""
            cells.append(PreviewCell(column.name, old, new, changed=i in changed_set))
        return PreviewRow(number, kind, tuple(cells))

    def _add_failed(
        self,
        number: int,
        row: RowResult,
        values: tuple[Any, ...],
        cells: Mapping[str, Any] | None,
    ) -> None:
        if row.import_type == RowResult.IMPORT_TYPE_INVALID:
            row_errors = self._namer.from_invalid(row, values)
        else:
            row_errors = self._namer.from_errors(row)
        for error in row_errors:
            if len(self._errors) < self.max_errors:
                self._errors.append(dataclasses.replace(error, number=number))
            else:
                self._hidden_errors += 1
        if len(self._shown) < self.max_rows:
            self._shown.append(self._failed_row(number, row, values, cells, row_errors))
        else:
            self._hidden_rows += 1
        described = " | ".join(describe(error) for error in row_errors)
        self._write(number, row.import_type, "", described)

    def _failed_row(
        self,
        number: int,
        row: RowResult,
        values: tuple[Any, ...],
        cells: Mapping[str, Any] | None,
        row_errors: list[PreviewError],
    ) -> PreviewRow:
        """A failed row as the file held it, its cells at fault marked."""
        held: dict[str, Any] = dict(zip(self._headers, values, strict=False))
        if not held:
            held = dict(cells or {})
            if not held and row.errors:
                held = dict(getattr(row.errors[0], "row", None) or {})
        blamed = {error.column for error in row_errors}
        kind = row.import_type if row.import_type in FAILED_TYPES else RowResult.IMPORT_TYPE_ERROR
        return PreviewRow(
            number,
            kind,
            tuple(
                PreviewCell(
                    column.name,
                    "",
                    force_str(held.get(column.name, "") or ""),
                    changed=False,
                    error=column.name in blamed,
                )
                for column in self._columns
            ),
        )

    def finish(self, result: Result) -> Preview:
        """The preview, with the totals and the errors not tied to a row from ``result``."""
        base_errors = tuple(force_str(error.error) for error in result.base_errors)
        return Preview(
            totals=dict(result.totals),
            total_rows=result.total_rows,
            rows=tuple(self._shown),
            hidden_rows=self._hidden_rows,
            errors=tuple(self._errors),
            hidden_errors=self._hidden_errors,
            base_errors=base_errors,
            columns=tuple(column.name for column in self._columns),
            identical_updates=self._identical,
        )


def build_preview(
    result: Result,
    resource: Any,
    *,
    max_rows: int,
    max_errors: int,
    csv_file: TextIO | None = None,
) -> Preview:
    """Summarise ``result`` for the page, and write every row to ``csv_file`` if given.

    ``result`` should come from ``import_data(..., retain_instance_in_row_result=True)``
    so that changed columns can be named; without instances, rows are counted
    but their changes are not shown.
    """
    builder = PreviewBuilder(
        resource,
        list(result.diff_headers),
        max_rows=max_rows,
        max_errors=max_errors,
        csv_file=csv_file,
    )
    values_by_number = {invalid.number: invalid.values for invalid in result.invalid_rows}
    for number, row in enumerate(result.rows, 1):
        builder.add(row, values_by_number.get(number, ()))
    return builder.finish(result)
