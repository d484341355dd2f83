"""One query per chunk: existing rows by key, and foreign keys given by natural key.

Stock django-import-export resolves ``ForeignKeyWidget(Account, "number")`` with
one ``get()`` per row and cell. Here the chunk's distinct cell values are looked
up together (:func:`prefetched_foreign_keys`) and the widget answers from that
answer for the rest of the chunk, raising the very exception ``get()`` would
have raised for a value that matches nothing or more than one object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
from django.db import connections
from django.db.models import Model
from import_export.widgets import ForeignKeyWidget

from .keys import KeySpec, concrete_field
from .lookup import match_keys, start_matching

#: Django's limit on the objects ``get()`` counts before it gives up.
_MAX_GET_RESULTS = 21

#: django-import-export 4.4 resolves a cell through the widget's
#: ``get_instance_by_lookup_fields``; 4.3 calls ``get_queryset(...).get()``
#: from ``clean`` itself.
_RESOLVES_BY_LOOKUP_FIELDS = hasattr(ForeignKeyWidget, "get_instance_by_lookup_fields")


def does_not_exist(model: type[Model]) -> ObjectDoesNotExist:
    """The exception ``model.objects.get()`` raises for no match, with its message."""
    return model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")


def multiple_returned(model: type[Model], count: int) -> MultipleObjectsReturned:
    """The exception ``get()`` raises for several matches, with its message."""
    shown = count if count < _MAX_GET_RESULTS else f"more than {_MAX_GET_RESULTS - 1}"
    return model.MultipleObjectsReturned(
        f"get() returned more than one {model._meta.object_name} -- it returned {shown}!"
    )


def single(model: type[Model], found: Sequence[Model]) -> Model:
    """What ``get()`` returns for these matches, or raises."""
    if len(found) == 1:
        return found[0]
    if not found:
        raise does_not_exist(model)
    raise multiple_returned(model, len(found))


@dataclasses.dataclass
class _ForeignKeyAnswers:
    """Prefetched answers of one widget: raw cell value -> object or exception."""

    by_value: dict[Any, Model | Exception]

    def answer(self, value: Any) -> Model:
        found = self.by_value[value]
        if isinstance(found, Exception):
            raise type(found)(*found.args)
        return found

    def answer_or(self, value: Any, otherwise: Callable[[], Any]) -> Any:
        """:meth:`answer`, or ``otherwise()`` where it raises KeyError or TypeError.

        That is a value not looked up, an unhashable cell, or a value whose
        preparation raised TypeError: the widget's own lookup then runs.
        """
        try:
            return self.answer(value)
        except (KeyError, TypeError):
            return otherwise()


def batchable_widget(widget: Any) -> bool:
    """Whether a widget's per-row ``get()`` can be replaced by one query per chunk.

    Only the stock lookup shape qualifies: ``get(<field>=value)`` on a plain
    column of the related model. Natural-key widgets, widgets that override
    ``get_lookup_kwargs`` and lookups spanning relations keep their per-row
    queries; set ``bulk_prefetch = False`` on a widget whose ``get_queryset``
    depends on the row to keep it per row too.
    """
    if not isinstance(widget, ForeignKeyWidget) or widget.use_natural_foreign_keys:
        return False
    if not getattr(widget, "bulk_prefetch", True):
        return False
    if type(widget).get_lookup_kwargs is not ForeignKeyWidget.get_lookup_kwargs:
        return False
    if _RESOLVES_BY_LOOKUP_FIELDS and type(widget).get_instance_by_lookup_fields is not (
        ForeignKeyWidget.get_instance_by_lookup_fields  # type: ignore[attr-defined]
    ):
        return False
    return _target_field(widget) is not None


def _target_field(widget: ForeignKeyWidget) -> Any:
    """The related model's field that ``widget.field`` names, if a plain column."""
    return concrete_field(widget.model, widget.field)


def _lookup_values(
    widget: ForeignKeyWidget, column: str, rows: Sequence[dict[str, Any]]
) -> tuple[list[Any], dict[str, Any] | None]:
    """Distinct truthy cell values (stock looks up only those) and a sample row."""
    seen: dict[Any, None] = {}
    sample = None
    for row in rows:
        value = row.get(column)
        if not value:
            continue
        try:
            seen.setdefault(value, None)
        except TypeError:  # unhashable cell: leave it to the per-row lookup
            continue
        if sample is None:
            sample = row
    return list(seen), sample


def prefetch_widget(
    widget: ForeignKeyWidget, column: str, rows: Sequence[dict[str, Any]], using: str
) -> _ForeignKeyAnswers:
    """Look up every distinct value of ``column`` among ``rows`` in one query."""
    values, sample = _lookup_values(widget, column, rows)
    if not values or sample is None:
        return _ForeignKeyAnswers({})
    queryset = widget.get_queryset(sample[column], sample)
    target = _target_field(widget)
    by_value: dict[Any, Model | Exception] = {}
    keys: list[tuple[Any, ...]] = []
    key_values: list[Any] = []
    connection = connections[using]
    for value in values:
        try:
            prepped = target.get_prep_value(value)
            db_value = target.get_db_prep_value(prepped, connection, prepared=True)
        except Exception as exc:  # the ORM would raise this from get()
            by_value[value] = exc
            continue
        if db_value is None:
            continue
        keys.append((db_value,))
        key_values.append(value)
    found = match_keys(queryset, [target], keys, using)
    for index, value in enumerate(key_values):
        try:
            by_value[value] = single(widget.model, found.get(index, []))
        except (ObjectDoesNotExist, MultipleObjectsReturned) as exc:
            by_value[value] = exc
    return _ForeignKeyAnswers(by_value)


@contextmanager
def prefetched_foreign_keys(
    resource: Any, rows: Sequence[dict[str, Any]], using: str
) -> Iterator[None]:
    """While the chunk is processed, its foreign-key widgets answer from one query each."""
    patched = []
    headers = set(rows[0]) if rows else set()
    for field in resource.get_import_fields():
        widget = field.widget
        if field.column_name not in headers or not batchable_widget(widget):
            continue
        answers = prefetch_widget(widget, field.column_name, rows, using)
        if _RESOLVES_BY_LOOKUP_FIELDS:
            widget.get_instance_by_lookup_fields = _answering_lookup(
                answers, widget.get_instance_by_lookup_fields
            )
            patched.append((widget, "get_instance_by_lookup_fields"))
        else:
            widget.get_queryset = _answering_queryset(answers, widget.field, widget.get_queryset)
            patched.append((widget, "get_queryset"))
    try:
        yield
    finally:
        for widget, name in patched:
            delattr(widget, name)


def _answering_lookup(answers: _ForeignKeyAnswers, original: Any) -> Callable[..., Model]:
    """``get_instance_by_lookup_fields`` answering from the chunk's query (DIE 4.4)."""

    def lookup(value: Any, row: Any, **kwargs: Any) -> Model:
        return answers.answer_or(value, lambda: original(value, row, **kwargs))

    return lookup


def _answering_queryset(
    answers: _ForeignKeyAnswers, field: str, original: Any
) -> Callable[..., _AnsweringQuerySet]:
    """``get_queryset`` whose result answers ``get(<field>=value)`` from the chunk's query.

    For DIE 4.3, whose ``ForeignKeyWidget.clean`` calls ``get_queryset`` itself.
    """

    def get_queryset(value: Any, row: Any, *args: Any, **kwargs: Any) -> _AnsweringQuerySet:
        return _AnsweringQuerySet(
            answers, value, {field: value}, lambda: original(value, row, *args, **kwargs)
        )

    return get_queryset


class _AnsweringQuerySet:
    """What DIE 4.3's ``ForeignKeyWidget.clean`` gets from ``get_queryset(value, row)``.

    Its ``get(<field>=value)``, the call ``clean`` makes, answers from the
    chunk's query as DIE 4.4's patched lookup does. Any other use (another
    ``get()``, a ``filter()`` in an overridden ``clean``) goes to the queryset
    the widget's own ``get_queryset`` returns, made only then.
    """

    def __init__(
        self,
        answers: _ForeignKeyAnswers,
        value: Any,
        lookup: dict[str, Any],
        make: Callable[[], Any],
    ) -> None:
        self._answers = answers
        self._value = value
        self._lookup = lookup
        self._make = make

    def get(self, *args: Any, **kwargs: Any) -> Any:
        def real_get() -> Any:
            return self._make().get(*args, **kwargs)

        if not args and kwargs == self._lookup:
            return self._answers.answer_or(self._value, real_get)
        return real_get()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._make(), name)


def fetch_existing(
    resource: Any, spec: KeySpec, db_keys: Sequence[tuple[Any, ...]], background: bool = False
) -> Callable[[], dict[int, list[Model]]]:
    """Stored instances matching each key, by index, from the call it returns (start_matching)."""
    assert spec.model_fields is not None
    return start_matching(
        resource.get_queryset(), spec.model_fields, db_keys, spec.using, background
    )


@contextmanager
def remembered_cleaning(fields: Sequence[Any]) -> Iterator[None]:
    """Clean each key cell once per chunk, not once for the lookup and again to save.

    Stock cleans a key column twice per row (the instance loader, then
    ``import_field``); widgets are pure functions of the cell and the row, so
    the second call returns the first one's value for the same row object.
    """
    patched = []
    for field in fields:
        original = field.clean
        memo: dict[int, tuple[dict[str, Any], Any]] = {}

        def clean(
            row: dict[str, Any],
            _original: Any = original,
            _memo: dict[int, tuple[dict[str, Any], Any]] = memo,
            **kwargs: Any,
        ) -> Any:
            remembered = _memo.get(id(row))
            if remembered is not None and remembered[0] is row:
                return remembered[1]
            value = _original(row, **kwargs)
            _memo[id(row)] = (row, value)
            return value

        field.clean = clean
        patched.append(field)
    try:
        yield
    finally:
        for field in patched:
            del field.clean
