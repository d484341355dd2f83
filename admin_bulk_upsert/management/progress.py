"""A progress bar for long imports, fed by the engine's ``progress=`` callback.

On a terminal the bar is redrawn in place with ``\\r``. Anywhere else (a log
file, a CI job, cron mail) carriage returns would pile up into one endless
line, so a plain line is written each time another tenth of the rows is done.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.utils.translation import gettext as _

_BAR_WIDTH = 30


class ProgressBar:
    """Callable as ``progress(rows_done, total_rows)``; call :meth:`finish` once at the end.

    ``write`` receives text with its own line endings (a management command's
    ``OutputWrapper`` would otherwise add a newline after every ``\\r`` redraw).
    """

    def __init__(self, write: Callable[[str], None], *, interactive: bool) -> None:
        self.write = write
        self.interactive = interactive
        self.started = time.monotonic()
        self._last_tenth = -1
        self._drawn = False

    def __call__(self, rows_done: int, total_rows: int) -> None:
        if self.interactive:
            self.write("\r" + self.render(rows_done, total_rows))
            self._drawn = True
            return
        tenth = 10 if total_rows <= 0 else rows_done * 10 // total_rows
        if tenth > self._last_tenth:
            self._last_tenth = tenth
            self.write(self.render(rows_done, total_rows) + "\n")

    def render(self, rows_done: int, total_rows: int) -> str:
        fraction = 1.0 if total_rows <= 0 else min(rows_done / total_rows, 1.0)
        filled = int(fraction * _BAR_WIDTH)  # full only when done
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        return _("[%(bar)s] %(done)s/%(total)s rows (%(percent)d%%), %(rate)s rows/s") % {
            "bar": bar,
            "done": f"{rows_done:,}",
            "total": f"{total_rows:,}",
            "percent": fraction * 100,
            "rate": f"{self.rate(rows_done):,.0f}",
        }

    def rate(self, rows_done: int) -> float:
        elapsed = time.monotonic() - self.started
        return rows_done / elapsed if elapsed > 0 else 0.0

    def finish(self) -> None:
        """End the redrawn line so that whatever is printed next starts on its own."""
        if self._drawn:
            self.write("\n")
