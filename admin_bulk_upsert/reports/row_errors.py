"""A row's errors as every page and report shows them: the file's column, the cell, a message.

DIE reports a failed row either as a ``ValidationError`` naming model fields
or as an exception that names nothing (a widget that raised, a foreign key
not found, a database refusal). The user needs to know which cell of their
file to fix, and should read the same words in the admin, on the job page,
from ``bulk_import`` and in every CSV report, so :class:`ErrorNamer` is the
one place that turns both into :class:`PreviewError` entries: it names the
file's column (a bare exception's with :func:`~.error_columns.blame_column`,
without a query, a database refusal's with
:func:`~.db_refusals.explain_refusal`), and words the message with
:mod:`.cell_messages`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.encoding import force_str
from import_export.results import RowResult
from import_export.widgets import ForeignKeyWidget

from .cell_messages import cell_message, exception_message
from .db_refusals import explain_refusal
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

    Validation errors name their field; a message that is a stock widget's
    own failure ("Value could not be parsed using defined formats.") is
    reworded as :func:`~.cell_messages.cell_message` words it, found by
    cleaning the cell again. Other errors (a widget that raised, a foreign key
    not found, a database refusal) only carry the exception; their column is
    found without a query.
    """

    def __init__(self, resource: Any, headers: list[str]) -> None:
        self.resource = resource
        self.headers = [force_str(header) for header in headers]
        self.column_by_field = column_names(resource)
        self.field_by_column = {
            force_str(field.column_name): field for field in resource.get_import_fields()
        }

    def column(self, field_name: str | None) -> str:
        if not field_name:
            return ""
        return self.column_by_field.get(field_name, field_name)

    def from_invalid(self, row: RowResult, values: tuple[Any, ...]) -> list[PreviewError]:
        """An invalid row's errors; ``values``: its cells in the order of ``headers``."""
        cells = dict(zip(self.headers, values, strict=False))
        return self.invalid_cells(None, row.validation_error, cells)

    def invalid_cells(
        self, number: int | None, error: ValidationError, row: Mapping[str, Any]
    ) -> list[PreviewError]:
        """The messages of a row's ``ValidationError``, each with its column and cell."""
        found = []
        for field_name, message in _validation_messages(error):
            column = self.column(field_name)
            value = _text(row.get(column)) if column else ""
            found.append(PreviewError(number, column, value, self._reworded(column, message, row)))
        return found

    def from_errors(self, row: RowResult) -> list[PreviewError]:
        found = []
        for error in row.errors:
            values = error.row if hasattr(error.row, "get") else {}
            found.append(self.error_cell(error.number, error.error, values))
        return found

    def error_cell(
        self, number: int | None, exc: BaseException, row: Mapping[str, Any], *, blame: bool = True
    ) -> PreviewError:
        """An exception raised for ``row``, with the column at fault when it can be found.

        ``blame=False`` skips cleaning the row's cells again to find the column
        of a widget's failure (a report bounds how many rows it does that for).
        """
        column = force_str(getattr(exc, "column", "") or "")
        if column:
            return PreviewError(number, column, _text(row.get(column)), exception_message(exc))
        refusal = explain_refusal(exc, self.resource, row)
        if refusal is not None:
            column, message = refusal
            first = column.split(", ")[0]
            return PreviewError(number, column, _text(row.get(first)), message)
        blamed = blame_column(self.resource, row, exc) if blame else None
        if blamed is None:
            return PreviewError(number, "", "", exception_message(exc))
        value = row.get(blamed)
        field = self.field_by_column.get(blamed)
        widget = field.widget if field is not None else None
        return PreviewError(number, blamed, _text(value), cell_message(widget, value, exc))

    def _reworded(self, column: str, message: str, row: Mapping[str, Any]) -> str:
        """A stock widget's failure in the words of :mod:`.cell_messages`; else ``message``."""
        field = self.field_by_column.get(column)
        if field is None or column not in row or isinstance(field.widget, ForeignKeyWidget):
            return message  # a foreign key would be looked up again, with a query
        try:
            field.clean(row)
        except Exception as exc:  # whatever the widget raised during the import
            if force_str(exc) == message:
                return cell_message(field.widget, row.get(column), exc)
        return message


def _text(value: Any) -> str:
    return force_str("" if value is None else value)


def describe(error: PreviewError) -> str:
    """The error as one line of the preview's CSV report."""
    if error.column:
        return f"{error.column}={error.value!r}: {error.message}"
    return error.message
