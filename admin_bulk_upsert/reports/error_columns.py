"""Which column of the file a row's error is about.

DIE names the field of a validation error (by field name or model attribute),
but an exception raised while cleaning a key cell (an unknown foreign key, a
date it cannot parse) carries no column at all. The admin preview and the
``bulk_import`` report both show row, column and value, so both ask here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from import_export.widgets import ForeignKeyWidget


def column_names(resource: Any) -> dict[str, str]:
    """Map the keys DIE uses in errors (field names, model attributes) to file columns."""
    names: dict[str, str] = {}
    for name, field in resource.fields.items():
        column = str(field.column_name or name)
        names.setdefault(name, column)
        if field.attribute:
            names.setdefault(field.attribute, column)
    return names


def blame_column(resource: Any, row: Mapping[str, Any], exc: BaseException) -> str | None:
    """The column whose cell raises ``exc`` when cleaned again, without a query.

    A foreign-key column is blamed when ``exc`` is its model's ``DoesNotExist``
    or ``MultipleObjectsReturned`` (looking it up again would cost a query);
    any other column when cleaning its cell raises the same exception again.
    """
    for field in resource.get_import_fields():
        column = field.column_name
        if column not in row:
            continue
        widget = field.widget
        if isinstance(widget, ForeignKeyWidget):
            model = widget.model
            if isinstance(exc, (model.DoesNotExist, model.MultipleObjectsReturned)):
                return str(column)
            continue
        try:
            field.clean(row)
        except Exception as probe:  # whatever the widget raised during the import
            if type(probe) is type(exc) and str(probe) == str(exc):
                return str(column)
    return None
