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

from collections.abc import Iterator, Sequence
from typing import Any

import tablib
from django.utils.translation import gettext as _
from import_export.widgets import ManyToManyWidget

__all__ = ["PayloadError", "RecordTable", "records_table"]


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


def records_table(resource: Any, records: Any) -> RecordTable:
    """The records, their shape and fields checked; each cell is checked as it is read.

    :class:`PayloadError` for what is wrong with the list as a whole (not a list,
    an item not an object, an unknown field); a record's own fault is raised
    when its row is read.
    """
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
    names = records[0].keys()
    # Comparing key views is one C call per record; only records whose fields differ
    # from the first are looked at field by field (they are refused when read).
    differing = [record for record in records if record.keys() != names]
    check_columns(resource, [*headers, *_extra_fields(differing, headers)])
    return RecordTable(headers, records, import_columns(resource), same_fields=not differing)


class RecordTable:
    """JSON records read as rows of CSV cells, made as the rows are iterated.

    A job stores the records as a CSV file written from these rows: keeping every
    row (and a ``tablib.Dataset`` of them) as well as the parsed records would
    only give the request's garbage collector more to walk. :meth:`as_dataset`
    makes the dataset an import in the request reads.
    """

    def __init__(
        self,
        headers: list[str],
        records: list[dict[str, Any]],
        widgets: dict[str, Any],
        *,
        same_fields: bool,
    ) -> None:
        self.headers = headers
        self._records = records
        self._columns = [(name, widgets[name]) for name in headers]
        self._same_fields = same_fields

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[list[str]]:
        headers, columns = self.headers, self._columns
        names = self._records[0].keys()
        for index, record in enumerate(self._records):
            if not self._same_fields and record.keys() != names:
                raise _fields_differ(index, record, headers)
            # A string is its cell as it is: the common case, without a call.
            yield [
                value if type(value := record[name]) is str else _cell(index, name, value, widget)
                for name, widget in columns
            ]

    def as_dataset(self) -> tablib.Dataset:
        return tablib.Dataset(*self, headers=self.headers)


def _extra_fields(records: list[dict[str, Any]], headers: list[str]) -> list[str]:
    seen = set(headers)
    extra = []
    for record in records:
        for name in record:
            if name not in seen:
                seen.add(name)
                extra.append(name)
    return extra


def _fields_differ(index: int, record: dict[str, Any], headers: list[str]) -> PayloadError:
    missing = [name for name in headers if name not in record]
    extra = [name for name in record if name not in headers]
    return PayloadError(
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
