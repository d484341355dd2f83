"""The report of failed rows: one CSV line per problem, naming row, column and value.

DIE's own ``failed_dataset`` repeats every row with one error column; a person
fixing a 100k-row file needs to know *which cell* is wrong, so each validation
message becomes its own line. Row numbers are DIE's: 1 is the first row after
the header (so line ``row + 1`` in a spreadsheet or in a CSV without line
breaks inside quoted cells).

Each problem is named and worded by :class:`~.row_errors.ErrorNamer`, as the
admin and the job page name it, so one row reads the same everywhere. DIE
records an exception in a row (an unknown foreign key, a bad date in a key
column) without saying which column raised it; for the first
:data:`MAX_BLAMED_ROWS` such rows the column is found by cleaning the row's
cells again (which costs time on a file full of errors, hence the bound).
The file is written with :func:`~.spreadsheet_safe.safe_writer`: its cells
come from the upload, and it is meant to be opened in a spreadsheet.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tablib
from django.utils.translation import gettext as _

from .row_errors import ErrorNamer, PreviewError
from .spreadsheet_safe import safe_writer

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
        writer = safe_writer(stream)
        writer.writerow([_("row"), _("column"), _("value"), _("message")])
        for failure in failures:
            writer.writerow([failure.row, failure.column, failure.value, failure.message])


class FailureReport:
    """The report written as the import goes: a ``row_consumer`` for ``import_data``.

    Gives, line for line, what :func:`collect_failures` and :func:`write_report`
    give from a whole ``Result``, without the import keeping its rows: each
    failed row's problems are written when its chunk is recorded. The file is
    created at the first failure only; ``rows`` counts the failed rows,
    ``problems`` their lines, and ``first`` keeps the first ``keep`` of those
    for the command to print.
    """

    def __init__(self, path: Path, resource: Any, headers: list[str], *, keep: int = 10) -> None:
        self.path = path
        self.keep = keep
        self.first: list[Failure] = []
        self.problems = 0
        self.resource = resource
        self.headers = list(headers)
        self.namer = ErrorNamer(resource, self.headers)
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
        self.problems += len(failures)
        self.first.extend(failures[: self.keep - len(self.first)])
        writer = self._writer or self._open()
        for failure in failures:
            writer.writerow([failure.row, failure.column, failure.value, failure.message])

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()

    def _open(self) -> Any:
        self._stream = self.path.open("w", encoding="utf-8-sig", newline="")
        self._writer = safe_writer(self._stream)
        self._writer.writerow([_("row"), _("column"), _("value"), _("message")])
        return self._writer

    def _invalid(self, row_result: Any, failed: Any) -> Iterator[Failure]:
        cells = dict(failed.row)
        for error in self.namer.invalid_cells(failed.number, row_result.validation_error, cells):
            yield _failure(error)

    def _errors(self, row_result: Any, failed: Any) -> Iterator[Failure]:
        blame = self._blamed_rows < MAX_BLAMED_ROWS
        self._blamed_rows += 1
        cells = dict(failed.row)
        for error in row_result.errors:
            exc = getattr(error, "error", error)
            yield _failure(self.namer.error_cell(failed.number, exc, cells, blame=blame))


def _failure(error: PreviewError) -> Failure:
    return Failure(error.number or 0, error.column, error.value, error.message)


def _invalid_cells(result: Any, dataset: tablib.Dataset, resource: Any) -> Iterator[Failure]:
    headers = list(dataset.headers or [])
    namer = ErrorNamer(resource, headers)
    for invalid in result.invalid_rows:
        cells = _row(dataset, headers, invalid.number)
        for error in namer.invalid_cells(invalid.number, invalid.error, cells):
            yield _failure(error)


def _row_errors(result: Any, dataset: tablib.Dataset, resource: Any) -> Iterator[Failure]:
    headers = list(dataset.headers or [])
    namer = ErrorNamer(resource, headers)
    for index, error_row in enumerate(result.error_rows):
        cells = _row(dataset, headers, error_row.number)
        for error in error_row.errors:
            exc = getattr(error, "error", error)
            blame = index < MAX_BLAMED_ROWS
            yield _failure(namer.error_cell(error_row.number, exc, cells, blame=blame))


def _row(dataset: tablib.Dataset, headers: list[str], number: int) -> dict[str, Any]:
    """The file's row ``number`` (1 is the first under the header) by column, or ``{}``."""
    if not 1 <= number <= dataset.height:
        return {}
    return dict(zip(headers, dataset[number - 1], strict=True))
