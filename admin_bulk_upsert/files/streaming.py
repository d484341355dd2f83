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

Text formats (CSV, TSV) are read with :mod:`csv`. Spreadsheets (XLSX, XLS,
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

import codecs
import contextlib
import csv
import functools
import io
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import tablib
from django.conf import settings
from django.utils.translation import gettext as _

from ..gc_pause import paused_collection
from . import encodings
from .reading import (
    _DELIMITERS,
    ReadError,
    _check_headers,
    _header_names,
    _is_blank,
    _not_text_message,
    _pick_delimiter,
    _resolve_format,
    read_dataset,
)
from .spreadsheets import SPREADSHEET_FORMATS, SpreadsheetError, open_sheet
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
_CHUNK = 1 << 16
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
        shape = _TextShape(file, start, _DELIMITERS[fmt], encoding, head)
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

    def __init__(self, shape: _Shape) -> None:
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


@dataclass(frozen=True)
class _Scan:
    headers: list[str]  # checked, trailing empty columns dropped
    count: int
    width: int  # of the header row as read, before dropping


class _Shape:
    """One format's passes over the file: :meth:`scan` checks it, :meth:`rows` reads it."""

    blank: Any = ""
    #: Whether a row wider than the header widens the table, as it does in a
    #: sheet (its used range is as wide as its widest row, header included)
    #: rather than being an error, as in CSV.
    widens = False

    def header_and_rows(self) -> tuple[list[Any], Iterator[list[Any]]]:
        raise NotImplementedError

    def scan(self) -> _Scan:
        header_row, rows = self.header_and_rows()
        headers = _header_names(header_row)
        width = [len(headers)]
        # The first column from which every header to the end is blank:
        # those columns go unless some row has a value in them.
        unnamed_from = width[0]
        while unnamed_from and not headers[unnamed_from - 1]:
            unnamed_from -= 1
        used_to = unnamed_from  # columns [0, used_to) are kept
        count = 0
        too_wide: ReadError | None = None
        for row in self._fitted(rows, width, widen=self.widens):
            count += 1
            if used_to == width[0] and type(row) is list:  # the common case: nothing to check
                continue
            if isinstance(row, ReadError):
                too_wide = too_wide or row
                continue
            for index in range(width[0] - 1, used_to - 1, -1):
                if not _is_blank(row[index]):
                    used_to = index + 1
                    break
        if too_wide is not None:
            raise too_wide
        headers = (headers + [""] * (width[0] - len(headers)))[:used_to]
        _check_headers(headers)
        if not count:
            raise ReadError(_("The file has a header row but no data rows."), code="no_data")
        return _Scan(headers, count, width[0])

    def rows(self, width: int) -> Iterator[list[Any]]:
        _header, rows = self.header_and_rows()
        for row in self._fitted(rows, [width]):
            if isinstance(row, ReadError):  # the file changed since it was scanned
                raise row
            yield row

    def _fitted(
        self, rows: Iterator[list[Any]], width: list[int], *, widen: bool = False
    ) -> Iterator[Any]:
        """Rows padded to ``width[0]`` with blank cells past it dropped; a too wide row's error.

        With ``widen``, a row with a value past the width widens it instead
        (``width[0]`` grows) and the rows after it are padded to that.
        """
        blank = self.blank
        for number, row in enumerate(rows, 1):
            size = len(row)
            if size == width[0]:
                yield row
            elif size < width[0]:
                row.extend([blank] * (width[0] - size))
                yield row
            elif all(_is_blank(value) for value in row[width[0] :]):
                del row[width[0] :]
                yield row
            elif widen:
                width[0] = size
                yield row
            else:
                yield ReadError(
                    _(
                        "Row %(row)s has %(count)s values but the header has %(width)s columns. "
                        "Check for an unquoted separator in a value."
                    )
                    % {"row": number, "count": size, "width": width[0]}
                )


class _TextShape(_Shape):
    """CSV and TSV through :mod:`csv`, decoded as the file is read."""

    def __init__(
        self, file: IO[bytes], start: int, delimiter: str, encoding: str | None, head: bytes
    ) -> None:
        self.file = file
        self.start = start
        if b"\x00" in head and not (encoding or "").lower().startswith("utf-16"):
            raise ReadError(_not_text_message(head))
        try:
            codecs.lookup(encoding or "utf-8")
        except LookupError as exc:
            raise ReadError(
                _("Unknown text encoding “%(encoding)s”.") % {"encoding": encoding}
            ) from exc
        self.encoding, self.errors = encodings.stream_encoding(file, start, encoding)
        self.delimiter = self._guarded(lambda: _pick_delimiter(self._first_line(), delimiter))

    def header_and_rows(self) -> tuple[list[Any], Iterator[list[Any]]]:
        rows = self._guarded_rows(csv.reader(self._text(), delimiter=self.delimiter))
        for header_row in rows:
            if header_row:  # leading blank lines, as tablib skips them for data rows
                break
        else:
            raise ReadError(_("The file is empty."), code="no_data")
        return header_row, (row for row in rows if row)

    def _text(self) -> io.TextIOWrapper:
        self.file.seek(self.start)
        # newline="" lets csv see the line breaks inside quoted cells.
        return _Unclosing(self.file, encoding=self.encoding, errors=self.errors, newline="")

    def _first_line(self) -> str:
        """The text up to the end of the first line that is not blank (or all of it)."""
        text = self._text()
        read = ""
        while True:
            part = text.read(_CHUNK)
            read += part
            if not part or "\n" in read.lstrip("\r\n"):
                return read

    def _guarded_rows(self, reader: Any) -> Iterator[list[Any]]:
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError as exc:
                raise self._decode_error() from exc
            except csv.Error as exc:
                # read_dataset decodes the whole file before parsing it: a bad
                # byte further on is reported first.
                decode_error = self._find_decode_error()
                if decode_error is not None:
                    raise decode_error from exc
                raise ReadError(
                    _("The file is not valid CSV (line %(line)s): %(error)s")
                    % {"line": reader.line_num, "error": exc}
                ) from exc
            yield row

    def _guarded(self, read: Callable[[], Any]) -> Any:
        try:
            return read()
        except UnicodeDecodeError as exc:
            raise self._decode_error() from exc

    def _decode_error(self) -> ReadError:
        found = self._find_decode_error()
        if found is None:  # pragma: no cover - the decoder failed once and not twice
            return ReadError(_("The file is not valid %(encoding)s.") % {"encoding": self.encoding})
        return found

    def _find_decode_error(self) -> ReadError | None:
        """Where the file stops being valid text, as ``read_dataset`` words it, or ``None``.

        Read again with an incremental decoder, a block at a time, to name the
        line and the byte offset in the whole file.
        """
        self.file.seek(self.start)
        decoder = codecs.getincrementaldecoder(self.encoding)(self.errors)
        consumed = lines = 0
        while True:
            block = self.file.read(_CHUNK)
            pending = decoder.getstate()[0]
            try:
                decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                data = pending + block
                offset = consumed - len(pending) + exc.start
                line = lines + data.count(b"\n", 0, exc.start) + 1
                return ReadError(
                    _(
                        "The file is not valid %(encoding)s (line %(line)s, byte %(offset)s). "
                        "Choose the file’s encoding, or save it as “CSV UTF-8”."
                    )
                    % {
                        "encoding": encodings.encoding_label(self.encoding),
                        "line": line,
                        "offset": offset,
                    }
                )
            if not block:
                return None
            consumed += len(block)
            lines += block.count(b"\n")


class _Unclosing(io.TextIOWrapper):
    """A text view of the caller's binary file that leaves it open when dropped."""

    def __del__(self) -> None:
        with contextlib.suppress(ValueError):  # already detached
            self.detach()


class _SheetShape(_Shape):
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

    def scan(self) -> _Scan:
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
        while block := file.read(_CHUNK):
            if block.strip(_WHITESPACE):
                return True
        return False
    finally:
        file.seek(start)
