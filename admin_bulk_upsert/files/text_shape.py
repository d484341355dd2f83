"""CSV and TSV read as a stream: decoded as the file is read, with ``read_dataset``'s errors.

``read_dataset`` decodes the whole file before parsing it; here the text is
decoded a block at a time under :mod:`csv`, so memory does not grow with the
file. The errors must still read the same: a byte that is not valid in the
encoding is reported with its line and byte offset in the whole file, found
by decoding the file again (which only a broken file pays for), and a
:mod:`csv` error caused by a bad byte further on is reported as that byte.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Callable, Iterator
from typing import IO, Any

from django.utils.translation import gettext as _

from . import encodings
from .reading import _TABLE_FORMATS, ReadError, _pick_delimiter, check_table_text
from .shape import Shape

#: Bytes read at a time.
BLOCK_BYTES = 1 << 16


class TextShape(Shape):
    """CSV and TSV through :mod:`csv`, decoded as the file is read."""

    def __init__(
        self, file: IO[bytes], start: int, delimiter: str, encoding: str | None, head: bytes
    ) -> None:
        self.file = file
        self.start = start
        check_table_text(head, _TABLE_FORMATS.get(delimiter, "csv"), encoding)
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
            part = text.read(BLOCK_BYTES)
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
            block = self.file.read(BLOCK_BYTES)
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
