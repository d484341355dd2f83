"""The dry-run preview: totals, the first changes and the first errors of a ``Result``.

Stock DIE renders every row's HTML diff, which makes the page grow with the
file (1.7 MB for 3,000 rows). This module walks the row results once, keeps
only ``PREVIEW_ROWS`` changed rows and ``PREVIEW_ERRORS`` errors, and streams
one CSV line per row to a file for download (a row's errors are named by
:mod:`.row_errors`). It never touches ``row_result.diff`` (computed lazily by
the engine), and renders field values only for the rows it shows.

Row numbers follow DIE: 1 is the first data row under the header. They assume
the resource reports skipped rows (``Meta.report_skipped``, True by default),
as DIE's own ``Result.row_errors()`` does.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TextIO

from django.core.exceptions import FieldDoesNotExist
from django.utils.encoding import force_str
from import_export.results import Result, RowResult

from ..engine.results import FailedRow
from .row_errors import ErrorNamer, PreviewError, describe
from .spreadsheet_safe import safe_writer

CHANGE_TYPES = (
    RowResult.IMPORT_TYPE_NEW,
    RowResult.IMPORT_TYPE_UPDATE,
    RowResult.IMPORT_TYPE_DELETE,
)
CSV_HEADER = ("row", "outcome", "changed_columns", "error")


@dataclasses.dataclass(frozen=True)
class ChangedCell:
    column: str
    old: str
    new: str


@dataclasses.dataclass(frozen=True)
class PreviewRow:
    number: int
    import_type: str
    cells: tuple[ChangedCell, ...]


@dataclasses.dataclass(frozen=True)
class Preview:
    """What the preview page shows; small whatever the size of the file."""

    totals: dict[str, int]
    total_rows: int
    rows: tuple[PreviewRow, ...]
    hidden_rows: int
    errors: tuple[PreviewError, ...]
    hidden_errors: int
    base_errors: tuple[str, ...]

    @property
    def changed_rows(self) -> int:
        return len(self.rows) + self.hidden_rows

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
        return cls(
            totals=dict(data["totals"]),
            total_rows=data["total_rows"],
            rows=tuple(
                PreviewRow(
                    number=row["number"],
                    import_type=row["import_type"],
                    cells=tuple(ChangedCell(**cell) for cell in row["cells"]),
                )
                for row in data["rows"]
            ),
            hidden_rows=data["hidden_rows"],
            errors=tuple(PreviewError(**error) for error in data["errors"]),
            hidden_errors=data["hidden_errors"],
            base_errors=tuple(data["base_errors"]),
        )


@dataclasses.dataclass(frozen=True)
class _Column:
    """One import field: how to tell whether it changed, cheaply, for every row."""

    field: Any
    name: str
    attname: str | None  # set when the field maps straight onto a concrete model field


def _columns(resource: Any) -> list[_Column]:
    model = resource._meta.model
    columns = []
    for field in resource.get_import_fields():
        attname = None
        attribute = getattr(field, "attribute", None)
        if attribute and "__" not in attribute:
            try:
                attname = model._meta.get_field(attribute).attname
            except FieldDoesNotExist:
                attname = None
        columns.append(_Column(field, force_str(field.column_name), attname))
    return columns


def _changed(column: _Column, original: Any, instance: Any) -> bool:
    if column.attname is not None:
        # A dict lookup per column: this runs for every updated row of the file.
        return original.__dict__.get(column.attname) != instance.__dict__.get(column.attname)
    try:
        return column.field.get_value(original) != column.field.get_value(instance)
    except Exception:
        return False  # a computed attribute that fails on a blank instance: show nothing


def _changed_columns(row: RowResult, columns: list[_Column]) -> list[_Column]:
    instance, original = row.instance, row.original
    if instance is None:
        return []
    if row.import_type == RowResult.IMPORT_TYPE_NEW or original is None:
        return columns
    return [column for column in columns if _changed(column, original, instance)]


def _export(column: _Column, instance: Any) -> str:
    if instance is None:
        return ""
    try:
        return force_str(column.field.export(instance))
    except Exception:
        return ""


def _shown_row(number: int, row: RowResult, changed: list[_Column]) -> PreviewRow:
    new_instance = row.import_type != RowResult.IMPORT_TYPE_DELETE
    cells = tuple(
        ChangedCell(
            column=column.name,
            old=""
            if row.import_type == RowResult.IMPORT_TYPE_NEW
            else _export(column, row.original or row.instance),
            new=_export(column, row.instance) if new_instance else "",
        )
        for column in changed
    )
    return PreviewRow(number=number, import_type=row.import_type, cells=cells)


class PreviewBuilder:
    """The preview built row by row, as the import records its rows.

    :meth:`add` takes each row result in ``result.rows`` order and keeps only
    what the page shows; :meth:`finish` adds the totals. Used after the import
    by :func:`build_preview`, or during it as the ``row_consumer`` of
    ``import_data`` (it is callable as one), so that the rows need not be kept.
    ``headers`` are the result's ``diff_headers``.
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
        #: Every column's name, for a new row; (name, attname) pairs when every column
        #: maps onto a model field, so that an update's changed columns are two dict
        #: lookups each (this runs for every row of the file).
        self._all_names = ";".join(column.name for column in self._columns)
        self._attnames = (
            [(column.name, column.attname) for column in self._columns]
            if all(column.attname is not None for column in self._columns)
            else None
        )
        self._namer = ErrorNamer(resource, headers)
        self._writer = safe_writer(csv_file) if csv_file is not None else None
        if self._writer is not None:
            self._writer.writerow(CSV_HEADER)
        self._number = 0
        self._shown: list[PreviewRow] = []
        self._errors: list[PreviewError] = []
        self._hidden_rows = self._hidden_errors = 0

    def __call__(self, row: RowResult, failed: FailedRow | None) -> None:
        self.add(row, failed.values if failed is not None else ())

    def add(self, row: RowResult, values: tuple[Any, ...] = ()) -> None:
        """The next row's result; ``values``: an invalid row's cells in ``diff_headers`` order."""
        self._number += 1
        number = self._number
        row_errors: list[PreviewError] = []
        changed: list[_Column] = []
        if row.import_type == RowResult.IMPORT_TYPE_INVALID:
            row_errors = self._namer.from_invalid(row, values)
        elif row.errors:
            row_errors = self._namer.from_errors(row)
        elif row.import_type in CHANGE_TYPES:
            if len(self._shown) < self.max_rows:
                changed = _changed_columns(row, self._columns)
                self._shown.append(_shown_row(number, row, changed))
            else:
                self._hidden_rows += 1
                if self._writer is not None:
                    self._writer.writerow((number, row.import_type, self._changed_names(row), ""))
                    return
                changed = []
        for error in row_errors:
            if len(self._errors) < self.max_errors:
                self._errors.append(dataclasses.replace(error, number=number))
            else:
                self._hidden_errors += 1
        if self._writer is not None:
            self._writer.writerow(
                (
                    number,
                    row.import_type,
                    ";".join(column.name for column in changed),
                    " | ".join(describe(error) for error in row_errors),
                )
            )

    def _changed_names(self, row: RowResult) -> str:
        """The report's ``changed_columns`` of a changed row that is not shown."""
        instance, original = row.instance, row.original
        if instance is None:
            return ""
        if row.import_type == RowResult.IMPORT_TYPE_NEW or original is None:
            return self._all_names
        if self._attnames is None:
            return ";".join(column.name for column in _changed_columns(row, self._columns))
        old, new = original.__dict__, instance.__dict__
        return ";".join(
            [name for name, attname in self._attnames if old.get(attname) != new.get(attname)]
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
