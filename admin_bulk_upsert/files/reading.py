"""Upload -> :class:`tablib.Dataset`: format, encoding and header checks.

The admin and the ``bulk_import`` command both read files here, so that a bad
file gets the same message everywhere, and so that the common formats take a
fast path: CSV and TSV go straight through :mod:`csv` (about twice as fast as
tablib's reader), XLSX, XLSM, XLS and ODS through python-calamine
(:mod:`.spreadsheets`, ten times faster than openpyxl's read-only mode). Other
formats fall back to django-import-export's own readers.

Rows come out as DIE's readers would give them, so that an import of the
result behaves like stock DIE: CSV lines with no cell at all are dropped
(tablib does the same), short CSV rows are padded with ``""``, and spreadsheet
cells keep their Python values (dates, numbers), which DIE's widgets accept.
Blank spreadsheet rows are dropped only under DIE's
``IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES``. Text is decoded by
:mod:`.encodings`: the encoding asked for, or UTF-8 if the file is valid
UTF-8, else Windows-1252.
A CSV whose header has semicolons and no comma is read with ``;`` as
separator (Excel's CSV in locales with a decimal comma).
Header names are stripped of surrounding whitespace, and trailing columns with
neither a header nor any value (a trailing comma, a formatted empty cell) are
dropped rather than reported.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import tablib
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from import_export.formats.base_formats import DEFAULT_FORMATS

from ..gc_pause import paused_collection
from . import encodings
from .file_kinds import not_a_table_message
from .spreadsheets import (
    OLE_MAGIC,
    SPREADSHEET_FORMATS,
    ZIP_MAGIC,
    SpreadsheetError,
    read_sheet,
)

__all__ = ["ReadError", "read_dataset", "supported_formats"]

#: Formats read without DIE's format classes, with the delimiter for text ones.
_DELIMITERS = {"csv": ",", "tsv": "\t"}
_ALIASES = {"xlsm": "xlsx", "txt": "csv", "yml": "yaml"}
#: The format named in messages about a delimited file.
_TABLE_FORMATS = {delimiter: fmt for fmt, delimiter in _DELIMITERS.items()}


class ReadError(ValueError):
    """A file that cannot be imported, with a message meant for the person who uploaded it.

    It subclasses :class:`ValueError` so that callers which already catch DIE's
    read failures keep working; ``message`` is translated and safe to show.
    """

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        #: ``no_data`` for an empty file or one with a header row only.
        self.code = code


def supported_formats() -> list[str]:
    """Names accepted as ``input_format``: ours plus every DIE import format that is installed."""
    names = {"csv", "tsv", *SPREADSHEET_FORMATS} - {"xlsm"}
    names.update(_die_formats())
    return sorted(names)


def read_dataset(
    data: bytes,
    *,
    filename: str | None = None,
    input_format: str | None = None,
    encoding: str | None = None,
) -> tablib.Dataset:
    """Read an uploaded file into a Dataset whose headers are checked.

    The format is ``input_format`` if given, else the extension of
    ``filename``, else guessed from the first bytes (a zip is XLSX, anything
    else CSV). ``encoding`` applies to text formats; ``None`` (or ``"auto"``)
    detects it: UTF-8 with or without a byte order mark, else Windows-1252.

    Raises :class:`ReadError` for an unknown format, a file that is not of its
    format, undecodable text, an empty file, a header without data rows, and
    blank or duplicate header names.
    """
    with paused_collection():  # every row read survives: nothing to collect
        return _read(data, filename, input_format, encoding)


def _read(
    data: bytes, filename: str | None, input_format: str | None, encoding: str | None
) -> tablib.Dataset:
    fmt = _resolve_format(data, filename, input_format)
    if not data.strip():
        raise ReadError(_("The file is empty."), code="no_data")
    if fmt in _DELIMITERS:
        headers, rows = _read_delimited(data, _DELIMITERS[fmt], encoding)
    elif fmt in SPREADSHEET_FORMATS:
        headers, rows = _read_spreadsheet(data, fmt)
    else:
        headers, rows = _read_with_die(data, fmt, encoding)
    headers, rows = _drop_trailing_empty_columns(headers, rows)
    _check_headers(headers)
    if not rows:
        raise ReadError(_("The file has a header row but no data rows."), code="no_data")
    return tablib.Dataset(*rows, headers=headers)


def _resolve_format(data: bytes, filename: str | None, input_format: str | None) -> str:
    if input_format:
        name = input_format.lower().lstrip(".")
    elif filename and "." in filename:
        name = filename.rsplit(".", 1)[1].lower()
    else:
        if data.startswith(ZIP_MAGIC):
            return "xlsx"
        return "xls" if data.startswith(OLE_MAGIC) else "csv"
    name = _ALIASES.get(name, name)
    if name not in supported_formats():
        raise ReadError(
            _("Unsupported file format “%(format)s”. Use one of: %(formats)s.")
            % {"format": name, "formats": ", ".join(supported_formats())}
        )
    return name


def _die_formats() -> dict[str, Any]:
    """DIE's installed import formats by extension (its list depends on optional packages)."""
    formats = {}
    for format_class in DEFAULT_FORMATS:
        fmt = format_class()
        if fmt.can_import():
            formats[fmt.get_extension()] = fmt
    return formats


# --- CSV / TSV ---------------------------------------------------------------


def _decode(data: bytes, encoding: str | None, fmt: str = "csv") -> str:
    if b"\x00" in data[:8192] and not _is_utf16(encoding):
        raise ReadError(_not_text_message(data, fmt))
    try:
        text, _used = encodings.decode(data, encoding)
    except encodings.DecodeError as exc:
        raise ReadError(str(exc)) from exc
    except LookupError as exc:
        raise ReadError(
            _("Unknown text encoding “%(encoding)s”.") % {"encoding": encoding}
        ) from exc
    return text


def _is_utf16(encoding: str | None) -> bool:
    return (encoding or "").lower().startswith("utf-16")


def _not_text_message(data: bytes, fmt: str = "csv") -> str:
    return not_a_table_message(data, fmt) or _(
        "The file is not a %(format)s file: it contains binary data."
    ) % {"format": fmt.upper()}


def check_table_text(head: bytes, fmt: str, encoding: str | None) -> None:
    """Refuse a CSV or TSV whose first bytes show another kind of file (a PDF, an image...).

    Such a file would decode as Windows-1252 and be read as a table of garbage.
    """
    if _is_utf16(encoding):
        return  # its NUL bytes and byte order mark are text
    message = not_a_table_message(head, fmt)
    if message is not None:
        raise ReadError(message)


def _read_delimited(
    data: bytes, delimiter: str, encoding: str | None
) -> tuple[list[str], list[list[Any]]]:
    check_table_text(data, _TABLE_FORMATS[delimiter], encoding)
    text = _decode(data, encoding)
    delimiter = _pick_delimiter(text, delimiter)
    # newline="" lets csv see the line breaks inside quoted cells.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header_row = next(reader, [])
        while not header_row:  # leading blank lines, as tablib skips them for data rows
            header_row = next(reader)
        rows = [row for row in reader if row]
    except StopIteration:
        raise ReadError(_("The file is empty."), code="no_data") from None
    except csv.Error as exc:
        raise ReadError(
            _("The file is not valid CSV (line %(line)s): %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from exc
    return _fit_rows(header_row, rows)


def _pick_delimiter(text: str, delimiter: str) -> str:
    """``;`` for a "CSV" whose header has semicolons and no comma, else ``delimiter``.

    Excel in locales with a decimal comma saves CSV with semicolons. DIE would
    read such a file as one column and fail on every row; reading it right
    changes nothing for a file DIE can read.
    """
    if delimiter != ",":
        return delimiter
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    if "," not in first_line and ";" in first_line:
        return ";"
    return delimiter


def _fit_rows(
    headers: Sequence[Any], rows: list[list[Any]], *, blank: Any = ""
) -> tuple[list[str], list[list[Any]]]:
    """Pad short rows, trim empty cells past the header, and reject rows wider than it.

    Rows are numbered from 1 for the first data row, as DIE numbers them in its
    errors. They are changed in place: the reader just made them.
    """
    headers = _header_names(headers)
    width = len(headers)
    for index, row in enumerate(rows):
        size = len(row)
        if size == width:
            continue
        if size < width:
            row.extend([blank] * (width - size))
        elif all(_is_blank(value) for value in row[width:]):
            del row[width:]
        else:
            raise ReadError(
                _(
                    "Row %(row)s has %(count)s values but the header has %(width)s columns. "
                    "Check for an unquoted separator in a value."
                )
                % {"row": index + 1, "count": size, "width": width}
            )
    return headers, rows


# --- spreadsheets ------------------------------------------------------------


def _read_spreadsheet(data: bytes, fmt: str) -> tuple[list[str], list[list[Any]]]:
    try:
        rows = read_sheet(data, fmt)
    except SpreadsheetError as exc:
        raise ReadError(str(exc)) from exc
    if not rows:
        raise ReadError(_("The file is empty."), code="no_data")
    header_row = rows.pop(0)
    if getattr(settings, "IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES", False):
        rows = [row for row in rows if not all(value is None for value in row)]
    else:
        rows = _strip_trailing_blank_rows(rows)
    return _fit_rows(header_row, rows, blank=None)


def _strip_trailing_blank_rows(rows: list[list[Any]]) -> list[list[Any]]:
    """Drop blank rows at the end only: formatting makes Excel report them, nobody typed them.

    Blank rows in the middle stay, as DIE keeps them, so that row numbers match.
    """
    end = len(rows)
    while end and all(value is None for value in rows[end - 1]):
        end -= 1
    del rows[end:]
    return rows


# --- other formats, through DIE ----------------------------------------------


def _read_with_die(
    data: bytes, name: str, encoding: str | None
) -> tuple[list[str], list[list[Any]]]:
    fmt = _die_formats()[name]
    stream: bytes | str = data if fmt.is_binary() else _decode(data, encoding, name)
    try:
        dataset = fmt.create_dataset(stream)
    except Exception as exc:  # each tablib reader raises its own parser's errors
        raise ReadError(
            _("The file is not a valid %(format)s file.") % {"format": name.upper()}
        ) from exc
    if not dataset.headers:
        raise ReadError(_("The file is empty."), code="no_data")
    return _header_names(dataset.headers), [list(row) for row in dataset]


# --- headers -----------------------------------------------------------------


def _header_names(headers: Iterable[Any]) -> list[str]:
    # A byte order mark survives decoding when the encoding is given as plain "utf-8".
    return ["" if name is None else str(name).replace("\ufeff", "").strip() for name in headers]


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _drop_trailing_empty_columns(
    headers: list[str], rows: list[list[Any]]
) -> tuple[list[str], list[list[Any]]]:
    keep = len(headers)
    while keep and not headers[keep - 1] and all(_is_blank(row[keep - 1]) for row in rows):
        keep -= 1
    if keep == len(headers):
        return headers, rows
    for row in rows:
        del row[keep:]
    return headers[:keep], rows


def _check_headers(headers: list[str]) -> None:
    if not any(headers):
        raise ReadError(_("The first row must hold the column names, but it is empty."))
    blank = [str(position) for position, name in enumerate(headers, 1) if not name]
    if blank:
        raise ReadError(
            ngettext(
                "Column %(columns)s has no name in the header row. Name it or delete it.",
                "Columns %(columns)s have no name in the header row. Name them or delete them.",
                len(blank),
            )
            % {"columns": ", ".join(blank)}
        )
    seen: dict[str, int] = {}
    for position, name in enumerate(headers, 1):
        if name in seen:
            raise ReadError(
                _(
                    "Column “%(name)s” appears twice in the header row "
                    "(columns %(first)s and %(second)s)."
                )
                % {"name": name, "first": seen[name], "second": position}
            )
        seen[name] = position
