"""A model field's value as the database receives it, without Django's method chain per value.

Django turns a value into what the driver sends through a chain of field
methods (``get_prep_value``, ``to_python``, ``get_db_prep_value``, the
backend's adapter). The ORM runs that chain once per value of a lookup and
once per value of a save; an import runs it for every key part and every
column of every row. For a field class of Django's own (not a subclass with
conversions of its own) and the value types widgets produce, the chain's
answer is known in one step:

- an aware ``datetime`` for a ``DateTimeField``, a finite ``Decimal`` for a
  ``DecimalField``: straight to the backend's adapter, as the chain ends;
- a ``str`` for a ``CharField`` or ``TextField``: the value itself;
- an ``int`` or ``str`` for any other field of Django's own (foreign key ids,
  account numbers): the chain's answer, remembered per value, since such
  values repeat and the chain is a pure function of the value.

Every other value takes the chain itself, so errors and warnings are Django's.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import CharField, DateTimeField, DecimalField, Field, ForeignObject, TextField

#: How many distinct values one preparer remembers before it starts afresh.
_REMEMBERED_VALUES = 10_000

#: The methods whose stock versions the one-step answers stand for.
_CONVERSIONS = ("get_prep_value", "get_db_prep_value", "get_db_prep_save", "to_python")


def lookup_preparer(field: Field[Any, Any], connection: Any) -> Callable[[Any], Any]:
    """``value -> get_db_prep_value(get_prep_value(value), prepared=True)``: what ``exact`` sends.

    ``None`` from ``get_prep_value`` comes back as ``None`` (a NULL key part).
    """

    def chain(value: Any) -> Any:
        prepped = field.get_prep_value(value)
        if prepped is None:
            return None
        return field.get_db_prep_value(prepped, connection, prepared=True)

    return _one_step(field, connection, chain)


def save_preparer(field: Field[Any, Any], connection: Any) -> Callable[[Any], Any]:
    """``value -> field.get_db_prep_save(value, connection)``: what a save sends."""

    def chain(value: Any) -> Any:
        return field.get_db_prep_save(value, connection)

    return _one_step(field, connection, chain)


def _one_step(
    field: Field[Any, Any], connection: Any, chain: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    kind = type(field)
    if _stock_conversions(kind, DateTimeField):
        adapt_datetime = connection.ops.adapt_datetimefield_value

        def prepare_datetime(value: Any) -> Any:
            if type(value) is datetime.datetime and value.utcoffset() is not None:
                return adapt_datetime(value)
            return chain(value)

        return prepare_datetime
    if _stock_conversions(kind, DecimalField):
        adapt_decimal = connection.ops.adapt_decimalfield_value
        max_digits, places = field.max_digits, field.decimal_places  # type: ignore[attr-defined]

        def prepare_decimal(value: Any) -> Any:
            if type(value) is Decimal and value.is_finite():
                return adapt_decimal(value, max_digits, places)
            return chain(value)

        return prepare_decimal
    if _stock_conversions(kind, CharField) or _stock_conversions(kind, TextField):

        def prepare_text(value: Any) -> Any:
            return value if type(value) is str else chain(value)

        return prepare_text
    target = field.target_field if isinstance(field, ForeignObject) else field
    if not (_is_django_field(kind) and _is_django_field(type(target))):
        return chain
    remembered: dict[Any, Any] = {}

    def prepare_remembered(value: Any) -> Any:
        if type(value) is not int and type(value) is not str:
            return chain(value)
        try:
            return remembered[value]
        except KeyError:
            prepped = remembered[value] = chain(value)
            if len(remembered) > _REMEMBERED_VALUES:
                remembered.clear()
            return prepped

    return prepare_remembered


def _stock_conversions(kind: type[Any], base: type[Any]) -> bool:
    """Whether ``kind`` converts values exactly as Django's ``base`` field class does."""
    return issubclass(kind, base) and all(
        getattr(kind, name) is getattr(base, name) for name in _CONVERSIONS
    )


def _is_django_field(kind: type[Any]) -> bool:
    """A field class of Django's own, whose conversions are pure functions of the value."""
    return kind.__module__.startswith("django.db.models.")
