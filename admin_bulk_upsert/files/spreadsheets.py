"""Spreadsheets (XLSX, XLSM, XLS, ODS) -> rows of Python values, read with python-calamine.

calamine parses the whole sheet in Rust: a 100,000-row XLSX reads about ten
times faster than with openpyxl's read-only mode, which this module replaces.
Its cells are then given the shape the previous readers gave them, because
DIE's widgets (and the user's expectations) were built on those:

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

The sheet read is the one the previous readers took: the active sheet of an
XLSX (openpyxl's ``wb.active``: the workbook view's ``activeTab``, hidden or
not), the first sheet of an XLS or ODS.

A zip whose members inflate to more than :data:`MAX_UNCOMPRESSED` bytes, or
to more than :data:`MAX_RATIO` times the file's size, is refused before
calamine reads it: calamine holds the inflated sheet in memory, so a small
"zip bomb" upload could otherwise exhaust the server's memory.
"""

from __future__ import annotations

import dataclasses
import datetime
import io
import itertools
import posixpath
import re
import zipfile
from typing import Any
from xml.etree import ElementTree

from django.utils.translation import gettext as _

__all__ = [
    "MAX_RATIO",
    "MAX_UNCOMPRESSED",
    "SPREADSHEET_FORMATS",
    "SpreadsheetError",
    "read_sheet",
]

#: Formats read here; XLSM is an XLSX with macros (never run).
SPREADSHEET_FORMATS = frozenset({"xlsx", "xlsm", "xls", "ods"})
#: Inflated bytes accepted in a zipped workbook; a 1,000,000-row, 4-column XLSX inflates to ~130 MB.
MAX_UNCOMPRESSED = 2 * 1024**3
#: Inflation ratio refused for zips inflating past 64 MB; real workbooks stay well under 100x.
MAX_RATIO = 200
_RATIO_FLOOR = 64 * 1024**2

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls and other MS Office files
_INTEGRAL_LIMIT = 1e16
_MIDNIGHT = datetime.time()


class SpreadsheetError(ValueError):
    """A workbook that cannot be read; the message is translated and meant for the uploader."""


def read_sheet(data: bytes, fmt: str) -> list[list[Any]]:
    """Every row of the sheet stock DIE would read, from A1, as the previous readers gave it.

    Rows have the width of the sheet's used range; the caller decides what a
    header, a blank row or a trailing column means.
    """
    _check_container(data, fmt)
    zipped = fmt != "xls"
    archive = _open_zip(data, fmt) if zipped else None
    parts = _xlsx_parts(archive) if archive is not None and fmt in {"xlsx", "xlsm"} else None
    index = parts.active if parts else 0
    rows = _calamine_rows(data, fmt, index)
    converted = _convert(rows, date_as_datetime=fmt != "ods")
    # calamine reads an error cell as empty: a sheet without empty cells has none to restore.
    maybe_errors = any(map(list.__contains__, converted, itertools.repeat(None)))
    if maybe_errors and parts and archive is not None and index < len(parts.sheet_paths):
        _restore_errors(archive, parts.sheet_paths[index], converted)
    return converted


def _convert(rows: list[list[Any]], *, date_as_datetime: bool) -> list[list[Any]]:
    """Each cell as the previous readers gave it (see the module docstring).

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


# --- the container -----------------------------------------------------------


def _check_container(data: bytes, fmt: str) -> None:
    if fmt == "xls":
        if not data.startswith(OLE_MAGIC):
            raise SpreadsheetError(_("The file is not a valid XLS workbook."))
    elif not data.startswith(ZIP_MAGIC):
        raise SpreadsheetError(not_a_workbook_message(data, fmt))


def not_a_workbook_message(data: bytes, fmt: str) -> str:
    if fmt == "ods":
        return _("The file is not a valid ODS spreadsheet.")
    if fmt == "xls":
        return _("The file is not a valid XLS workbook.")
    if data.startswith(OLE_MAGIC):
        return _("The file is an old Excel (.xls) workbook or encrypted. Save it as .xlsx.")
    return _("The file is not a valid XLSX workbook.")


def _open_zip(data: bytes, fmt: str) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SpreadsheetError(not_a_workbook_message(data, fmt)) from exc
    inflated = sum(member.file_size for member in archive.infolist())
    if inflated > MAX_UNCOMPRESSED or (
        inflated > _RATIO_FLOOR and inflated > MAX_RATIO * len(data)
    ):
        raise SpreadsheetError(
            _(
                "The workbook would unpack to %(size)s MB, more than can be read safely. "
                "Split it into smaller files or save it as CSV."
            )
            % {"size": inflated // 1024**2}
        )
    return archive


def _calamine_rows(data: bytes, fmt: str, index: int) -> list[list[Any]]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_object(io.BytesIO(data))
        try:
            if index >= len(workbook.sheet_names):
                index = 0  # openpyxl had no sheet at all here and failed
            if not workbook.sheet_names:
                return []
            return workbook.get_sheet_by_index(index).to_python(skip_empty_area=False)
        finally:
            workbook.close()
    except Exception as exc:  # calamine raises its parsers' errors, zip, XML, OLE ...
        raise SpreadsheetError(not_a_workbook_message(data, fmt)) from exc
    except BaseException as exc:
        # A Rust panic surfaces as pyo3's PanicException, a BaseException.
        if type(exc).__name__ == "PanicException":
            raise SpreadsheetError(not_a_workbook_message(data, fmt)) from exc
        raise


# --- XLSX: which sheet, and its error cells ----------------------------------


@dataclasses.dataclass(frozen=True)
class _XlsxParts:
    #: Index of openpyxl's ``wb.active`` among the workbook's sheets.
    active: int
    #: Each sheet's part in the zip, in workbook order (``""`` when not found).
    sheet_paths: list[str]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """``{id: (type, path in the zip)}`` of a part's relationships (``""``: the package's)."""
    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", name + ".rels")
    try:
        root = ElementTree.fromstring(archive.read(rels_path))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {}
    for rel in root:
        target = rel.get("Target", "")
        if target.startswith("/"):
            resolved = target.lstrip("/")
        else:
            resolved = posixpath.normpath(posixpath.join(folder, target))
        targets[rel.get("Id", "")] = (rel.get("Type", ""), resolved)
    return targets


def _xlsx_parts(archive: zipfile.ZipFile) -> _XlsxParts | None:
    """The active sheet's index (openpyxl's ``wb.active``) and each sheet's part in the zip.

    ``None`` when the workbook part cannot be found or parsed: calamine then
    reports the broken file, or reads its first sheet.
    """
    workbook_path = next(
        (
            path
            for kind, path in _relationships(archive, "").values()
            if kind.endswith("/officeDocument")
        ),
        "xl/workbook.xml",
    )
    try:
        root = ElementTree.fromstring(archive.read(workbook_path))
    except (KeyError, ElementTree.ParseError):
        return None
    rels = _relationships(archive, workbook_path)
    active: int | None = None
    sheet_paths = []
    for element in root.iter():
        name = _local(element.tag)
        if name == "workbookView" and active is None:  # openpyxl reads the first view's
            tab = element.get("activeTab") or "0"
            active = int(tab) if tab.isdigit() else 0
        elif name == "sheet":
            rel_id = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
            sheet_paths.append(rels.get(rel_id, ("", ""))[1])
    return _XlsxParts(active or 0, sheet_paths)


_ERROR_MARK = b't="e"'
_ERROR_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*\bt=[\"']e[\"'][^>]*)>(.*?)</(?:\w+:)?c>", re.S)
_REFERENCE = re.compile(rb"\br=[\"']([A-Z]+)([0-9]+)[\"']")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


def _restore_errors(archive: zipfile.ZipFile, sheet_path: str, rows: list[list[Any]]) -> None:
    """Put the text of error cells (``#N/A``...) back where calamine left them empty.

    The sheet's XML is scanned for the error marker as it inflates, without
    keeping it; only a sheet that has one is read whole and searched.
    """
    if not sheet_path or not _has_error_cells(archive, sheet_path):
        return
    xml = archive.read(sheet_path)
    for cell in _ERROR_CELL.finditer(xml):
        reference = _REFERENCE.search(cell.group(1))
        value = _VALUE.search(cell.group(2))
        if reference is None or value is None:
            continue
        row = int(reference.group(2)) - 1
        column = _column_index(reference.group(1).decode())
        if row < len(rows) and column < len(rows[row]) and rows[row][column] is None:
            rows[row][column] = value.group(1).decode()


def _has_error_cells(archive: zipfile.ZipFile, sheet_path: str) -> bool:
    tail = b""
    try:
        with archive.open(sheet_path) as stream:
            while chunk := stream.read(1 << 20):
                if _ERROR_MARK in tail + chunk:
                    return True
                tail = chunk[-len(_ERROR_MARK) :]
    except (KeyError, zipfile.BadZipFile, OSError):
        return False
    return False


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1
