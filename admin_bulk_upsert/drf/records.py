"""JSON records -> a dataset whose cells are what the same rows in a CSV file would hold.

The API promises the outcome of the same rows imported from a CSV file, so each
JSON value is turned into the text a CSV cell would hold before any widget sees
it, and the resource's widgets then read it exactly as they read a file:

* a string is the cell as it is;
* a number is its JSON text, unchanged (``1.50`` stays ``"1.50"``, never a binary
  float: :class:`~admin_bulk_upsert.drf.parsers.BulkUpsertJSONParser` keeps it);
* ``true`` and ``false`` are ``"1"`` and ``"0"``, what a CSV export writes and every
  boolean widget reads;
* ``null`` is an empty cell;
* a list, for a many-to-many column only, is its items joined by the widget's
  separator (``[1, 2]`` is ``"1,2"``).

Every record must have the same fields, as every row of a file has every column:
a field missing from one record would otherwise blank that record's value.
Nothing here imports Django REST framework, so that the rules can be read and
tested alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tablib
from django.utils.translation import gettext as _
from import_export.widgets import ManyToManyWidget

__all__ = ["PayloadError", "records_to_dataset"]


class PayloadError(ValueError):
    """Records that cannot be imported at all; ``detail`` is the 400 response's body."""

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.detail: dict[str, Any] = {"detail": message, **context}


def import_columns(resource: Any) -> dict[str, Any]:
    """The resource's import columns (what a file's header may name), with their widgets."""
    return {str(field.column_name): field.widget for field in resource.get_import_fields()}


def check_columns(resource: Any, headers: Sequence[str]) -> None:
    """Refuse fields the resource does not import: a typo would otherwise be dropped."""
    known = import_columns(resource)
    unknown = [name for name in headers if name not in known]
    if unknown:
        raise PayloadError(
            _("Unknown field(s): %(unknown)s. The fields are: %(known)s.")
            % {"unknown": ", ".join(unknown), "known": ", ".join(known)},
            code="unknown_field",
            unknown_fields=unknown,
        )


def records_to_dataset(resource: Any, records: Any) -> tablib.Dataset:
    """The records as a dataset of CSV-like cells; :class:`PayloadError` when they cannot be."""
    if not isinstance(records, list):
        raise PayloadError(_("Send a JSON list of objects."), code="not_a_list")
    if not records:
        raise PayloadError(_("The list of records is empty."), code="empty")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise PayloadError(
                _("Record %(index)s is not an object.") % {"index": index},
                code="not_an_object",
                index=index,
            )
    headers = list(records[0])
    check_columns(resource, [*headers, *_extra_fields(records, headers)])
    widgets = import_columns(resource)
    rows = [_row(index, record, headers, widgets) for index, record in enumerate(records)]
    return tablib.Dataset(*rows, headers=headers)


def _extra_fields(records: list[dict[str, Any]], headers: list[str]) -> list[str]:
    seen = set(headers)
    extra = []
    for record in records:
        for name in record:
            if name not in seen:
                seen.add(name)
                extra.append(name)
    return extra


def _row(
    index: int, record: dict[str, Any], headers: list[str], widgets: dict[str, Any]
) -> list[str]:
    if len(record) != len(headers) or any(name not in record for name in headers):
        missing = [name for name in headers if name not in record]
        extra = [name for name in record if name not in headers]
        raise PayloadError(
            _(
                "Record %(index)s does not have the fields of the first record "
                "(missing: %(missing)s; extra: %(extra)s). Every record needs the same fields."
            )
            % {
                "index": index,
                "missing": ", ".join(missing) or "-",
                "extra": ", ".join(extra) or "-",
            },
            code="fields_differ",
            index=index,
        )
    return [_cell(index, name, record[name], widgets[name]) for name in headers]


def _cell(index: int, name: str, value: Any, widget: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, list) and isinstance(widget, ManyToManyWidget):
        return _joined(index, name, value, widget.separator)
    if isinstance(value, list):
        message = _(
            "Record %(index)s, field %(field)s: a list is accepted only for a many-to-many field."
        )
    else:
        message = _(
            "Record %(index)s, field %(field)s: give a string, a number, a boolean or null."
        )
    raise PayloadError(
        message % {"index": index, "field": name}, code="invalid_value", index=index, field=name
    )


def _joined(index: int, name: str, items: list[Any], separator: str) -> str:
    cells = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)) or separator in str(item):
            raise PayloadError(
                _(
                    "Record %(index)s, field %(field)s: each item of the list must be a string "
                    "or a number without “%(separator)s”."
                )
                % {"index": index, "field": name, "separator": separator},
                code="invalid_value",
                index=index,
                field=name,
            )
        cells.append(str(item))
    return separator.join(cells)
