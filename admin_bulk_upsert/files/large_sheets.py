"""An XLSX sheet's rows, parsed by calamine one window at a time (see :mod:`.xlsx_windows`)."""

from __future__ import annotations

import collections
import dataclasses
import itertools
import pickle
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from python_calamine import CalamineSheet, CalamineWorkbook

from ..gc_pause import paused_collection
from . import xlsx_windows
from .cells import (
    SpreadsheetError,
    calamine_errors,
    convert,
    from_a1,
    has_empty_cell,
    restore_error_cells,
)
from .xlsx_parts import error_cells_in
from .xlsx_windows import RowsOutOfOrder, SheetWindows, WindowError

__all__ = ["WindowedSheetRows"]

#: A window of more XML than this is made into Python rows a chunk at a time.
_ITERATED_WINDOW_BYTES = 2 * xlsx_windows.WINDOW_BYTES
#: Rows made into Python objects at a time from such a window.
_CHUNK_ROWS = 1000


class WindowedSheetRows:
    """An XLSX sheet's rows, parsed by calamine a window at a time (see :mod:`.xlsx_windows`).

    Each pass gives the rows :class:`~.spreadsheets.SheetRows` gives, from A1, except that a
    row may stop at its last cell rather than at the sheet's last column (the
    sheet's width is only known at its end); the blank rows between two
    windows are given as ``[]``. Passes run one at a time.

    The first pass to reach the end also writes the rows it gives, pickled a
    chunk at a time, to a temporary file (about 70 bytes a row for the demo's
    four columns); the next passes read them back from there, about eight
    times faster than parsing the sheet again, so a streamed import (a
    checking pass, then the import's) parses the sheet once, and memory stays
    that of a window.

    A sheet whose rows are not in order (never seen from a real writer) raises
    :class:`~.xlsx_windows.RowsOutOfOrder` on the first pass; every later
    pass then reads the whole sheet with ``whole()``
    (:class:`~.spreadsheets.SheetRows`).
    """

    def __init__(
        self,
        windows: SheetWindows,
        index: int,
        failure_message: str,
        whole: Callable[[], Iterable[list[Any]]],
    ) -> None:
        self._windows = windows
        self._index = index
        self._failure_message = failure_message
        self._whole = whole
        self._read_whole: Iterable[list[Any]] | None = None
        #: The rows of a complete pass, for the next ones.
        self._spilled: IO[bytes] | None = None

    def __iter__(self) -> Iterator[list[Any]]:
        if self._read_whole is not None:
            yield from self._read_whole
        elif self._spilled is not None:
            yield from self._read_back(self._spilled)
        else:
            spill = tempfile.TemporaryFile()  # noqa: SIM115 - kept open past this pass
            try:
                yield from self._parsed_rows(spill)
            except BaseException:  # an error, or a pass stopped early: the rows are not all there
                spill.close()
                raise
            self._spilled = spill

    def _parsed_rows(self, spill: IO[bytes]) -> Iterator[list[Any]]:
        expected = 0  # the next row's number, from 0
        for window in self._parsed_windows():
            if window.sheet is None or window.sheet.start is None:
                continue
            first_row, first_column = window.sheet.start
            if first_row < expected:
                self._read_whole = self._whole()
                raise RowsOutOfOrder(first_row)
            blanks = first_row - expected
            expected = first_row
            chunks = window.chunks()
            while True:
                # A chunk's new lists all survive it: the collector would find nothing.
                with paused_collection():
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    rows = convert(from_a1(chunk, first_column), date_as_datetime=True)
                if window.errors and has_empty_cell(rows):
                    restore_error_cells(rows, expected, window.errors)
                # The chunk's rows are young: each collection would walk them.
                with paused_collection():
                    pickle.dump((blanks, rows), spill, protocol=pickle.HIGHEST_PROTOCOL)
                for _blank in range(blanks):
                    yield []
                blanks = 0
                expected += len(rows)
                yield from rows

    @staticmethod
    def _read_back(spill: IO[bytes]) -> Iterator[list[Any]]:
        spill.seek(0)
        while True:
            with paused_collection():
                try:
                    blanks, rows = pickle.load(spill)  # noqa: S301 - our own file, written above
                except EOFError:
                    return
            for _blank in range(blanks):
                yield []
            yield from rows

    def _parsed_windows(self) -> Iterator[_Window]:
        try:
            for xml in self._windows:
                yield _Window(self._parse(xml), error_cells_in(xml), len(xml))
        except WindowError as exc:
            raise SpreadsheetError(self._failure_message) from exc

    def _parse(self, xml: bytes) -> CalamineSheet | None:
        with calamine_errors(self._failure_message):
            workbook = CalamineWorkbook.from_object(self._windows.workbook(xml))
            try:
                return workbook.get_sheet_by_index(self._index)
            finally:
                workbook.close()


@dataclasses.dataclass(frozen=True)
class _Window:
    sheet: CalamineSheet | None
    #: ``{row: [(column, text), ...]}`` of its error cells (calamine reads them as empty).
    errors: dict[int, list[tuple[int, str]]]
    #: Bytes of its XML.
    size: int

    def chunks(self) -> Iterator[list[list[Any]]]:
        """The window's rows from its first, as calamine gives them, in one or more lists.

        A window of the usual size comes in one list. A larger one (a workbook
        with many shared strings gets larger windows) comes a chunk at a time
        from ``iter_rows``, which starts at the sheet's first row: the rows of
        the windows above are skipped, empty, which only a few windows do.
        """
        assert self.sheet is not None and self.sheet.start is not None
        if self.size <= _ITERATED_WINDOW_BYTES:
            yield self.sheet.to_python()
            return
        rows = self.sheet.iter_rows()
        collections.deque(itertools.islice(rows, self.sheet.start[0]), maxlen=0)
        while chunk := list(itertools.islice(rows, _CHUNK_ROWS)):
            yield chunk
