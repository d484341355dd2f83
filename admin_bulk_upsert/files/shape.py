"""What a streamed file's table looks like, and the rules every format's rows follow.

:class:`~.streaming.StreamedDataset` reads a file twice or more: once when it
is opened, to check every row and count them (so that errors come before the
import starts, and ``len()`` and the progress bar are exact), then once per
iteration over its rows. A :class:`Shape` is one format's reader for both
passes; the rules of ``read_dataset`` they must keep (headers checked, short
rows padded, trailing columns without a header nor a value dropped, a row
wider than the header refused in CSV and widening a sheet) are applied here,
once for every format.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from .reading import ReadError, _check_headers, _header_names, _is_blank


@dataclass(frozen=True)
class Scan:
    headers: list[str]  # checked, trailing empty columns dropped
    count: int
    width: int  # of the header row as read, before dropping


class Shape:
    """One format's passes over the file: :meth:`scan` checks it, :meth:`rows` reads it."""

    blank: Any = ""
    #: Whether a row wider than the header widens the table, as it does in a
    #: sheet (its used range is as wide as its widest row, header included)
    #: rather than being an error, as in CSV.
    widens = False

    def header_and_rows(self) -> tuple[list[Any], Iterator[list[Any]]]:
        raise NotImplementedError

    def scan(self) -> Scan:
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
        return Scan(headers, count, width[0])

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
