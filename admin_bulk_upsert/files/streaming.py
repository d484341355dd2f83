"""A file read as a stream of rows: memory that does not grow with the file.

:func:`reading.read_dataset <admin_bulk_upsert.files.reading.read_dataset>` turns
the whole file into a :class:`tablib.Dataset`, about a kilobyte per row of
Python objects: a million-row file took over 2 GB. :func:`open_dataset` gives
a :class:`StreamedDataset` instead: its ``headers``, its ``len()`` and an
iteration over its rows, read again from the file each time it is iterated.
The engine reads it one chunk at a time.

The rows and the errors are those of ``read_dataset``: the same header
stripping, blank lines dropped, short rows padded, ``;`` taken as separator
when the header has it and no comma, trailing columns without a header nor a
value dropped, and the same :class:`~admin_bulk_upsert.files.reading.ReadError`
messages. To give them *before* the import starts (a bad byte on the last line
must not fail an import half-way), the file is read once when it is opened:
that pass checks every row, counts them (so that ``len()`` and the progress
bar are exact) and finds the trailing empty columns, keeping nothing. For the
demo's million-row ledger file (63 MB) it took 1.6 s, against more than a
minute for the import; iterating the rows takes about as long again.

Text formats (CSV, TSV) are read with :mod:`csv` (:mod:`.text_shape`); the
rules every format follows are :mod:`.shape`'s. Spreadsheets (XLSX, XLS,
ODS) are read through a row source registered with :func:`register_row_source`:
by default :func:`~.spreadsheets.open_sheet`, which has calamine parse a large
XLSX sheet a window of rows at a time (the first pass spills its rows to a
temporary file, which the next passes read back) and other sheets whole, once
(kept in calamine's memory for the next passes). A format without a source is
read whole by ``read_dataset``, as before.

The file must be seekable (each pass starts from its beginning); one that is
not is copied to a temporary file first.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import tablib
from django.conf import settings
from django.utils.translation import gettext as _

from ..gc_pause import paused_collection
from .reading import _DELIMITERS, ReadError, _resolve_format, read_dataset
from .shape import Scan, Shape
from .spreadsheets import SPREADSHEET_FORMATS, SpreadsheetError, open_sheet
from .text_shape import BLOCK_BYTES, TextShape
from .xlsx_windows import RowsOutOfOrder

__all__ = ["RowSource", "StreamedDataset", "open_dataset", "register_row_source"]

#: ``source(binary_file) -> rows``: the rows of the sheet to import, the header
#: row first, cells as DIE's widgets expect them, blank cells as ``None``; a row
#: may stop at its last value (the table is as wide as its widest row). It is
#: called once per dataset and the rows are iterated once per pass, so a source
#: that parses the file keeps what it parsed in the iterable it returns.
RowSource = Callable[[IO[bytes]], Iterable[list[Any]]]

_ROW_SOURCES: dict[str, RowSource] = {
    fmt: functools.partial(open_sheet, fmt=fmt) for fmt in SPREADSHEET_FORMATS
}
#: Bytes ``bytes.strip()`` removes: a file of only these is empty.
_WHITESPACE = b" \t\n\r\x0b\x0c"


def register_row_source(input_format: str, source: RowSource | None) -> None:
    """Stream ``input_format`` (``"xlsx"``, ...) through ``source``; ``None`` undoes it."""
    if source is None:
        _ROW_SOURCES.pop(input_format, None)
    else:
        _ROW_SOURCES[input_format] = source


def open_dataset(
    file: IO[bytes],
    *,
    filename: str | None = None,
    input_format: str | None = None,
    encoding: str | None = None,
) -> StreamedDataset | tablib.Dataset:
    """The file's rows, checked as ``read_dataset`` checks them, read as a stream if possible.

    Arguments and errors are those of ``read_dataset``. The file is read
    through once here (see the module's docstring) and again each time the
    dataset is iterated; it must stay open as long as the dataset is used.
    Formats without a streaming reader come back as a ``tablib.Dataset``.
    """
    file = _seekable(file)
    start = file.tell()
    head = file.read(8192)
    file.seek(start)
    fmt = _resolve_format(head, filename, input_format)
    if not _has_content(file, start):
        raise ReadError(_("The file is empty."), code="no_data")
    if fmt in _DELIMITERS:
        shape = TextShape(file, start, _DELIMITERS[fmt], encoding, head)
    elif fmt in _ROW_SOURCES:
        shape = _SheetShape(file, start, _ROW_SOURCES[fmt])
    else:
        return read_dataset(file.read(), filename=filename, input_format=fmt, encoding=encoding)
    with paused_collection():
        return StreamedDataset(shape)


class StreamedDataset:
    """The rows of a file, read from it each time they are iterated.

    It offers what the engine and DIE's row loop use of a ``tablib.Dataset``:
    ``headers``, ``len()`` (also as ``height``) and iteration over rows as
    lists. It cannot be changed: a resource whose ``before_import`` edits the
    dataset (adds a column, drops rows) needs the file read with
    ``read_dataset``; :meth:`to_dataset` makes one.
    """

    def __init__(self, shape: Shape) -> None:
        self._shape = shape
        scan = shape.scan()
        self.headers: list[str] = scan.headers
        self._count = scan.count
        self._width = scan.width

    def __len__(self) -> int:
        return self._count

    @property
    def height(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[list[Any]]:
        keep = len(self.headers)
        for row in self._shape.rows(self._width):
            if len(row) != keep:
                del row[keep:]
            yield row

    def to_dataset(self) -> tablib.Dataset:
        """The whole file as a ``tablib.Dataset`` (memory grows with the file again)."""
        with paused_collection():
            return tablib.Dataset(*self, headers=list(self.headers))


class _SheetShape(Shape):
    """A spreadsheet through a registered :data:`RowSource`, with ``read_dataset``'s rules.

    Blank rows are dropped under DIE's ``IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES``;
    otherwise only those at the end are (counted, not kept, until a row with a
    value shows they were in the middle).
    """

    blank = None
    widens = True

    def __init__(self, file: IO[bytes], start: int, source: RowSource) -> None:
        self.file = file
        self.start = start
        self.source = source
        self.sheet: Iterable[list[Any]] | None = None

    def scan(self) -> Scan:
        try:
            return super().scan()
        except RowsOutOfOrder:  # the source now reads the sheet whole
            return super().scan()

    def header_and_rows(self) -> tuple[list[Any], Iterator[list[Any]]]:
        if self.sheet is None:  # opened on the first pass, kept for the next ones
            self.file.seek(self.start)
            try:
                self.sheet = self.source(self.file)
            except SpreadsheetError as exc:
                raise ReadError(str(exc)) from exc
        rows = _read_errors(iter(self.sheet))
        header_row = next(rows, None)
        if header_row is None:
            raise ReadError(_("The file is empty."), code="no_data")
        return list(header_row), self._without_blank_rows(rows)

    def _without_blank_rows(self, rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
        ignore_all = getattr(settings, "IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES", False)
        held = 0  # blank rows seen since the last row with a value
        for cells in rows:
            row = list(cells)
            if row.count(None) == len(row):
                held += not ignore_all
                continue
            for _blank in range(held):
                yield []  # padded to the header's width with None
            held = 0
            yield row


def _read_errors(rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """``rows``, a sheet found broken on the way reported as ``read_dataset`` reports it."""
    try:
        yield from rows
    except SpreadsheetError as exc:
        raise ReadError(str(exc)) from exc


def _seekable(file: IO[bytes]) -> IO[bytes]:
    seekable = getattr(file, "seekable", None)
    if seekable is not None and seekable():
        return file
    # Closed when the dataset that reads it is dropped.
    copy = tempfile.TemporaryFile()  # noqa: SIM115
    shutil.copyfileobj(file, copy)
    copy.seek(0)
    return copy


def _has_content(file: IO[bytes], start: int) -> bool:
    """Whether the file holds a byte other than whitespace (``read_dataset``'s empty test)."""
    try:
        while block := file.read(BLOCK_BYTES):
            if block.strip(_WHITESPACE):
                return True
        return False
    finally:
        file.seek(start)
