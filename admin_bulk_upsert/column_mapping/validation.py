"""A mapping checked against the file and the resource, and turned into header renames.

The same checks serve the admin's mapping step and ``bulk_import --map``: the
key columns must be mapped (rows could not be matched otherwise), a field may
be mapped from one column only, and every field named must be one the
resource imports. Each problem is a message naming the columns and fields
involved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from django.utils.translation import gettext as _

from .targets import ColumnTarget

__all__ = ["ColumnMap", "mapping_errors"]

#: ``{file header: field name}``; ``""`` ignores the column.
ColumnMap = dict[str, str]


def mapping_errors(
    column_map: Mapping[str, str],
    targets: Sequence[ColumnTarget],
    key_fields: Iterable[str],
) -> list[str]:
    """What is wrong with ``column_map``: unknown fields, fields mapped twice, keys unmapped."""
    by_name = {target.field_name: target for target in targets}
    errors = []
    unknown = sorted({field for field in column_map.values() if field and field not in by_name})
    for field_name in unknown:
        errors.append(
            _("“%(field)s” is not a field this import can fill. Fields: %(fields)s.")
            % {"field": field_name, "fields": ", ".join(by_name)}
        )
    headers_by_field: dict[str, list[str]] = {}
    for header, field_name in column_map.items():
        if field_name in by_name:
            headers_by_field.setdefault(field_name, []).append(header)
    for field_name, headers in headers_by_field.items():
        if len(headers) > 1:
            errors.append(
                _("The field “%(field)s” is mapped from more than one column: %(columns)s.")
                % {
                    "field": by_name[field_name].column_name,
                    "columns": ", ".join(f"“{header}”" for header in headers),
                }
            )
    for field_name in key_fields:
        if field_name not in headers_by_field:
            target = by_name.get(field_name)
            errors.append(
                _(
                    "The key column “%(column)s” is not mapped: choose the file column "
                    "that holds it, to identify existing rows."
                )
                % {"column": target.column_name if target else field_name}
            )
    return errors
