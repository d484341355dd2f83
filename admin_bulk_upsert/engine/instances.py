"""Each row's instance: made and filled as stock's ``import_row`` does, in fewer steps.

Stock makes a new record with ``init_instance()`` (``Model()``), then sets its
cells with ``import_instance()``, which calls ``import_field()``, then
``Field.save()``, then ``Field.clean()`` for every cell, and calls the
resource's per-row hooks. Where a resource keeps DIE's own versions, the
same results come from fewer calls: a copy of one blank instance, one loop
over the cells, no call to a hook that does nothing. Anything a resource
overrides is called as stock calls it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import NOT_PROVIDED, Model, signals
from django.db.models.base import ModelState
from django.utils.encoding import force_str
from import_export import resources as import_export_resources
from import_export.fields import Field
from import_export.resources import ModelResource
from import_export.widgets import ManyToManyWidget


def stock_logger() -> logging.Logger:
    """Stock's logger (``import_export.resources.logger``), whose DEBUG lines the engine writes.

    Read from DIE's module at each import rather than kept: whatever stands
    there (a project's replacement, a test's mock) receives the lines, as it
    would from stock.
    """
    return import_export_resources.logger  # type: ignore[no-any-return]


def copy_instance(instance: Model) -> Model:
    """A shallow copy: field values are replaced, never mutated, by the widgets.

    Built by hand: ``copy.copy`` goes through ``Model.__reduce__`` and costs
    several times more, once or twice per row.
    """
    clone = instance.__class__.__new__(instance.__class__)
    clone.__dict__.update(instance.__dict__)
    state = ModelState()
    state.db = instance._state.db
    state.adding = instance._state.adding
    state.fields_cache = dict(instance._state.fields_cache)
    clone._state = state
    return clone


class NewInstances:
    """Makes each new row's instance: ``resource.init_instance(row)``.

    ``blank`` is set when every new instance starts as a copy of it (see
    :func:`instance_factory`); it then also stands for each new row's
    snapshot, the state before the row's values were applied.
    """

    blank: Model | None = None

    def __init__(self, resource: Any) -> None:
        self.resource = resource

    def __call__(self, row: dict[str, Any]) -> Model:
        return self.resource.init_instance(row)  # type: ignore[no-any-return]


class _BlankCopies(NewInstances):
    def __init__(self, resource: Any, blank: Model) -> None:
        super().__init__(resource)
        self.blank = blank

    def __call__(self, row: dict[str, Any]) -> Model:
        return copy_instance(self.blank)  # type: ignore[arg-type]


def instance_factory(resource: Any) -> NewInstances:
    """``resource.init_instance``, or copies of one blank instance when that is the same.

    Stock builds every new record with ``Model()``, which walks every field for
    its default. When the resource keeps DIE's ``init_instance``, the model
    keeps ``Model.__init__``, nothing listens to its init signals and no
    default is computed per instance (a callable or a database default), each
    ``Model()`` holds the very same values: a shallow copy of one is that
    instance, for a fraction of the cost.
    """
    model = resource._meta.model
    if (
        type(resource).init_instance is not ModelResource.init_instance
        or not inits_plainly(model)
        or any(
            (field.has_default() and callable(field.default))
            or field.db_default is not NOT_PROVIDED
            for field in model._meta.concrete_fields
        )
    ):
        return NewInstances(resource)
    return _BlankCopies(resource, model())


class RowApplier:
    """Sets a row's cells on its instance: what ``import_instance`` does for one row.

    ``takes_keys`` says whether the row's already cleaned key cells are used
    instead of cleaning those cells again.
    """

    takes_keys = False

    def __init__(self, resource: Any) -> None:
        self.resource = resource

    def __call__(
        self,
        instance: Model,
        row: dict[str, Any],
        kwargs: dict[str, Any],
        key_values: list[Any] | None,
    ) -> None:
        self.resource.import_instance(instance, row, **kwargs)


class _PlainFieldsApplier(RowApplier):
    """Stock's ``import_instance`` loop without its per-field detours.

    Stock's ``import_instance`` calls ``import_field``, then ``Field.save``,
    then ``Field.clean`` for every cell of every row: three calls, an
    attribute path split and a logging guard per cell before the widget runs.
    For plain ``Field`` objects on direct attributes this loop does what those
    calls do, in the same order, with the same errors; a key cell takes the
    value the lookup cleaned (stock cleans it twice, to the same value).
    """

    takes_keys = True

    def __init__(self, resource: Any, steps: list[tuple[Any, ...]]) -> None:
        super().__init__(resource)
        self.steps = steps

    def __call__(
        self,
        instance: Model,
        row: dict[str, Any],
        kwargs: dict[str, Any],
        key_values: list[Any] | None,
    ) -> None:
        errors = {}
        for field, column, attribute, saves_null, widget_clean, has_default, key in self.steps:
            if column not in row:
                continue
            try:
                if key is not None and key_values is not None:
                    cleaned = key_values[key]
                else:
                    cleaned = widget_clean(row[column], row=row, **kwargs)
                    if has_default and cleaned in field.empty_values:
                        cleaned = _field_default(field)
                if cleaned is not None or saves_null:
                    setattr(instance, attribute, cleaned)
            except ValueError as exc:
                errors[attribute] = ValidationError(force_str(exc), code="invalid")
        if errors:
            raise ValidationError(errors)


def row_applier(resource: Any, key_names: Sequence[str] = ()) -> RowApplier:
    """The fastest :class:`RowApplier` that does exactly what the resource's own would.

    When DEBUG is enabled for stock's logger, the resource's own
    ``import_instance`` runs: its ``import_field`` logs each field it skips
    (a column missing from the row, a field without attribute), lines people
    read to debug their column mappings.
    """
    kind = type(resource)
    if (
        kind.import_instance not in (ModelResource.import_instance, import_instance_keeping_pk)
        or kind.import_field is not ModelResource.import_field
        or stock_logger().isEnabledFor(logging.DEBUG)
    ):
        return RowApplier(resource)
    key_positions = {id(resource.fields[name]): i for i, name in enumerate(key_names)}
    steps = []
    for field in resource.get_import_fields():
        if isinstance(field.widget, ManyToManyWidget) or not field.attribute:
            continue
        replaced = {"save", "clean"} & set(vars(field))
        if type(field) is not Field or "__" in field.attribute or replaced:
            return RowApplier(resource)
        if field.readonly:
            continue
        steps.append(
            (
                field,
                field.column_name,
                field.attribute,
                field.saves_null_values,
                field.widget.clean,
                field.default != NOT_PROVIDED,
                key_positions.get(id(field)),
            )
        )
    return _PlainFieldsApplier(resource, steps)


def key_cleaner(fields: Sequence[Any]) -> Callable[[dict[str, Any]], list[Any]]:
    """``row -> [field.clean(row) for field in fields]``, ``Field.clean`` inlined for plain fields.

    What stock's instance loader does for the key: each key field's
    ``clean(row)``, without the import's keyword arguments.
    """
    steps = [
        (field, field.widget.clean, field.default != NOT_PROVIDED)
        if type(field) is Field and "clean" not in vars(field)
        else (field, None, False)
        for field in fields
    ]

    def clean_key(row: dict[str, Any]) -> list[Any]:
        cleaned = []
        for field, widget_clean, has_default in steps:
            if widget_clean is None or field.column_name not in row:
                value = field.clean(row)  # raises stock's "Column ... not found"
            else:
                value = widget_clean(row[field.column_name], row=row)
                if has_default and value in field.empty_values:
                    value = _field_default(field)
            cleaned.append(value)
        return cleaned

    return clean_key


def _field_default(field: Field) -> Any:
    """What ``Field.clean`` gives for an empty cell of a field with a default."""
    default = field.default
    return default() if callable(default) else default


def inits_plainly(model: type[Model]) -> bool:
    """Whether ``Model.__init__`` is all that runs when an instance of ``model`` is made.

    No ``__init__`` of its own and no ``pre_init``/``post_init`` receivers:
    an instance can then be built by hand (a copy, a filled ``__dict__``).
    """
    return (
        model.__init__ is Model.__init__
        and not signals.pre_init.has_listeners(model)
        and not signals.post_init.has_listeners(model)
    )


def overrides(resource: Any, hook: str) -> bool:
    """Whether ``resource`` has its own version of one of DIE's per-row hooks.

    DIE's own hooks do nothing (``skip_row`` skips nothing unless
    ``skip_unchanged`` is set); an import calls each of them once per row, so
    the ones a resource does not override are not called at all.
    """
    return hook in vars(resource) or getattr(type(resource), hook) is not getattr(
        ModelResource, hook
    )


#: Whether the installed DIE checks a found record's primary key after the row
#: is applied (4.4.6 and later): a blank one is taken as not given, another one
#: fails the row ("The primary key of an existing instance cannot be changed by
#: an import"). Older versions assign it, so that ``save()`` writes another row.
STOCK_CHECKS_PK = hasattr(ModelResource, "_check_pk_unchanged")


def stored_pk(resource: Any, instance: Model) -> Any:
    """What :func:`keep_stored_pk` needs of a found record, read before the row is applied."""
    if STOCK_CHECKS_PK:
        return resource._get_pk_values(instance)
    return instance.pk


def gives_pk_to_unsaved(resource: Any, instance: Model, pk: Any) -> bool:
    """Whether the row gives a pk where the record it updates has none yet.

    That record is one an earlier row of the chunk creates: stock would
    compare the row's pk with the one the database gave it, so the chunk is
    replayed row by row the stock way.
    """
    if not STOCK_CHECKS_PK:
        return False
    imported = resource._get_pk_values(instance)
    return any(old is None and new is not None for old, new in zip(pk, imported, strict=True))


def keep_stored_pk(resource: Any, instance: Model, pk: Any) -> None:
    """Give a stored record back the pk the row's ``id`` cell took from it.

    Where DIE checks the pk itself, its own check runs, so that a row naming
    another record's pk fails with stock's message. On older versions, a blank
    ``id`` cell in a file keyed on other columns would set the found record's
    pk to ``None`` and ``save()`` would insert a copy while the row is reported
    as an update. The row means "update this record", so the record keeps its
    pk and is updated in place (a deliberate difference there, listed in
    docs/semantics.md; DIE 4.4.6 made the same choice).
    """
    if STOCK_CHECKS_PK:
        resource._check_pk_unchanged(instance, pk)
    elif pk is not None and instance.pk is None:
        instance.pk = pk


def import_instance_keeping_pk(resource: Any, instance: Model, row: Any, **kwargs: Any) -> None:
    """``ModelResource.import_instance``, except that a stored record keeps its pk.

    See :func:`keep_stored_pk`; this covers the paths where stock's
    ``import_row`` runs (a chunk replayed row by row, a resource imported the
    stock way).
    """
    if STOCK_CHECKS_PK:  # stock's import_row checks the pk after this returns
        ModelResource.import_instance(resource, instance, row, **kwargs)
        return
    pk = None if instance._state.adding else instance.pk
    ModelResource.import_instance(resource, instance, row, **kwargs)
    keep_stored_pk(resource, instance, pk)
