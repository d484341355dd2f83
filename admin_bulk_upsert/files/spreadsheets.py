"""Spreadsheets (XLSX, XLSM, XLS, ODS) -> rows of Python values, read with python-calamine.

calamine parses the whole sheet in Rust: a 100,000-row XLSX reads about ten
times faster than with openpyxl's read-only mode, which this module replaces.
Its cells are then given the shape the previous readers gave them
(:mod:`.cells`).

The sheet read is the one the previous readers took: the active sheet of an
XLSX (openpyxl's ``wb.active``: the workbook view's ``activeTab``, hidden or
not), the first sheet of an XLS or ODS.

A zip whose members inflate to more than :data:`MAX_UNCOMPRESSED` bytes, or
to more than :data:`MAX_RATIO` times the file's size, is refused before
calamine reads it: calamine holds the inflated sheet in memory, so a small
"zip bomb" upload could otherwise exhaust the server's memory.

:func:`read_sheet` gives every row at once; :func:`open_sheet` gives them,
converted the same way, for each pass over them (:mod:`.streaming` reads
spreadsheets through it). A large XLSX or XLSM sheet is parsed a window of
rows at a time (:mod:`.large_sheets`), so that memory does not grow with the
sheet; other sheets are parsed whole, once, and stay in calamine's memory, in
Rust, while they are read: about 200 bytes a row for four short columns.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import os
import zipfile
from collections.abc import Iterator
from typing import IO, Any, Literal, overload

from django.utils.translation import gettext as _
from python_calamine import CalamineSheet, CalamineWorkbook

from ..gc_pause import paused_collection
from .cells import (
    SpreadsheetError,
    calamine_errors,
    convert,
    from_a1,
    has_empty_cell,
    restore_error_cells,
)
from .file_kinds import HEAD_BYTES, OLE_MAGIC, ZIP_MAGIC, not_a_workbook_hint
from .large_sheets import WindowedSheetRows
from .xlsx_parts import error_cells, xlsx_parts
from .xlsx_windows import SheetWindows

__all__ = [
    "MAX_RATIO",
    "MAX_UNCOMPRESSED",
    "SPREADSHEET_FORMATS",
    "SheetRows",
    "SpreadsheetError",
    "WindowedSheetRows",
    "open_sheet",
    "read_sheet",
]

#: Formats read here; XLSM is an XLSX with macros (never run).
SPREADSHEET_FORMATS = frozenset({"xlsx", "xlsm", "xls", "ods"})
#: Inflated bytes accepted in a zipped workbook; a 1,000,000-row, 4-column XLSX inflates to ~130 MB.
MAX_UNCOMPRESSED = 2 * 1024**3
#: Inflation ratio refused for zips inflating past 64 MB; real workbooks stay well under 100x.
MAX_RATIO = 200
_RATIO_FLOOR = 64 * 1024**2

#: Rows made into Python objects at a time by :class:`SheetRows`.
_CHUNK_ROWS = 1000


def read_sheet(data: bytes, fmt: str) -> list[list[Any]]:
    """Every row of the sheet stock DIE would read, from A1, as the previous readers gave it.

    Rows have the width of the sheet's used range; the caller decides what a
    header, a blank row or a trailing column means.
    """
    sheet = open_sheet(io.BytesIO(data), fmt, windowed=False)
    if sheet.calamine is None:
        return []
    converted = convert(
        sheet.calamine.to_python(skip_empty_area=False),
        date_as_datetime=sheet.date_as_datetime,
    )
    if has_empty_cell(converted):
        restore_error_cells(converted, 0, sheet.error_cells())
    return converted


@overload
def open_sheet(file: IO[bytes], fmt: str, *, windowed: Literal[False]) -> SheetRows: ...
@overload
def open_sheet(
    file: IO[bytes], fmt: str, *, windowed: bool = True
) -> SheetRows | WindowedSheetRows: ...
def open_sheet(
    file: IO[bytes], fmt: str, *, windowed: bool = True
) -> SheetRows | WindowedSheetRows:
    """The sheet :func:`read_sheet` reads, to be read row by row, each pass from its first row.

    An XLSX or XLSM sheet is parsed a window of rows at a time
    (:class:`WindowedSheetRows`); other formats, and sheets that cannot be
    cut, are parsed whole, once. ``file`` is read from its current position
    and must stay open while the rows are read. Raises
    :class:`SpreadsheetError` as :func:`read_sheet` does, or while the rows
    are read for a sheet found broken further on.
    """
    start = file.tell()
    head = file.read(HEAD_BYTES)  # the container's magic, and what else the file may be
    file.seek(start)
    _check_container(head, fmt)
    archive = _open_zip(file, head, fmt) if fmt != "xls" else None
    parts = xlsx_parts(archive) if archive is not None and fmt in {"xlsx", "xlsm"} else None
    index = parts.active if parts else 0
    sheet_path = ""
    if parts and archive is not None and index < len(parts.sheet_paths):
        sheet_path = parts.sheet_paths[index]

    def whole() -> SheetRows:
        file.seek(start)
        calamine = _calamine_sheet(file, head, fmt, index)
        return SheetRows(calamine, fmt != "ods", archive if sheet_path else None, sheet_path)

    windows = None
    if windowed and archive and parts and sheet_path:
        windows = SheetWindows.open(archive, sheet_path, parts.workbook_parts)
    if windows is None:
        return whole()
    return WindowedSheetRows(windows, index, not_a_workbook_message(head, fmt), whole)


class SheetRows:
    """A parsed sheet whose every iteration yields its rows from A1, as :func:`read_sheet` does.

    calamine keeps the parsed sheet in Rust (about 200 bytes a row for the
    demo's four columns) and makes Python rows only as they are asked for, a
    chunk at a time, so that a pass over a million rows never holds them all
    in Python. Iterating again does not parse the file again: a streamed import
    reads the rows twice (a checking pass, then the import).

    Error cells are looked up in the sheet's XML once, when a row with an
    empty cell first passes (calamine reads an error cell as empty).
    """

    def __init__(
        self,
        calamine: CalamineSheet | None,
        date_as_datetime: bool,
        archive: zipfile.ZipFile | None,
        sheet_path: str,
    ) -> None:
        self.calamine = calamine
        self.date_as_datetime = date_as_datetime
        self._archive = archive
        self._sheet_path = sheet_path
        self._errors: dict[int, list[tuple[int, str]]] | None = None

    def error_cells(self) -> dict[int, list[tuple[int, str]]]:
        """``{row: [(column, text), ...]}`` of the sheet's error cells, from 0 (XLSX only)."""
        if self._errors is None:
            self._errors = {}
            if self._archive is not None:
                self._errors = error_cells(self._archive, self._sheet_path)
        return self._errors

    def __iter__(self) -> Iterator[list[Any]]:
        if self.calamine is None or self.calamine.start is None:
            return
        leading_columns = self.calamine.start[1]
        date_as_datetime = self.date_as_datetime
        rows = self.calamine.iter_rows()
        number = 0
        errors = None
        while True:
            # A chunk's new lists all survive it: the collector would find nothing.
            with paused_collection():
                converted = convert(
                    from_a1(list(itertools.islice(rows, _CHUNK_ROWS)), leading_columns),
                    date_as_datetime=date_as_datetime,
                )
            if not converted:
                return
            if errors is None and has_empty_cell(converted):
                errors = self.error_cells()
            if errors:
                restore_error_cells(converted, number, errors)
            number += len(converted)
            yield from converted


# --- the container -----------------------------------------------------------


def _check_container(head: bytes, fmt: str) -> None:
    if fmt == "xls":
        if not head.startswith(OLE_MAGIC):
            raise SpreadsheetError(not_a_workbook_message(head, fmt))
    elif not head.startswith(ZIP_MAGIC):
        raise SpreadsheetError(not_a_workbook_message(head, fmt))


def not_a_workbook_message(head: bytes, fmt: str) -> str:
    """The message for a file that is not a workbook of ``fmt``, given its first bytes.

    It says what the file looks like when its first bytes show it
    (:mod:`.file_kinds`): a CSV chosen as XLSX is told to choose CSV.
    """
    if fmt == "ods":
        message = _("The file is not a valid ODS spreadsheet.")
    elif fmt == "xls":
        message = _("The file is not a valid XLS workbook.")
    elif head.startswith(OLE_MAGIC):
        return _("The file is an old Excel (.xls) workbook or encrypted. Save it as .xlsx.")
    else:
        message = _("The file is not a valid XLSX workbook.")
    hint = not_a_workbook_hint(head, fmt)
    return f"{message} {hint}" if hint else message


def _open_zip(file: IO[bytes], head: bytes, fmt: str) -> zipfile.ZipFile:
    """The workbook's zip, read from ``file`` without copying it, refused if it is a bomb."""
    start = file.tell()
    size = file.seek(0, io.SEEK_END) - start
    file.seek(start)
    try:
        archive = zipfile.ZipFile(file)  # bytes before the zip are allowed for
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise SpreadsheetError(not_a_workbook_message(head, fmt)) from exc
    inflated = sum(member.file_size for member in archive.infolist())
    if inflated > MAX_UNCOMPRESSED or (inflated > _RATIO_FLOOR and inflated > MAX_RATIO * size):
        raise SpreadsheetError(
            _(
                "The workbook would unpack to %(size)s MB, more than can be read safely. "
                "Split it into smaller files or save it as CSV."
            )
            % {"size": inflated // 1024**2}
        )
    return archive


def _calamine_sheet(file: IO[bytes], head: bytes, fmt: str, index: int) -> CalamineSheet | None:
    """The parsed sheet at ``index`` (the first if there is none there); ``None``: no sheet."""
    with calamine_errors(not_a_workbook_message(head, fmt)):
        path = _path_of(file)
        # From the path, calamine reads the file as it goes; from a file object
        # it first copies it into memory (37 MB for a 1,000,000-row sheet).
        workbook = CalamineWorkbook.from_path(path) if path else CalamineWorkbook.from_object(file)
        try:
            if index >= len(workbook.sheet_names):
                index = 0  # openpyxl had no sheet at all here and failed
            if not workbook.sheet_names:
                return None
            return workbook.get_sheet_by_index(index)
        finally:
            # The sheet keeps its parsed cells; the workbook's copy of the file goes.
            workbook.close()
    return None  # pragma: no cover - the context manager re-raises


def _path_of(file: IO[bytes]) -> str | None:
    """The path of the file on disk, if ``file`` is that whole file opened there, else ``None``.

    Django's ``File`` (a job's stored upload) names the file by its storage
    name and holds the opened file as ``.file``: the wrapped ones are tried too.
    """
    try:
        if file.tell() != 0:
            return None
        opened = os.fstat(file.fileno())
    except (OSError, ValueError, AttributeError):  # no descriptor (a BytesIO), closed
        return None
    candidate: Any = file
    for _depth in range(3):
        name = getattr(candidate, "name", None)
        if isinstance(name, str):
            with contextlib.suppress(OSError, ValueError):  # a storage name, not a path
                if os.path.samestat(opened, os.stat(name)):
                    return name
        candidate = getattr(candidate, "file", None)
    return None
