"""What a file column can be mapped to: the resource's import fields, and how each is named.

A :class:`ColumnTarget` gathers every name a header may match a field by
(:mod:`.matching`): the resource's column name, the field's name, the model
field's ``verbose_name`` and the aliases the resource declares in
``Meta.column_aliases``. ``Meta.column_mapping = False`` turns the admin's
mapping step off for a resource (checked by ``admin_bulk_upsert.E011``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.encoding import force_str

__all__ = ["ColumnTarget", "column_aliases", "import_targets", "mapping_enabled"]


@dataclasses.dataclass(frozen=True)
class ColumnTarget:
    """One resource field a file column may be mapped to."""

    field_name: str
    #: The header the resource reads the field from (``Field.column_name``).
    column_name: str
    #: The model field's ``verbose_name`` ("" without a model field behind it).
    verbose_name: str
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How the mapping page names the field: its column, and its verbose name if other."""
        if self.verbose_name and self.verbose_name.lower() != self.column_name.lower():
            return f"{self.column_name} ({self.verbose_name})"
        return self.column_name


def mapping_enabled(resource_class: Any) -> bool:
    """Whether the admin offers the mapping step (``Meta.column_mapping``, default ``True``)."""
    return bool(getattr(resource_class._meta, "column_mapping", True))


def column_aliases(resource_class: Any) -> dict[str, tuple[str, ...]]:
    """``Meta.column_aliases`` as ``{field name: (alias, ...)}``; ``{}`` when not declared.

    A malformed option is reported by ``admin_bulk_upsert.E011``; here its
    usable entries are kept, so that one typo does not take the page down.
    """
    declared = getattr(resource_class._meta, "column_aliases", None)
    if not isinstance(declared, dict):
        return {}
    aliases: dict[str, tuple[str, ...]] = {}
    for field_name, names in declared.items():
        if isinstance(names, str):
            names = [names]
        if isinstance(names, (list, tuple)):
            aliases[str(field_name)] = tuple(str(name) for name in names if isinstance(name, str))
    return aliases


def import_targets(resource: Any) -> list[ColumnTarget]:
    """The fields a file column may be mapped to, in the resource's import order
    (``Meta.import_order``, then ``Meta.fields``).

    Only fields that import something (an ``attribute``, not read-only), as
    DIE's ``import_field`` would write them.
    """
    aliases = column_aliases(type(resource))
    name_of = {id(field): name for name, field in resource.fields.items()}
    targets = []
    seen: set[str] = set()
    for field in resource.get_import_fields():
        field_name = name_of[id(field)]
        if not field.attribute or getattr(field, "readonly", False):
            continue
        column = force_str(field.column_name)
        if column in seen:
            continue
        seen.add(column)
        targets.append(
            ColumnTarget(
                field_name=field_name,
                column_name=column,
                verbose_name=_verbose_name(resource, field.attribute),
                aliases=aliases.get(field_name, ()),
            )
        )
    return targets


def all_column_names(resource: Any) -> set[str]:
    """Every header the resource reads or writes (export-only fields too)."""
    return {force_str(field.column_name) for field in resource.fields.values()}


def key_columns(resource: Any, key_fields: Sequence[str]) -> dict[str, str]:
    """``{field name: column name}`` of the import's key fields."""
    return {name: force_str(resource.fields[name].column_name) for name in key_fields}


def _verbose_name(resource: Any, attribute: str) -> str:
    model = getattr(resource._meta, "model", None)
    if model is None or "__" in attribute:
        return ""
    try:
        field = model._meta.get_field(attribute)
    except FieldDoesNotExist:
        return ""
    verbose = getattr(field, "verbose_name", None)
    return force_str(verbose) if verbose else ""
