"""A row's validation without a query per row, with stock's messages for the rows that fail.

Stock validates each instance with ``full_clean()``, which asks the database
whether the row's unique values are taken and whether each foreign key
exists: queries for every row. The engine validates with
``validate_unique=False`` instead: uniqueness and constraints are enforced by
the database when the chunk is written (a chunk it refuses is replayed row by
row with stock's full validation, so the failing row gets stock's message),
and a foreign key the chunk's prefetch just loaded is known to exist.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import ForeignKey, Model
from import_export.resources import ModelResource


def validate_instance(
    resource: Any,
    instance: Model,
    import_validation_errors: dict[str, Any] | None,
    validate_unique: bool,
) -> None:
    """Stock's ``validate_instance``; with ``validate_unique=False`` no per-row query at all."""
    errors = dict(import_validation_errors or {})
    if resource._meta.clean_model_instances:
        exclude = set(errors)
        options: dict[str, bool] = {"validate_unique": validate_unique}
        if not validate_unique:
            exclude |= _fetched_foreign_keys(instance)
            if _takes_validate_constraints(type(instance)):
                options["validate_constraints"] = False
        try:
            instance.full_clean(exclude=exclude, **options)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors and not validate_unique:
            # The row is invalid and will not be written, so the database
            # will not report a taken key for it: stock's full validation
            # lists every error, uniqueness included (queries for invalid
            # rows only).
            ModelResource.validate_instance(resource, instance, import_validation_errors)
    if errors:
        raise ValidationError(errors)


@functools.cache
def _takes_validate_constraints(model: type[Model]) -> bool:
    """Whether ``model.full_clean`` accepts ``validate_constraints`` (Django 4.1+).

    A model may still override it with the older signature
    ``full_clean(exclude=None, validate_unique=True)``: it is then called as
    stock calls it, and Django's own default checks its constraints.
    """
    try:
        parameters = inspect.signature(model.full_clean).parameters
    except (TypeError, ValueError):
        return False
    return "validate_constraints" in parameters or any(
        parameter.kind is inspect.Parameter.VAR_KEYWORD for parameter in parameters.values()
    )


def _fetched_foreign_keys(instance: Model) -> set[str]:
    """Foreign keys holding an object loaded from the database: they exist."""
    names = set()
    for field in instance._meta.concrete_fields:
        if isinstance(field, ForeignKey) and field.is_cached(instance):
            related = field.get_cached_value(instance)
            if related is not None and not related._state.adding:
                names.add(field.name)
    return names
