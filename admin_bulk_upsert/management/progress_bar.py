"""A progress bar for long imports, fed by the engine's ``progress=`` callback.

On a terminal the bar is redrawn in place with ``\\r``. Anywhere else (a log
file, a CI job, cron mail) carriage returns would pile up into one endless
line, so a plain line is written each time another tenth of the rows is done,
and, with ``period``, at least every ``period`` seconds while rows keep coming
(a slow job's log still shows it is alive).
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
    A background job's waiter calls :meth:`show` instead, with the rate and the
    time left that the job itself measured (its step may have started long
    before the bar).
    """

    def __init__(
        self, write: Callable[[str], None], *, interactive: bool, period: float | None = None
    ) -> None:
        self.write = write
        self.interactive = interactive
        self.period = period
        self.started = time.monotonic()
        self._last_tenth = -1
        self._last_line = self.started
        self._drawn = False

    def __call__(self, rows_done: int, total_rows: int) -> None:
        rate = self.rate(rows_done)
        left = (total_rows - rows_done) / rate if rate > 0 and total_rows > rows_done else None
        self.show(rows_done, total_rows, rate, left)

    def show(
        self, rows_done: int, total_rows: int, rate: float | None, seconds_left: float | None
    ) -> None:
        text = self.render(rows_done, total_rows, rate, seconds_left)
        if self.interactive:
            self.write("\r" + text)
            self._drawn = True
            return
        tenth = 10 if total_rows <= 0 else rows_done * 10 // total_rows
        now = time.monotonic()
        due = self.period is not None and now - self._last_line >= self.period
        if tenth > self._last_tenth or due:
            self._last_tenth = max(tenth, self._last_tenth)
            self._last_line = now
            self.write(text + "\n")

    def render(
        self,
        rows_done: int,
        total_rows: int,
        rate: float | None = None,
        seconds_left: float | None = None,
    ) -> str:
        fraction = 1.0 if total_rows <= 0 else min(rows_done / total_rows, 1.0)
        filled = int(fraction * _BAR_WIDTH)  # full only when done
        bar = "#" * filled + "-" * (_BAR_WIDTH - filled)
        if rate is None:
            rate = self.rate(rows_done)
        text = _("[%(bar)s] %(done)s/%(total)s rows (%(percent)d%%), %(rate)s rows/s") % {
            "bar": bar,
            "done": f"{rows_done:,}",
            "total": f"{total_rows:,}",
            "percent": fraction * 100,
            "rate": f"{rate:,.0f}",
        }
        if seconds_left is not None and rows_done < total_rows:
            text += ", " + _("%(left)s left") % {"left": format_seconds(seconds_left)}
        return text

    def rate(self, rows_done: int) -> float:
        elapsed = time.monotonic() - self.started
        return rows_done / elapsed if elapsed > 0 else 0.0

    def finish(self) -> None:
        """End the redrawn line so that whatever is printed next starts on its own."""
        if self._drawn:
            self.write("\n")
            self._drawn = False


def format_seconds(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``: a time left, read at a glance."""
    whole = max(int(round(seconds)), 0)
    if whole < 60:
        return _("%(s)d s") % {"s": whole}
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return _("%(m)d min %(s)02d s") % {"m": minutes, "s": secs}
    hours, minutes = divmod(minutes, 60)
    return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
