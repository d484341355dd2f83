"""Fast paths for django-import-export's stock widgets, with their exact results.

Each widget's ``clean`` runs once per cell, so on a 100,000-row file its
overhead is paid a million times. For the common cell shapes this module
returns what the widget would return, without the detours; every other cell
takes the widget's own path, so errors and unusual values behave as in DIE.

Dates: DIE's ``DateTimeWidget`` and ``DateWidget`` try ``datetime.strptime`` with each
input format in turn. ``strptime`` is slow (it consults the locale on every
call): on a 100,000-row file with one datetime column it costs more than the
bulk write of the whole file. When the widget's *first* format is the ISO
one (Django's default) and a cell is written exactly in that shape, the
first ``strptime`` would succeed with the very value that
``datetime.fromisoformat`` gives (several times faster: no locale, no
regular expression of its own); that is all this module does. Any other cell
(another shape, an impossible date such as 2024-02-30) takes the widget's
own path, so errors and other formats behave as in DIE.

Decimals: ``DecimalWidget`` passes every cell through Django's
``sanitize_separators``, which reads the active language's formats and the
settings each time; with a ``.`` decimal separator and no thousand separator
(the default) it returns a text cell unchanged, so ``Decimal(cell)`` is the
answer. Text: ``CharWidget`` returns a text cell as it is.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.formats import get_format
from import_export.widgets import CharWidget, DateTimeWidget, DateWidget, DecimalWidget

# Exactly the shapes of the ISO formats. The hour stops at 23: newer Pythons'
# fromisoformat reads 24:00 as the next midnight, which strptime refuses. A
# digit outside ASCII matches here, but fromisoformat refuses it (ValueError),
# so such a cell takes the widget's path.
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2} (?:[01]\d|2[0-3]):\d{2}:\d{2}")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_FAST_SHAPES = {
    DateTimeWidget: ("%Y-%m-%d %H:%M:%S", _ISO_DATETIME, datetime.datetime.fromisoformat),
    DateWidget: ("%Y-%m-%d", _ISO_DATE, datetime.date.fromisoformat),
}


@contextmanager
def fast_widget_cleaning(
    widgets: Sequence[Any], cells: Sequence[tuple[str, Any]] = ()
) -> Iterator[Callable[[Sequence[dict[str, Any]]], None]]:
    """While importing, clean the common cells of stock widgets directly.

    Only widgets of exactly DIE's classes are patched (a subclass may clean
    differently), and only for the duration of one import: the language and
    time zone it reads cannot change while one import runs in one thread.

    Yields ``clean_early(rows)``: for ``cells``, ``(column, widget)`` pairs,
    it cleans the rows' datetime and decimal cells that take a fast path
    ahead of time, and the widgets' ``clean`` then answers those cells from
    what it found. Why: the importer calls it while the database writes the
    previous chunk, when Python would only wait. Only fast-path results are
    kept, which are a pure function of the cell's text; a cell whose
    cleaning fails is cleaned (and fails) again at its turn, as it would
    have.
    """
    patched = []
    # Per widget cleaned early: its fast path, its answers, and its columns (one
    # widget may serve several).
    early: dict[int, tuple[Callable[[str], Any], _EarlyAnswers, list[str]]] = {}
    plain_decimals = get_format("DECIMAL_SEPARATOR") == "." and not settings.USE_THOUSAND_SEPARATOR
    for widget in widgets:
        if type(widget) is CharWidget:
            widget.clean = _text_clean(widget)
            patched.append(widget)
            continue
        if type(widget) is DecimalWidget:
            if plain_decimals:
                answers = _EarlyAnswers()
                widget.clean = _decimal_clean(widget, answers)
                early[id(widget)] = (_decimal_text, answers, [])
                patched.append(widget)
            continue
        shape = _FAST_SHAPES.get(type(widget))
        if shape is None or not widget.formats or widget.formats[0] != shape[0]:
            continue
        _, pattern, from_iso = shape
        original = widget._parse_value

        def parse(
            value: Any,
            value_type: Any,
            _original: Any = original,
            _pattern: re.Pattern[str] = pattern,
            _from_iso: Any = from_iso,
        ) -> Any:
            if type(value) is str and _pattern.fullmatch(value) is not None:
                try:
                    return _from_iso(value)
                except ValueError:
                    pass  # strptime fails too; let the widget say so
            return _original(value, value_type)

        widget._parse_value = parse
        if type(widget) is DateTimeWidget:
            # Stock's make_aware() asks for the current zone (a context-local
            # lookup) on every cell; it cannot change while one import runs
            # in one thread, so it is read once, here.
            tzinfo = timezone.get_current_timezone() if settings.USE_TZ else None
            answers = _EarlyAnswers()
            fast = _aware_iso(tzinfo)
            widget.clean = _aware_clean(widget, tzinfo, fast, answers)
            early[id(widget)] = (fast, answers, [])
        patched.append(widget)
    for column, widget in cells:
        if id(widget) in early:
            early[id(widget)][2].append(column)
    steps = [step for step in early.values() if step[2]]

    def clean_early(rows: Sequence[dict[str, Any]]) -> None:
        for fast, answers, columns in steps:
            found = {}
            for column in columns:
                for row in rows:
                    cell = row.get(column)
                    if type(cell) is str:
                        try:
                            value = fast(cell)
                        except Exception:  # cleaned again, and refused, at its turn
                            continue
                        if value is not None:
                            found[cell] = value
            answers.found = found

    try:
        yield clean_early
    finally:
        for widget in patched:
            widget.__dict__.pop("_parse_value", None)
            widget.__dict__.pop("clean", None)


class _EarlyAnswers:
    """Cells of the next chunk cleaned ahead of time: cell text -> cleaned value."""

    found: dict[str, Any]

    def __init__(self) -> None:
        self.found = {}


def _text_clean(widget: CharWidget) -> Any:
    """``CharWidget.clean``: ``force_str`` returns a ``str`` cell itself."""
    original = widget.clean

    def clean(value: Any, row: Any = None, **kwargs: Any) -> Any:
        if type(value) is str:
            return value
        return original(value, row, **kwargs)

    return clean


def _decimal_text(value: str) -> Decimal | None:
    # NumberWidget.is_empty: blank after stripping.
    return Decimal(value) if value.strip() else None


def _decimal_clean(widget: DecimalWidget, answers: _EarlyAnswers) -> Any:
    """``DecimalWidget.clean`` for text cells, once separators are known to be plain."""
    original = widget.clean

    def clean(value: Any, row: Any = None, **kwargs: Any) -> Any:
        if type(value) is str:
            found = answers.found.get(value)
            return found if found is not None else _decimal_text(value)
        return original(value, row, **kwargs)

    return clean


def _aware_iso(tzinfo: datetime.tzinfo | None) -> Callable[[str], Any]:
    """The datetime of an ISO-shaped cell in ``tzinfo`` (naive for None), or None for another shape.

    ``make_aware(naive, zone)`` is ``naive.replace(tzinfo=zone)``: it is built so at once.
    """
    from_iso = datetime.datetime.fromisoformat
    shape = _ISO_DATETIME.fullmatch

    def fast(value: str) -> Any:
        if shape(value) is None:
            return None
        try:
            return from_iso(value).replace(tzinfo=tzinfo)
        except ValueError:
            return None  # strptime fails too; let the widget say so

    return fast


def _aware_clean(
    widget: DateTimeWidget,
    tzinfo: datetime.tzinfo | None,
    fast: Callable[[str], Any],
    answers: _EarlyAnswers,
) -> Any:
    """``DateTimeWidget.clean``, ISO-shaped text cells through ``fast``.

    ``tzinfo`` is the current zone with ``USE_TZ``, else None.
    """

    def clean(value: Any, row: Any = None, **kwargs: Any) -> Any:
        if type(value) is str:
            found = answers.found.get(value)
            if found is None:
                found = fast(value)
            if found is not None:
                return found
        parsed = widget._parse_value(value, datetime.datetime)
        if parsed is None:
            return None
        if tzinfo is not None and timezone.is_naive(parsed):
            return timezone.make_aware(parsed, tzinfo)
        return parsed

    return clean
