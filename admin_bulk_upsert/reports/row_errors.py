"""A row's errors as the preview shows them: the file's column, the cell's value, a message.

DIE reports a failed row either as a ``ValidationError`` naming model fields
or as an exception that names nothing (a widget that raised, a foreign key
not found). The user needs to know which cell of their file to fix, so
:class:`ErrorNamer` turns both into :class:`PreviewError` entries naming the
file's column, finding the column at fault of a bare exception with
:func:`~.error_columns.blame_column` (without a query), and wording the
messages some exceptions leave empty or cryptic.
"""

from __future__ import annotations

import dataclasses
from decimal import InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.encoding import force_str
from django.utils.translation import gettext
from import_export.results import RowResult
from import_export.widgets import ForeignKeyWidget

from .error_columns import blame_column, column_names


@dataclasses.dataclass(frozen=True)
class PreviewError:
    number: int | None
    column: str
    value: str
    message: str


def _validation_messages(error: ValidationError) -> list[tuple[str | None, str]]:
    if hasattr(error, "error_dict"):
        return [
            (None if key == NON_FIELD_ERRORS else key, force_str(message))
            for key, messages in error.message_dict.items()
            for message in messages
        ]
    return [(None, force_str(message)) for message in error.messages]


class ErrorNamer:
    """Turns a row's errors into (column, value, message), naming the file's column.

    Validation errors name their field. Other errors (a widget that raised, a
    foreign key not found) only carry the exception; the column at fault is
    found by :func:`admin_bulk_upsert.reports.error_columns.blame_column`, without a query.
    """

    def __init__(self, resource: Any, headers: list[str]) -> None:
        self.resource = resource
        self.column_by_field = column_names(resource)
        self.header_index = {force_str(header): i for i, header in enumerate(headers)}
        self.widget_by_column = {
            force_str(field.column_name): field.widget for field in resource.get_import_fields()
        }

    def column(self, field_name: str | None) -> str:
        if not field_name:
            return ""
        return self.column_by_field.get(field_name, field_name)

    def from_invalid(self, row: RowResult, values: tuple[Any, ...]) -> list[PreviewError]:
        found = []
        for field_name, message in _validation_messages(row.validation_error):
            column = self.column(field_name)
            index = self.header_index.get(column)
            value = values[index] if index is not None and index < len(values) else ""
            found.append(PreviewError(None, column, force_str(value), message))
        return found

    def from_errors(self, row: RowResult) -> list[PreviewError]:
        found = []
        for error in row.errors:
            values = error.row if hasattr(error.row, "get") else {}
            column = force_str(getattr(error.error, "column", "") or "")
            if column:
                found.append(
                    PreviewError(
                        error.number,
                        column,
                        force_str(values.get(column, "")),
                        _message(error.error),
                    )
                )
            else:
                found.append(self._locate(error.number, error.error, values))
        return found

    def _locate(self, number: int | None, exc: BaseException, values: Any) -> PreviewError:
        column = blame_column(self.resource, values, exc)
        if column is None:
            return PreviewError(number, "", "", _message(exc))
        cell = values.get(column)
        value = force_str(cell if cell is not None else "")
        widget = self.widget_by_column.get(column)
        if isinstance(widget, ForeignKeyWidget) and isinstance(exc, widget.model.DoesNotExist):
            message = gettext("No %(model)s has %(field)s “%(value)s”.") % {
                "model": widget.model._meta.verbose_name,
                "field": widget.field,
                "value": value,
            }
            return PreviewError(number, column, value, message)
        return PreviewError(number, column, value, _message(exc))


def _message(exc: BaseException) -> str:
    """What went wrong, in words: some exceptions (decimal's) say nothing useful."""
    if isinstance(exc, InvalidOperation):
        return gettext("Enter a number.")
    if isinstance(exc, ValidationError):
        return "; ".join(force_str(message) for message in exc.messages)
    return force_str(exc) or type(exc).__name__


def describe(error: PreviewError) -> str:
    """The error as one line of the preview's CSV report."""
    if error.column:
        return f"{error.column}={error.value!r}: {error.message}"
    return error.message
