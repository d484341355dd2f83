"""A checked mapping carried out: the file's headers renamed to the resource's column names.

The renaming itself is :func:`..files.renaming.rename_columns`'s, on the
dataset as it is read, wherever it is read: the admin's preview and confirm,
the job's worker, ``bulk_import``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..files.renaming import rename_columns
from .targets import ColumnTarget, all_column_names, import_targets

__all__ = ["apply_column_map", "column_renames"]


def apply_column_map(dataset: Any, resource: Any, column_map: Mapping[str, str]) -> Any:
    """``dataset`` with its headers renamed as ``column_map`` says, for ``resource``."""
    if not column_map:
        return dataset
    renames = column_renames(column_map, import_targets(resource), all_column_names(resource))
    return rename_columns(dataset, renames)


def column_renames(
    column_map: Mapping[str, str],
    targets: Sequence[ColumnTarget],
    resource_columns: Iterable[str],
) -> dict[str, str]:
    """``{file header: header the resource reads}`` that carries ``column_map`` out.

    A mapped header becomes its field's column name. An ignored header keeps
    its name, unless that name is one the resource reads (the user chose to
    ignore a column called ``price``, or mapped another column to it): then it
    is renamed out of the resource's way, to ``"price (ignored)"``. Headers
    left out of ``column_map`` are kept, so a partial map (``--map``) changes
    only what it names.
    """
    column_of = {target.field_name: target.column_name for target in targets}
    renames = {
        header: column_of[field_name]
        for header, field_name in column_map.items()
        if field_name in column_of
    }
    read = set(resource_columns) | set(renames.values())
    reserved = read | set(column_map)
    for header in column_map:
        if header not in renames and header in read:
            # Not translated: the admin and a worker must rename alike, whatever the language.
            renamed = f"{header} (ignored)"
            while renamed in reserved:
                renamed += " "
            renames[header] = renamed
            reserved.add(renamed)
    return {header: name for header, name in renames.items() if header != name}
