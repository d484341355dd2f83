"""System checks of one resource class: its key, its batch size, how it writes.

A resource's ``Meta`` is read only when a file is imported, so a misspelt key
field or a bad ``batch_size`` would otherwise fail an import half-way, or
silently import row by row. :func:`check_resource_class` reports such problems
at start-up instead: the admin mixin's ``check()`` calls it for each of its
resources (Django's admin checks run it for every registered ``ModelAdmin``),
and a project may call it for resources used elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.checks import CheckMessage, Error, Info, Warning
from django.db import models

from ..column_mapping.matching import normalise
from ..conf import UNDECLARED, declared_option
from ..engine.keys import concrete_field
from ..engine.write_mode import (
    BULK,
    BULK_WITH_SIGNALS,
    BULK_WRITES_CHOICES,
    bulk_writes_option,
    model_write_path,
)
from ..resources import BulkUpsertResource
from .pooling import check_resource_pooling
from .settings import is_int


def check_resource_class(resource_class: Any, obj: Any = None) -> list[CheckMessage]:
    """Problems of one resource class that would only show up mid-import otherwise.

    ``obj`` is what the messages are attached to, usually the ``ModelAdmin``;
    by default the resource class itself.
    """
    target = resource_class if obj is None else obj
    if not (isinstance(resource_class, type) and issubclass(resource_class, BulkUpsertResource)):
        return [
            Error(
                f"{_name(resource_class)} is not a subclass of BulkUpsertResource, so imports "
                "through this admin would run row by row.",
                hint="Subclass admin_bulk_upsert.BulkUpsertResource instead of ModelResource, "
                "or build one with admin_bulk_upsert.bulk_resource_factory().",
                obj=target,
                id="admin_bulk_upsert.E001",
            )
        ]
    name = _name(resource_class)
    messages: list[CheckMessage] = []
    messages += _check_batch_size(resource_class, name, target)
    messages += _check_bulk_writes(resource_class, name, target)
    key_messages = _check_key(resource_class, name, target)
    messages += key_messages
    messages += _check_allowed_key_fields(resource_class, name, target)
    messages += _check_column_mapping(resource_class, name, target)
    if not key_messages:
        messages += _check_key_constraint(resource_class, name, target)
    messages += check_resource_pooling(resource_class, name, target)
    return messages


def _name(resource_class: Any) -> str:
    if isinstance(resource_class, type):
        return f"{resource_class.__module__}.{resource_class.__qualname__}"
    return repr(resource_class)


def _check_batch_size(resource_class: Any, name: str, target: Any) -> list[CheckMessage]:
    # Read the way BulkUpsertResource.get_batch_size() does: only a batch_size
    # declared in a Meta counts (DIE's options always hold 1000); without one
    # the BATCH_SIZE setting applies.
    batch_size = declared_option(resource_class, "batch_size")
    if batch_size is UNDECLARED:
        return []
    if is_int(batch_size, minimum=1):
        return []
    return [
        Error(
            f"{name}.Meta.batch_size is {batch_size!r}; it must be a positive integer.",
            hint="Set Meta.batch_size to the number of rows per chunk (for example 1000), "
            "or remove it to use ADMIN_BULK_UPSERT['BATCH_SIZE'].",
            obj=target,
            id="admin_bulk_upsert.E005",
        )
    ]


def _check_bulk_writes(resource_class: Any, name: str, target: Any) -> list[CheckMessage]:
    """E010 for a bad ``Meta.bulk_writes``; W003 when ``"auto"`` means ``save()`` per row;
    I001 when it means bulk writes with the save signals sent around them.

    The signals' path is an information, not a warning: it stays fast, and a project whose
    packages connect receivers for every model (Wagtail, search indexes) would otherwise get
    a warning per resource to silence. An explicit ``"always"`` or ``"never"`` is a choice
    already made: no message.
    """
    option = bulk_writes_option(resource_class)
    if option not in BULK_WRITES_CHOICES:
        return [
            Error(
                f"{name}.Meta.bulk_writes is {option!r}; it must be one of "
                + ", ".join(repr(choice) for choice in BULK_WRITES_CHOICES)
                + ".",
                hint="Use 'auto' (the default: save() per row when the model's save() does "
                "real work, bulk writes with pre_save/post_save sent per row when it has "
                "receivers), 'always' (bulk writes, no signals) or 'never' (save() per row).",
                obj=target,
                id="admin_bulk_upsert.E010",
            )
        ]
    model = resource_class._meta.model
    if option != "auto" or model is None or resource_class.stock_path_reason() is not None:
        # Imported by stock DIE row by row anyway, with save().
        return []
    path = model_write_path(model)
    if path.how == BULK:
        return []
    message = f"Imports with {name} write {model._meta.label} rows with {path.describe()}."
    if path.how == BULK_WITH_SIGNALS:
        return [Info(message, hint=_I001_HINT, obj=target, id="admin_bulk_upsert.I001")]
    return [Warning(message, hint=_W003_HINT, obj=target, id="admin_bulk_upsert.W003")]


_W003_HINT = (
    "Imports of this model call save() per row (slower); if that save() does "
    "nothing a bulk write misses, decorate it with admin_bulk_upsert.bulk_safe_save; set "
    "Meta.bulk_writes = 'always' on the resource if its save() and signal receivers need not "
    "run for imported rows, or 'never' to keep save() per row and silence this warning."
)
_I001_HINT = (
    "Each row's pre_save is sent before its chunk is written and its "
    "post_save after, so a receiver reading other rows of this table sees them a chunk at a "
    "time; set Meta.bulk_writes = 'never' for save() per row, 'always' for bulk writes without "
    "signals; either silences this message."
)


def _check_key(resource_class: Any, name: str, target: Any) -> list[CheckMessage]:
    key = list(resource_class._meta.import_id_fields or [])
    if not key:
        return [
            Error(
                f"{name} has no import key: Meta.import_id_fields is empty.",
                hint="Set Meta.import_id_fields to the fields that identify a row, "
                "for example import_id_fields = ['number'].",
                obj=target,
                id="admin_bulk_upsert.E002",
            )
        ]
    messages: list[CheckMessage] = []
    for field_name in key:
        if field_name not in resource_class.fields:
            messages.append(
                Error(
                    f"{name}.Meta.import_id_fields names {field_name!r}, "
                    "which is not a field of the resource.",
                    hint=_fields_hint(resource_class, "import_id_fields"),
                    obj=target,
                    id="admin_bulk_upsert.E003",
                )
            )
        elif _model_field(resource_class, field_name) is None:
            messages.append(_not_concrete(name, "import_id_fields", field_name, target))
    return messages


def _check_allowed_key_fields(resource_class: Any, name: str, target: Any) -> list[CheckMessage]:
    # None (the default) means every resource field with a concrete model field.
    allowed = getattr(resource_class._meta, "allowed_import_id_fields", None)
    key = list(resource_class._meta.import_id_fields or [])
    messages: list[CheckMessage] = []
    if allowed is not None:
        for field_name in key:
            if field_name not in allowed:
                messages.append(
                    Error(
                        f"{name}.Meta.import_id_fields names {field_name!r}, which is not in "
                        "Meta.allowed_import_id_fields, so the default key cannot be chosen "
                        "in the import form.",
                        hint=f"Add {field_name!r} to Meta.allowed_import_id_fields, or remove "
                        "allowed_import_id_fields to allow every field stored in a column.",
                        obj=target,
                        id="admin_bulk_upsert.E009",
                    )
                )
    for field_name in allowed or []:
        if field_name not in resource_class.fields:
            messages.append(
                Error(
                    f"{name}.Meta.allowed_import_id_fields names {field_name!r}, "
                    "which is not a field of the resource.",
                    hint=_fields_hint(resource_class, "allowed_import_id_fields"),
                    obj=target,
                    id="admin_bulk_upsert.E004",
                )
            )
        elif field_name not in key and _model_field(resource_class, field_name) is None:
            # A key field without a column is reported once, as a key field.
            messages.append(_not_concrete(name, "allowed_import_id_fields", field_name, target))
    return messages


def _check_column_mapping(resource_class: Any, name: str, target: Any) -> list[CheckMessage]:
    """E011 for a ``Meta.column_aliases`` the mapping step cannot read, or a non-boolean
    ``Meta.column_mapping``.

    Aliases must be ``{field name: [header, ...]}``, each field one of the
    resource's, and no header may be the alias of two fields (the step could
    not tell which one a file column fills).
    """
    problems = []
    switch = declared_option(resource_class, "column_mapping")
    if switch is not UNDECLARED and not isinstance(switch, bool):
        problems.append(f"{name}.Meta.column_mapping is {switch!r}; it must be True or False.")
    aliases = declared_option(resource_class, "column_aliases")
    if aliases is not UNDECLARED:
        problems += _alias_problems(resource_class, name, aliases)
    return [
        Error(
            problem,
            hint="Declare Meta.column_aliases = {'field_name': ['Header', ...]} with the "
            "resource's field names, each header listed under one field only, and "
            "Meta.column_mapping = False only to turn the mapping step off.",
            obj=target,
            id="admin_bulk_upsert.E011",
        )
        for problem in problems
    ]


def _alias_problems(resource_class: Any, name: str, aliases: Any) -> list[str]:
    if not isinstance(aliases, dict):
        return [f"{name}.Meta.column_aliases is {aliases!r}; it must be a dict."]
    problems = []
    owner: dict[str, str] = {}
    for field_name, headers in aliases.items():
        if field_name not in resource_class.fields:
            problems.append(
                f"{name}.Meta.column_aliases names {field_name!r}, "
                "which is not a field of the resource."
            )
            continue
        if not isinstance(headers, (list, tuple)) or not all(
            isinstance(header, str) and header.strip() for header in headers
        ):
            problems.append(
                f"{name}.Meta.column_aliases[{field_name!r}] is {headers!r}; it must be a "
                "list of non-blank headers."
            )
            continue
        for header in headers:
            other = owner.setdefault(normalise(header), field_name)
            if other != field_name:
                problems.append(
                    f"{name}.Meta.column_aliases gives {header!r} to both {other!r} and "
                    f"{field_name!r}."
                )
    return problems


def _fields_hint(resource_class: Any, option: str) -> str:
    available = ", ".join(sorted(resource_class.fields)) or "(none)"
    return f"Use the resource's field names in Meta.{option}; it has: {available}."


def _not_concrete(name: str, option: str, field_name: str, target: Any) -> Error:
    return Error(
        f"{name}.Meta.{option} names {field_name!r}, which is not stored in a column of "
        "the model's table, so rows cannot be matched on it.",
        hint="Key on fields saved in the model's own table: a ForeignKey imported with "
        "ForeignKeyWidget is fine; computed, many-to-many and related lookups "
        "('a__b') are not.",
        obj=target,
        id="admin_bulk_upsert.E006",
    )


def _model_field(resource_class: Any, field_name: str) -> models.Field[Any, Any] | None:
    """The concrete, non-m2m model field behind a resource field, if there is one."""
    model = resource_class._meta.model
    if model is None:
        return None
    return concrete_field(model, resource_class.fields[field_name].attribute)


def _check_key_constraint(resource_class: Any, name: str, target: Any) -> list[CheckMessage]:
    model = resource_class._meta.model
    key_fields = [_model_field(resource_class, f) for f in resource_class._meta.import_id_fields]
    columns = {field.name for field in key_fields if field is not None}
    if _has_unique_constraint(model, columns):
        return []
    key = ", ".join(resource_class._meta.import_id_fields)
    return [
        Warning(
            f"The import key of {name} ({key}) has no unique constraint in the database "
            f"table of {model._meta.label}.",
            hint="Add a UniqueConstraint on these fields (unique=True for a single field) "
            "and a migration. Until then only the importer's per-model lock prevents "
            "duplicate rows, and nothing stops duplicates written by other code.",
            obj=target,
            id="admin_bulk_upsert.W001",
        )
    ]


def _has_unique_constraint(model: type[models.Model], columns: set[str]) -> bool:
    """Whether the database rejects two rows equal on ``columns``.

    A constraint on a subset of the key is enough: rows equal on the whole key
    are equal on the subset. Conditional and expression constraints are not,
    since they do not cover every row or every value.
    """
    if not columns:
        return False
    for field in model._meta.concrete_fields:
        if field.name in columns and (field.unique or field.primary_key):
            return True
    unique_sets: list[Iterable[str]] = list(model._meta.unique_together)
    for constraint in model._meta.total_unique_constraints:
        unique_sets.append(constraint.fields)
    return any(set(fields) <= columns for fields in unique_sets)
