"""CSV cells that a spreadsheet shows as text and never runs as a formula.

Every report the package writes (the preview and import reports, the revert
report and its preview, ``bulk_import``'s failed rows) echoes cells of the
uploaded file, and is written to be opened in Excel or LibreOffice. A cell such
as ``=HYPERLINK("http://…", "Click")`` would be run as a formula when the
report is opened (CSV injection, CWE-1236). As OWASP advises, a cell that
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written
with a leading apostrophe, which spreadsheets take as "this is text".

A cell that is a plain number (``-12.50``, ``+3``, ``-1e3``) is left alone: a
spreadsheet reads it as a number, never as a formula, and a negative price must
still add up in the report. django-import-export's
``IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT`` only strips a leading ``=``, which
leaves ``+``, ``-`` and ``@`` formulas in place and changes the value shown.

Every writer goes through :func:`safe_writer`, so no report can forget it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

__all__ = ["escape_cell", "safe_writer"]

#: What a spreadsheet may take as the start of a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# A number as a spreadsheet reads one: sign, digits, one decimal separator, exponent.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?")


def escape_cell(value: Any) -> Any:
    """``value`` as a report cell: text that could start a formula gets a leading ``'``.

    Numbers (Python's, or text that is exactly a number) pass unchanged.
    """
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)):  # bool is an int: "True" starts with no sign
        return value
    text = str(value)
    if text.startswith(FORMULA_STARTS) and _NUMBER.fullmatch(text) is None:
        return "'" + text
    return text


class SafeWriter:
    """A :func:`csv.writer` whose rows pass through :func:`escape_cell`."""

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        self._writer = csv.writer(stream, **kwargs)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([escape_cell(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_writer(stream: Any, **kwargs: Any) -> SafeWriter:
    """A CSV writer for a report a person will open in a spreadsheet."""
    return SafeWriter(stream, **kwargs)
