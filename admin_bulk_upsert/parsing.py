"""Fast paths for django-import-export's date widgets, with their exact results.

DIE's ``DateTimeWidget`` and ``DateWidget`` try ``datetime.strptime`` with each
input format in turn. ``strptime`` is slow (it consults the locale on every
call): on a 100,000-row file with one datetime column it costs more than the
bulk write of the whole file. When the widget's *first* format is the ISO
one (Django's default) and a cell is written exactly in that shape, the
first ``strptime`` would succeed with the very value that building the
``datetime`` directly gives; that is all this module does. Any other cell
(another shape, an impossible date such as 2024-02-30) takes the widget's
own path, so errors and other formats behave as in DIE.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.utils import timezone
from import_export.widgets import DateTimeWidget, DateWidget

_ISO_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")

_FAST_SHAPES = {
    DateTimeWidget: ("%Y-%m-%d %H:%M:%S", _ISO_DATETIME, datetime.datetime),
    DateWidget: ("%Y-%m-%d", _ISO_DATE, datetime.date),
}


@contextmanager
def fast_date_parsing(widgets: Sequence[Any]) -> Iterator[None]:
    """While importing, parse ISO-shaped cells of stock date widgets directly."""
    patched = []
    for widget in widgets:
        shape = _FAST_SHAPES.get(type(widget))
        if shape is None or not widget.formats or widget.formats[0] != shape[0]:
            continue
        _, pattern, build = shape
        original = widget._parse_value

        def parse(
            value: Any,
            value_type: Any,
            _original: Any = original,
            _pattern: re.Pattern[str] = pattern,
            _build: Any = build,
        ) -> Any:
            if type(value) is str:
                match = _pattern.fullmatch(value)
                if match is not None:
                    try:
                        return _build(*map(int, match.groups()))
                    except ValueError:
                        pass  # strptime fails too; let the widget say so
            return _original(value, value_type)

        widget._parse_value = parse
        if type(widget) is DateTimeWidget:
            widget.clean = _aware_clean(widget)
        patched.append(widget)
    try:
        yield
    finally:
        for widget in patched:
            del widget._parse_value
            widget.__dict__.pop("clean", None)


def _aware_clean(widget: DateTimeWidget) -> Any:
    """``DateTimeWidget.clean`` with the current time zone looked up once.

    Stock calls ``timezone.make_aware(dt)``, which asks for the current zone
    (a context-local lookup) on every cell; the zone cannot change while one
    import runs in one thread, so it is read when the import starts.
    """
    use_tz = settings.USE_TZ
    zone = timezone.get_current_timezone()

    def clean(value: Any, row: Any = None, **kwargs: Any) -> Any:
        parsed = widget._parse_value(value, datetime.datetime)
        if parsed is None:
            return None
        if use_tz and timezone.is_naive(parsed):
            return timezone.make_aware(parsed, zone)
        return parsed

    return clean
