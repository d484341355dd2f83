"""calamine's cell values in the shape the previous readers gave them.

DIE's widgets (and the user's expectations) were built on openpyxl's values
for XLSX and tablib's for XLS and ODS:

- Numbers: calamine returns ``12.0`` for a cell stored as ``12``. openpyxl
  returned an ``int`` for every number written without a decimal point or an
  exponent, and both Excel and openpyxl write integral values that way below
  10**16 (Python's ``repr`` switches to an exponent there), so an integral
  float below 10**16 becomes an ``int``. ``str()`` of the value, which a text
  column stores, is then ``"12"`` and not ``"12.0"``.
- Dates: calamine returns a ``date`` for a date cell at midnight; openpyxl
  returned a ``datetime``, so XLSX and XLS dates are ``datetime``. ODS keeps
  the ``date``, as tablib's ODS reader gave it. Times and durations stay
  ``time`` and ``timedelta``; the 1904 date system is calamine's to apply.
- Empty cells, and formulas without a cached value, are ``None`` (calamine
  says ``""``), as openpyxl gave them.
- Error cells (``#N/A``, ``#DIV/0!``): calamine reports them as empty, which
  would let a broken lookup import as a blank. For XLSX and XLSM their text is
  read back from the sheet's XML, as openpyxl gave it, so that the widget
  refuses it as before.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
from collections.abc import Iterator
from typing import Any

__all__ = [
    "SpreadsheetError",
    "calamine_errors",
    "convert",
    "from_a1",
    "has_empty_cell",
    "restore_error_cells",
]

_INTEGRAL_LIMIT = 1e16
_MIDNIGHT = datetime.time()


class SpreadsheetError(ValueError):
    """A workbook that cannot be read; the message is translated and meant for the uploader."""


@contextlib.contextmanager
def calamine_errors(message: str) -> Iterator[None]:
    """calamine's failures as :class:`SpreadsheetError` with ``message``."""
    try:
        yield
    except Exception as exc:  # calamine raises its parsers' errors, zip, XML, OLE ...
        raise SpreadsheetError(message) from exc
    except BaseException as exc:
        # A Rust panic surfaces as pyo3's PanicException, a BaseException.
        if type(exc).__name__ == "PanicException":
            raise SpreadsheetError(message) from exc
        raise


def from_a1(rows: list[list[Any]], leading_columns: int) -> list[list[Any]]:
    """Rows from column A: ``iter_rows`` gives the empty rows above the data, not the columns."""
    if leading_columns:
        blanks = [""] * leading_columns
        for row in rows:
            row[:0] = blanks
    return rows


def has_empty_cell(rows: list[list[Any]]) -> bool:
    """Whether a cell of ``rows`` is empty: where none is, no error cell hides."""
    return any(map(list.__contains__, rows, itertools.repeat(None)))


def restore_error_cells(
    rows: list[list[Any]], first_row: int, errors: dict[int, list[tuple[int, str]]]
) -> None:
    """Give back their text to the error cells calamine read as empty.

    ``rows`` are the sheet's rows from ``first_row`` (from 0); ``errors`` maps
    a row's number to its error cells' ``(column, text)``.
    """
    for offset, row in enumerate(rows):
        for column, text in errors.get(first_row + offset, ()):
            if column < len(row) and row[column] is None:
                row[column] = text


def convert(rows: list[list[Any]], *, date_as_datetime: bool) -> list[list[Any]]:
    """Each cell as the previous readers gave it (see the module's docstring).

    Written as one comprehension with the common types tested inline: a call
    per cell made this a third of the read time of a 100,000-row sheet.
    """
    limit = _INTEGRAL_LIMIT
    date_type = datetime.date if date_as_datetime else None
    combine = datetime.datetime.combine
    midnight = _MIDNIGHT
    return [
        [
            (value or None)
            if (kind := type(value)) is str
            else (int(value) if value.is_integer() and -limit < value < limit else value)
            if kind is float
            else combine(value, midnight)
            if kind is date_type
            else value
            for value in row
        ]
        for row in rows
    ]
