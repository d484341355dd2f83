"""A file's header row, read without its data rows: the check of a background upload.

A background import must answer the upload in well under a second, whatever
the size of the file, so the upload form cannot read every row as the
in-request preview does (:func:`.reading.read_dataset`). It reads instead
what it needs to refuse a file at once: the format, the text encoding of the
first lines, the header (blank or repeated names, the key columns) and the
presence of one data row. Anything found later in the file (a row wider than
the header, bytes that are not UTF-8 on line 80,000) is the worker's to report
on the job page, with the same message the full read gives.

CSV and TSV are decoded from their first bytes only and XLSX parses its first
window of rows; other formats are read whole (:func:`.reading.read_dataset`).
"""

from __future__ import annotations

import codecs
import csv
import io
from typing import Any

from django.utils.translation import gettext as _

from . import encodings
from .reading import (
    _DELIMITERS,
    ReadError,
    _check_headers,
    _decode,
    _header_names,
    _pick_delimiter,
    _resolve_format,
    check_table_text,
    read_dataset,
)
from .spreadsheets import SpreadsheetError, open_sheet

__all__ = ["read_header"]

#: Bytes decoded at first; more are read only when the header and the first row
#: do not fit (long quoted cells with line breaks).
_FIRST_BYTES = 64 * 1024


def read_header(
    data: bytes,
    *,
    filename: str | None = None,
    input_format: str | None = None,
    encoding: str | None = None,
) -> list[str]:
    """The checked column names of ``data``, which must have at least one data row.

    Raises :class:`.reading.ReadError` with :func:`.reading.read_dataset`'s
    messages for what the first rows show.
    """
    fmt = _resolve_format(data, filename, input_format)
    if not data.strip():
        raise ReadError(_("The file is empty."), code="no_data")
    if fmt in _DELIMITERS:
        check_table_text(data, fmt, encoding)
        headers, first_row = _delimited_header(
            data, _DELIMITERS[fmt], encoding or encodings.detect_encoding(data)
        )
    elif fmt == "xlsx":
        headers, first_row = _xlsx_header(data)
    else:
        dataset = read_dataset(data, filename=filename, input_format=fmt, encoding=encoding)
        return list(dataset.headers)
    headers = _header_names(headers)
    # Trailing nameless columns are dropped by the full read when no row fills
    # them; a row deep in the file that does is reported by the worker.
    while headers and not headers[-1]:
        headers.pop()
    _check_headers(headers)
    if first_row is None:
        raise ReadError(_("The file has a header row but no data rows."), code="no_data")
    return headers


def _delimited_header(
    data: bytes, delimiter: str, encoding: str
) -> tuple[list[Any], list[Any] | None]:
    size = _FIRST_BYTES
    while True:
        whole = size >= len(data)
        text = _decode_start(data[:size], encoding, final=whole)
        rows = _first_rows(text, _pick_delimiter(text, delimiter), complete=whole)
        if rows is not None:
            return rows
        size *= 4


def _decode_start(start: bytes, encoding: str, *, final: bool) -> str:
    """The text of the file's first bytes; a character cut at the end waits for more."""
    if final:
        return _decode(start, encoding)
    try:
        decoder = codecs.getincrementaldecoder(encoding)()
    except LookupError:
        return _decode(start, encoding)  # raises the unknown encoding's message
    try:
        return str(decoder.decode(start, final=False))
    except UnicodeDecodeError:
        return _decode(start, encoding)  # raises with the line and byte


def _first_rows(
    text: str, delimiter: str, *, complete: bool
) -> tuple[list[Any], list[Any] | None] | None:
    """Header and first non-empty row of ``text``; ``None`` when more text is needed.

    Unless ``text`` is the whole file, its last line may be cut, so a row is
    trusted only when another line follows it.
    """
    lines = io.StringIO(text, newline="")
    reader = csv.reader(lines, delimiter=delimiter)
    found: list[list[Any]] = []
    try:
        for row in reader:
            if not row:
                continue  # blank lines, as the full read skips them
            if not complete and lines.tell() >= len(text):
                return None  # this row may continue past the bytes decoded
            found.append(row)
            if len(found) == 2:
                break
    except csv.Error as exc:
        if not complete:
            return None  # an open quote: the cell goes on past the bytes decoded
        raise ReadError(
            _("The file is not valid CSV (line %(line)s): %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from exc
    if not found:
        if not complete:
            return None
        raise ReadError(_("The file is empty."), code="no_data")
    return found[0], (found[1] if len(found) > 1 else None)


def _xlsx_header(data: bytes) -> tuple[list[Any], list[Any] | None]:
    """The first row, and the first row after it with a value, as the full read gives them.

    The sheet is parsed a window of rows at a time (:func:`.spreadsheets.open_sheet`),
    so that only its first window is parsed however long it is, into the cells
    the full read gives (calamine's, shaped by :mod:`.cells`).
    """
    try:
        rows = iter(open_sheet(io.BytesIO(data), "xlsx"))
        try:
            header_row = next(rows, None)
            first_row = next((row for row in rows if any(v is not None for v in row)), None)
        finally:
            rows.close()  # type: ignore[attr-defined]  # a generator: its spill file closes
    except SpreadsheetError as exc:
        raise ReadError(str(exc)) from exc
    if header_row is None:
        raise ReadError(_("The file is empty."), code="no_data")
    return list(header_row), (list(first_row) if first_row is not None else None)
