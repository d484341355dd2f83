"""The report of failed rows: one CSV line per problem, naming row, column and value.

DIE's own ``failed_dataset`` repeats every row with one error column; a person
fixing a 100k-row file needs to know *which cell* is wrong, so each validation
message becomes its own line. Row numbers are DIE's: 1 is the first row after
the header (so line ``row + 1`` in a spreadsheet or in a CSV without line
breaks inside quoted cells).

DIE records an exception in a row (an unknown foreign key, a bad date in a key
column) without saying which column raised it. For the first
:data:`MAX_BLAMED_ROWS` such rows the report finds out with
:func:`admin_bulk_upsert.blame.blame_column` (cleaning the row's cells again
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

from ..blame import blame_column, column_names

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
