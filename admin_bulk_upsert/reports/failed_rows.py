"""The report of failed rows: one CSV line per problem, naming row, column and value.

DIE's own ``failed_dataset`` repeats every row with one error column; a person
fixing a 100k-row file needs to know *which cell* is wrong, so each validation
message becomes its own line. Row numbers are DIE's: 1 is the first row after
the header (so line ``row + 1`` in a spreadsheet or in a CSV without line
breaks inside quoted cells).

DIE records an exception in a row (an unknown foreign key, a bad date in a key
column) without saying which column raised it. For the first
:data:`MAX_BLAMED_ROWS` such rows the report finds out with
:func:`admin_bulk_upsert.reports.error_columns.blame_column` (cleaning the row's cells again
costs time on a file full of errors, hence the bound).
"""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tablib
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.translation import gettext as _
from import_export.results import InvalidRow

from .error_columns import blame_column, column_names

#: Rows with an error whose column is looked for by cleaning the row again.
MAX_BLAMED_ROWS = 1000


@dataclasses.dataclass(frozen=True)
class Failure:
    """One problem in one row; ``column`` and ``value`` are empty when no one cell is to blame."""

    row: int
    column: str
    value: str
    message: str


def collect_failures(result: Any, dataset: tablib.Dataset, resource: Any) -> list[Failure]:
    """Every invalid cell and every row error of a DIE ``Result``, in row order."""
    failures = [*_invalid_cells(result, dataset, resource), *_row_errors(result, dataset, resource)]
    failures.sort(key=lambda failure: failure.row)
    return failures


def write_report(path: Path, failures: list[Failure]) -> None:
    """Write the report as CSV with a byte order mark, so that Excel reads it as UTF-8."""
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow([_("row"), _("column"), _("value"), _("message")])
        for failure in failures:
            writer.writerow([failure.row, failure.column, failure.value, failure.message])


class FailureReport:
    """The report written as the import goes: a ``row_consumer`` for ``import_data``.

    Gives, line for line, what :func:`collect_failures` and :func:`write_report`
    give from a whole ``Result``, without the import keeping its rows: each
    failed row's problems are written when its chunk is recorded. The file is
    created at the first failure only; ``rows`` counts the failed rows.
    """

    def __init__(self, path: Path, resource: Any, headers: list[str]) -> None:
        self.path = path
        self.resource = resource
        self.headers = list(headers)
        self.columns = column_names(resource)
        self.rows = 0
        self._blamed_rows = 0
        self._stream: Any = None
        self._writer: Any = None

    def __call__(self, row_result: Any, failed: Any) -> None:
        if failed is None:
            return
        if row_result.errors:
            failures = list(self._errors(row_result, failed))
        elif row_result.validation_error is not None:
            failures = list(self._invalid(row_result, failed))
        else:  # pragma: no cover - a failed row has one or the other
            return
        self.rows += 1
        writer = self._writer or self._open()
        for failure in failures:
            writer.writerow([failure.row, failure.column, failure.value, failure.message])

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def _open(self) -> Any:
        self._stream = self.path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._stream)
        self._writer.writerow([_("row"), _("column"), _("value"), _("message")])
        return self._writer

    def _invalid(self, row_result: Any, failed: Any) -> Iterator[Failure]:
        error_dict = InvalidRow(failed.number, row_result.validation_error, ()).error_dict
        for key, messages in error_dict.items():
            column = "" if key == NON_FIELD_ERRORS else self.columns.get(key, key)
            value = self._value(failed.row, column)
            for message in messages:
                yield Failure(failed.number, column, value, str(message))

    def _errors(self, row_result: Any, failed: Any) -> Iterator[Failure]:
        blame = self._blamed_rows < MAX_BLAMED_ROWS
        self._blamed_rows += 1
        for error in row_result.errors:
            exc = getattr(error, "error", error)
            column = ""
            if blame:
                column = blame_column(self.resource, dict(failed.row), exc) or ""
            yield Failure(failed.number, column, self._value(failed.row, column), str(exc))

    def _value(self, row: Any, column: str) -> str:
        if column not in self.headers:
            return ""
        value = row.get(column)
        return "" if value is None else str(value)


def _invalid_cells(result: Any, dataset: tablib.Dataset, resource: Any) -> Iterator[Failure]:
    columns = column_names(resource)
    headers = list(dataset.headers or [])
    for invalid in result.invalid_rows:
        for key, messages in invalid.error_dict.items():
            column = "" if key == NON_FIELD_ERRORS else columns.get(key, key)
            value = _cell(dataset, headers, invalid.number, column)
            for message in messages:
                yield Failure(invalid.number, column, value, str(message))


def _row_errors(result: Any, dataset: tablib.Dataset, resource: Any) -> Iterator[Failure]:
    headers = list(dataset.headers or [])
    for index, error_row in enumerate(result.error_rows):
        for error in error_row.errors:
            exc = getattr(error, "error", error)
            column = ""
            if index < MAX_BLAMED_ROWS:
                column = _blame(resource, dataset, headers, error_row.number, exc)
            value = _cell(dataset, headers, error_row.number, column)
            yield Failure(error_row.number, column, value, str(exc))


def _blame(
    resource: Any, dataset: tablib.Dataset, headers: list[str], number: int, exc: Any
) -> str:
    """The column whose value raises ``exc`` when cleaned again, or ``""``."""
    if not 1 <= number <= dataset.height:
        return ""
    row = dict(zip(headers, dataset[number - 1], strict=True))
    return blame_column(resource, row, exc) or ""


def _cell(dataset: tablib.Dataset, headers: list[str], number: int, column: str) -> str:
    if column not in headers or not 1 <= number <= dataset.height:
        return ""
    value = dataset[number - 1][headers.index(column)]
    return "" if value is None else str(value)
