"""An XLSX sheet cut into windows of rows, so that calamine never holds the whole sheet.

python-calamine parses a whole sheet before it gives a row, and offers no lazy
reader (it waits on calamine's own, tafia/calamine#27): a 1,000,000-row,
4-column XLSX held about 340 MB while it was imported, a wider one
proportionally more. Here the sheet's XML is inflated a block at a time and cut,
just before a ``<row>``, into windows of about :data:`WINDOW_BYTES`. Each
window is a whole worksheet (the sheet's own head, its run of rows, the
closing tags) wrapped with the workbook's parts but its sheets (the workbook
and its relationships, styles, shared strings, theme...) into a small
uncompressed zip, which calamine parses
as it parses the whole file: every cell is still read by calamine, only the
number of rows it holds at a time changes.

Where a cut could change what calamine reads, none is made:

- only before a ``<row>`` that names its number (``r="7"``): calamine numbers
  a row without one after the previous row, which may be in the window before;
- nowhere after a comment or a CDATA section, where ``<row`` may be text;
- a sheet without a ``<sheetData>`` element, or whose rows run past the end of
  the file without a ``</sheetData>``, is not cut (:meth:`SheetWindows.open`
  returns ``None``) or is refused like a corrupt file.

Rows must come in the order of their numbers, as every writer puts them;
calamine would sort a sheet whose rows go back, so the reader raises
:class:`RowsOutOfOrder` and the caller reads that sheet whole. Small sheets,
and sheets whose shared strings would make the windows few and large, are
read whole too (:meth:`SheetWindows.open`).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterable, Iterator

__all__ = [
    "MIN_SHEET_BYTES",
    "MIN_WINDOWS",
    "PARTS_FACTOR",
    "WINDOW_BYTES",
    "RowsOutOfOrder",
    "SheetWindows",
    "WindowError",
]

#: Sheet XML per window: about 17,000 rows of the demo's 4 columns, ~10 MB in calamine.
WINDOW_BYTES = 4 * 1024**2
#: Windows are at least this many times the size of the parts parsed with each.
PARTS_FACTOR = 2
#: A sheet of less XML is read whole (~270,000 rows of the demo's 4 columns).
MIN_SHEET_BYTES = 64 * 1024**2
#: A sheet that would make fewer windows is read whole.
MIN_WINDOWS = 8
#: Inflated at a time from the zip.
_BLOCK = 1 << 20
#: A sheet whose ``<sheetData>`` does not start within this many bytes is not cut.
_HEAD_LIMIT = 8 * 1024**2
#: The parts each window's workbook holds besides the workbook's own (its
#: relationships' targets but the sheets, given to :meth:`SheetWindows.open`):
#: the two python-calamine looks at to tell an XLSX from other zips, and those
#: calamine opens with a workbook by these names (``Xlsx::new``).
_PACKAGE_PARTS = (
    "[Content_Types].xml",
    "_rels/.rels",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/styles.xml",
    "xl/sharedStrings.xml",
)
_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b[^>]*?(/?)>")
_ROOT = re.compile(rb"<((?:\w+:)?worksheet)[\s>]")
#: The start of a comment or a CDATA section, where ``<row`` could be text.
_UNSAFE = b"<!"


class RowsOutOfOrder(Exception):
    """A window starts above the rows already read: read the sheet whole instead."""


class WindowError(Exception):
    """The sheet's XML cannot be read to its end (a truncated or corrupt part)."""


class SheetWindows:
    """The worksheet at ``member`` of ``archive``, given as small workbooks of a few rows each.

    Iterating inflates the sheet again and yields each window's rows; a window
    is the same on every pass, so that a caller may keep what it parsed of the
    first windows and skip parsing them next time. :meth:`workbook` wraps a
    window into the zip calamine reads.
    """

    def __init__(
        self,
        archive: zipfile.ZipFile,
        member: str,
        head: bytes,
        parts: list[tuple[str, bytes]],
        window_bytes: int,
    ) -> None:
        self._archive = archive
        self._member = member
        self._head = head
        self._parts = parts
        self._window_bytes = window_bytes
        found = _SHEET_DATA.search(head)
        root = _ROOT.search(head)
        assert found is not None and root is not None
        prefix = found.group(1) or b""
        self._row_mark = b"<" + prefix + b"row"
        self._row_tag = re.compile(re.escape(self._row_mark) + rb"[\s>/]")
        self._numbered = re.compile(re.escape(self._row_mark) + rb"\b[^>]*?\sr\s*=\s*[\"']")
        self._data_end = b"</" + prefix + b"sheetData>"
        self._closing = self._data_end + b"</" + root.group(1) + b">"

    @classmethod
    def open(
        cls, archive: zipfile.ZipFile, sheet_path: str, workbook_parts: Iterable[str] = ()
    ) -> SheetWindows | None:
        """The sheet's windows, or ``None`` when it is better read whole, or cannot be cut.

        A sheet of less than :data:`MIN_SHEET_BYTES` of XML is read whole:
        parsed once, it takes about the memory the windows kept between passes
        would. So is a sheet that would make fewer than :data:`MIN_WINDOWS`
        windows: calamine parses the shared strings and the styles again with
        each window, so windows are at least :data:`PARTS_FACTOR` times their
        size (which keeps that under half the sheet's own parse), and a
        workbook with many shared strings would make a few large windows,
        which take as much memory as the whole sheet and more time.
        """
        member = _member_named(archive, sheet_path)
        if member is None:
            return None
        sheet_bytes = archive.getinfo(member).file_size
        if sheet_bytes < MIN_SHEET_BYTES:
            return None
        names = {}  # member name: None, in order, each part once
        for wanted in (*_PACKAGE_PARTS, *workbook_parts):
            if (name := _member_named(archive, wanted)) is not None and name != member:
                names[name] = None
        parts = [(name, archive.read(name)) for name in names]
        window_bytes = max(WINDOW_BYTES, PARTS_FACTOR * sum(len(part) for _name, part in parts))
        if sheet_bytes < MIN_WINDOWS * window_bytes:
            return None
        head = _head(archive, member)
        return None if head is None else cls(archive, member, head, parts, window_bytes)

    def __iter__(self) -> Iterator[bytes]:
        """Each window's run of rows (whole ``<row>`` elements), in the sheet's order."""
        try:
            yield from self._windows()
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise WindowError(str(exc)) from exc

    def _windows(self) -> Iterator[bytes]:
        pending = bytearray()
        skip = len(self._head)  # the head, read again from the start of the part
        cutting = True
        overlap = len(self._data_end) - 1
        with self._archive.open(self._member) as stream:
            while True:
                block = stream.read(_BLOCK)
                if skip:
                    taken = min(skip, len(block))
                    block, skip = block[taken:], skip - taken
                    if skip:
                        continue
                if not block:
                    raise WindowError("the sheet's rows have no end")
                searched = max(0, len(pending) - overlap)  # a mark may straddle two blocks
                pending += block
                end = pending.find(self._data_end, searched)
                if end >= 0:
                    del pending[end:]
                if cutting and _has_unsafe(pending, searched):
                    cutting = False
                while cutting and len(pending) >= self._window_bytes:
                    cut = self._cut(pending)
                    if cut < 0:  # a row without its number: the rest is one window
                        cutting = False
                    if cut <= 0:
                        break
                    yield bytes(memoryview(pending)[:cut])
                    del pending[:cut]
                if end >= 0:
                    if pending.strip():
                        yield bytes(pending)
                    return

    def _cut(self, rows: bytearray) -> int:
        """Where the last row starts; 0: no row but the first, -1: it has no number."""
        position = len(rows)
        while (position := rows.rfind(self._row_mark, 0, position)) > 0:
            # A whole start tag, not a ``<rowBreaks>`` nor a tag the block cut in two.
            if self._row_tag.match(rows, position) and rows.find(b">", position) > 0:
                return position if self._numbered.match(rows, position) else -1
        return 0

    def workbook(self, rows: bytes) -> io.BytesIO:
        """An uncompressed XLSX of the workbook's parts and a sheet of ``rows`` in its place."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as target:
            for name, content in self._parts:
                target.writestr(name, content)
            with target.open(self._member, "w") as sheet:
                sheet.write(self._head)
                sheet.write(rows)
                sheet.write(self._closing)
        buffer.seek(0)
        return buffer


def _has_unsafe(xml: bytearray, start: int) -> bool:
    """Whether ``<!`` occurs in ``xml`` from ``start``.

    Sought as its rare ``!``: a search for ``<!`` stops at every ``<`` of the
    sheet and took a third of the time of cutting it.
    """
    position = xml.find(b"!", start)
    while position >= 0:
        if position > 0 and xml[position - 1] == ord("<"):
            return True
        position = xml.find(b"!", position + 1)
    return False


def _head(archive: zipfile.ZipFile, member: str) -> bytes | None:
    """The sheet's XML up to its ``<sheetData>`` tag, or ``None`` if it cannot be reused."""
    head = b""
    try:
        with archive.open(member) as stream:
            while len(head) < _HEAD_LIMIT:
                block = stream.read(_BLOCK)
                if not block:
                    return None
                head += block
                found = _SHEET_DATA.search(head)
                if found is not None:
                    break
            else:
                return None
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError):
        return None  # calamine reports the broken part
    head = head[: found.end()]
    if found.group(2) or _ROOT.search(head) is None or _UNSAFE in head:
        return None  # no rows (``<sheetData/>``), no root, or a comment in the head
    return head


def _member_named(archive: zipfile.ZipFile, path: str) -> str | None:
    """The zip member named ``path`` ignoring case, as calamine looks parts up."""
    folded = path.casefold()
    return next((name for name in archive.namelist() if name.casefold() == folded), None)
