"""What a cell that a widget could not read is told, in the words of Django's forms.

django-import-export passes on whatever the widget raised: ``decimal`` says
``[<class 'decimal.ConversionSyntax'>]``, a date widget "Value could not be
parsed using defined formats." without the formats, a foreign key "Supplier
matching query does not exist.". The admin, the job page, the CLI and every
report word a cell's failure here, so that one row gets one message
everywhere: the message Django's form field of the same type gives ("Enter a
number.", "Enter a valid date."), with the formats a date, datetime or time
column accepts, and for a foreign key the value that was not found.

Only the stock widgets' own failures are reworded (a conversion error, DIE's
parse message): a widget of the project's that raises ``ValidationError`` or
its own ``ValueError`` text keeps its words. ``Result`` keeps stock's messages;
only what is shown to people changes.
"""

from __future__ import annotations

import datetime
import json
from decimal import InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.encoding import force_str
from django.utils.translation import gettext
from import_export import widgets

__all__ = ["cell_message", "formats_accepted", "not_found_message"]

#: The moment shown as an example of each accepted format.
_EXAMPLE = datetime.datetime(2024, 1, 31, 14, 30, 0)

#: DIE's own words for a date, datetime or time no format could parse.
_DIE_PARSE_MESSAGE = "Value could not be parsed using defined formats."
#: The start of the ValueErrors Python's conversions raise, which number widgets pass on.
_CONVERSION_ERRORS = ("could not convert", "invalid literal", "the value's magnitude")


def formats_accepted(widget: Any) -> str:
    """The widget's input formats, each shown as 31 January 2024 written in it.

    The day is 31 so that day and month cannot be taken for each other
    (``31/01/2024`` against ``01/31/2024``); a format that writes nothing of
    the date is shown as it is.
    """
    shown: list[str] = []
    for fmt in getattr(widget, "formats", ()) or ():
        try:
            example = _EXAMPLE.strftime(fmt)
        except (TypeError, ValueError):
            example = str(fmt)
        if example not in shown:
            shown.append(example)
    return ", ".join(shown)


def not_found_message(widget: Any, value: Any, exc: BaseException) -> str | None:
    """A foreign-key cell whose record is not found, or found more than once; else None."""
    model = widget.model
    params = {
        "model": model._meta.verbose_name,
        "models": model._meta.verbose_name_plural,
        "field": widget.field,
        "value": force_str("" if value is None else value),
    }
    if isinstance(exc, model.DoesNotExist):
        return gettext("No %(model)s has %(field)s “%(value)s”.") % params
    if isinstance(exc, model.MultipleObjectsReturned):
        return gettext("Several %(models)s have %(field)s “%(value)s”.") % params
    return None


def cell_message(widget: Any, value: Any, exc: BaseException) -> str:
    """The message for ``value``, which ``widget`` refused by raising ``exc``."""
    reworded = _stock_failure_message(widget, value, exc)
    if reworded is not None:
        return reworded
    return exception_message(exc)


def exception_message(exc: BaseException) -> str:
    """An exception's own message, or its class name when it has none."""
    if isinstance(exc, ValidationError):
        return "; ".join(force_str(message) for message in exc.messages)
    if isinstance(exc, InvalidOperation):  # says "[<class 'decimal.ConversionSyntax'>]"
        return gettext("Enter a number.")
    return force_str(exc) or type(exc).__name__


def _stock_failure_message(widget: Any, value: Any, exc: BaseException) -> str | None:
    if isinstance(exc, ValidationError):
        return None  # already meant for people
    if isinstance(widget, widgets.ForeignKeyWidget):
        return not_found_message(widget, value, exc)
    if isinstance(widget, widgets.NumberWidget) and _is_conversion_error(exc):
        if isinstance(widget, widgets.IntegerWidget):
            return gettext("Enter a whole number.")
        return gettext("Enter a number.")
    if isinstance(widget, (widgets.DateTimeWidget, widgets.DateWidget, widgets.TimeWidget)):
        if force_str(exc) != _DIE_PARSE_MESSAGE:
            return None
        params = {"formats": formats_accepted(widget)}
        if isinstance(widget, widgets.DateTimeWidget):
            return gettext("Enter a valid date/time. Formats accepted: %(formats)s.") % params
        if isinstance(widget, widgets.DateWidget):
            return gettext("Enter a valid date. Formats accepted: %(formats)s.") % params
        return gettext("Enter a valid time. Formats accepted: %(formats)s.") % params
    if isinstance(widget, widgets.DurationWidget) and isinstance(exc, ValueError):
        return gettext("Enter a valid duration.")
    if isinstance(widget, widgets.JSONWidget) and isinstance(exc, json.JSONDecodeError):
        return gettext("Enter a valid JSON.")
    return None


def _is_conversion_error(exc: BaseException) -> bool:
    if isinstance(exc, (InvalidOperation, OverflowError)):
        return True
    return isinstance(exc, (ValueError, TypeError)) and force_str(exc).startswith(
        _CONVERSION_ERRORS
    )
