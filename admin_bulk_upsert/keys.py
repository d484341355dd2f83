"""Key tuples from a resource's ``import_id_fields``.

A row's key is what stock django-import-export passes to ``queryset.get()``:
each key field's ``field.clean(row)``, under the field's ``attribute``. This
module turns those cleaned values into the values the database compares
(:meth:`KeySpec.db_values`) and into a hashable form for grouping rows of one
file that will be equal once stored (:meth:`KeySpec.group_key`), with the
database's notion of equality for text on MariaDB.
"""

from __future__ import annotations

import dataclasses
import datetime
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import DateTimeField, DecimalField, Field, ForeignObject, Model


@dataclasses.dataclass(frozen=True)
class KeyHint:
    """A row's key as it was looked up: its column values and its group key."""

    parts: tuple[Any, ...]
    key: Any


@dataclasses.dataclass(frozen=True)
class KeySpec:
    """How the resource's key fields map to model fields on one database.

    ``model_fields`` is ``None`` when a key attribute is not a plain concrete
    field of the model (``"author__name"``, a property): such keys can only be
    looked up the stock way, one ``get()`` per row.
    """

    resource_field_names: tuple[str, ...]
    attributes: tuple[str, ...]
    model_fields: tuple[Field[Any, Any], ...] | None
    using: str
    _text_folds: tuple[Callable[[Any], Any], ...]
    _preparers: tuple[Callable[[Any], Any], ...] = ()
    #: Per key part: the attribute a related instance gives its value from, or None.
    _targets: tuple[str | None, ...] = ()
    #: Whether the database rounds a decimal to its column's places (SQLite keeps every digit;
    #: PostgreSQL and MariaDB round).
    _rounds_decimals: bool = True

    @classmethod
    def build(cls, resource: Any, field_names: Sequence[str], using: str) -> KeySpec:
        model = resource._meta.model
        attributes = tuple(resource.fields[name].attribute for name in field_names)
        model_fields = _concrete_fields(model, attributes)
        connection = connections[using]
        folds: tuple[Callable[[Any], Any], ...] = ()
        preparers: tuple[Callable[[Any], Any], ...] = ()
        targets: tuple[str | None, ...] = ()
        if model_fields is not None:
            folds = tuple(_text_fold(connection, f) for f in model_fields)
            preparers = tuple(_preparer(f, connection) for f in model_fields)
            targets = tuple(
                f.target_field.attname if isinstance(f, ForeignObject) else None
                for f in model_fields
            )
        return cls(
            tuple(field_names),
            attributes,
            model_fields,
            using,
            folds,
            preparers,
            targets,
            _rounds_decimals=connection.vendor != "sqlite",
        )

    @property
    def batchable(self) -> bool:
        return self.model_fields is not None

    def lookup_kwargs(self, cleaned: Sequence[Any]) -> dict[str, Any]:
        """The ``get()`` arguments stock would use: the fallback lookup."""
        return dict(zip(self.attributes, cleaned, strict=True))

    def db_values(self, cleaned: Sequence[Any]) -> tuple[Any, ...] | None:
        """Database-ready values of a key, or ``None`` if a part is NULL.

        Raises what the ORM's ``exact`` lookup would raise for a value the
        field cannot take (``Field 'id' expected a number but got 'x'.``), so
        the row fails with stock's message.
        """
        return self.prepare(self.parts(cleaned))

    def parts(self, cleaned: Sequence[Any]) -> tuple[Any, ...]:
        """The values the key's columns take: a related instance gives its target's value."""
        assert self.model_fields is not None
        return tuple(
            [
                getattr(value, target) if target is not None and isinstance(value, Model) else value
                for target, value in zip(self._targets, cleaned, strict=True)
            ]
        )

    def prepare(self, parts: Sequence[Any]) -> tuple[Any, ...] | None:
        """:meth:`db_values` of the key's :meth:`parts`."""
        values = []
        for prepare, value in zip(self._preparers, parts, strict=True):
            if value is None:
                return None
            prepped = prepare(value)
            if prepped is None:
                return None
            values.append(prepped)
        return tuple(values)

    def stored_key(self, instance: Model, hint: KeyHint | None = None) -> Any:
        """The group key of ``instance`` as the database will store it, or None.

        Decimals are rounded to their column's places, as PostgreSQL and
        MariaDB round them on the way in; a value that does not fit gives None
        (the write will fail and the chunk be replayed).

        ``hint`` is the key the row was looked up with. When the instance
        still holds those very values (no hook replaced them) and rounding
        changes none of them, that key is the answer and nothing is prepared
        again.
        """
        if self.model_fields is None:
            return None
        rounds = self._rounds_decimals
        values = []
        unchanged = hint is not None
        for position, field in enumerate(self.model_fields):
            value = getattr(instance, field.attname)
            if unchanged and value is not hint.parts[position]:  # type: ignore[union-attr]
                unchanged = False
            if rounds and isinstance(field, DecimalField) and isinstance(value, Decimal):
                try:
                    rounded = value.quantize(
                        Decimal(1).scaleb(-field.decimal_places), context=field.context
                    )
                except InvalidOperation:
                    return None
                if rounded != value:
                    unchanged = False
                value = rounded
            values.append(value)
        if unchanged:
            return hint.key  # type: ignore[union-attr]
        try:
            db_values = self.db_values(values)
        except Exception:  # a value the column cannot take: the write fails
            return None
        return ("key", self.group_key(db_values)) if db_values is not None else None

    def group_key(self, db_values: tuple[Any, ...]) -> tuple[Any, ...]:
        """A hashable stand-in for ``db_values`` under the database's equality.

        Aware datetimes are compared as instants: Python compares two
        datetimes of the same zone by wall time, so 02:30 before and after a
        DST change would be equal, which they are not to the database.
        """
        return tuple(
            [
                fold(_as_utc(value)) if fold is not _identity else _as_utc(value)
                for fold, value in zip(self._text_folds, db_values, strict=True)
            ]
        )


def _preparer(field: Field[Any, Any], connection: Any) -> Callable[[Any], Any]:
    """``value -> field.get_db_prep_value(field.get_prep_value(value), prepared=True)``.

    That is what the ORM's ``exact`` lookup sends for a value, and it runs for
    every key part of every row. For a Django field class (not a subclass
    with its own conversions) and the value type its widget produces, the
    result is known without the method chain: an aware datetime or a finite
    Decimal goes straight to the backend's adapter, and text or integers
    (account numbers, foreign key ids) repeat, so their answer is remembered.
    ``None`` from ``get_prep_value`` means a NULL key part.
    """

    def generic(value: Any) -> Any:
        prepped = field.get_prep_value(value)
        if prepped is None:
            return None
        return field.get_db_prep_value(prepped, connection, prepared=True)

    kind = type(field)
    if _stock_conversions(kind, DateTimeField):
        adapt_datetime = connection.ops.adapt_datetimefield_value

        def prepare_datetime(value: Any) -> Any:
            if type(value) is datetime.datetime and value.utcoffset() is not None:
                return adapt_datetime(value)
            return generic(value)

        return prepare_datetime
    if _stock_conversions(kind, DecimalField):
        adapt_decimal = connection.ops.adapt_decimalfield_value
        max_digits, places = field.max_digits, field.decimal_places  # type: ignore[attr-defined]

        def prepare_decimal(value: Any) -> Any:
            if type(value) is Decimal and value.is_finite():
                return adapt_decimal(value, max_digits, places)
            return generic(value)

        return prepare_decimal
    target = field.target_field if isinstance(field, ForeignObject) else field
    if not (_is_django_field(kind) and _is_django_field(type(target))):
        return generic
    remembered: dict[Any, Any] = {}

    def prepare_remembered(value: Any) -> Any:
        if type(value) is not int and type(value) is not str:
            return generic(value)
        try:
            return remembered[value]
        except KeyError:
            prepped = remembered[value] = generic(value)
            if len(remembered) > _REMEMBERED_VALUES:
                remembered.clear()
            return prepped

    return prepare_remembered


#: How many distinct text or integer key values a key part remembers.
_REMEMBERED_VALUES = 10_000


def _stock_conversions(kind: type[Any], base: type[Any]) -> bool:
    """Whether ``kind`` converts values exactly as Django's ``base`` field class does."""
    return issubclass(kind, base) and all(
        getattr(kind, name) is getattr(base, name)
        for name in ("get_prep_value", "get_db_prep_value", "to_python")
    )


def _is_django_field(kind: type[Any]) -> bool:
    """A field class of Django's own, whose conversions are pure functions of the value."""
    return kind.__module__.startswith("django.db.models.")


def _as_utc(value: Any) -> Any:
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        return value.astimezone(datetime.timezone.utc)
    return value


def concrete_field(model: type[Model], attribute: str | None) -> Field[Any, Any] | None:
    """The concrete, non-m2m model field an attribute names (``"pk"`` included), or None.

    Only such a field is a column the batched lookup can join on; a property,
    a relation path (``"author__name"``) or a many-to-many field is not.
    """
    if not attribute:
        return None
    if attribute == "pk":
        return model._meta.pk
    try:
        field = model._meta.get_field(attribute)
    except FieldDoesNotExist:
        return None
    if not getattr(field, "concrete", False) or field.many_to_many:
        return None
    return field  # type: ignore[return-value]


def _concrete_fields(
    model: type[Model], attributes: Sequence[str]
) -> tuple[Field[Any, Any], ...] | None:
    fields = [concrete_field(model, attribute) for attribute in attributes]
    if any(field is None for field in fields):
        return None
    return tuple(fields)  # type: ignore[arg-type]


def _identity(value: Any) -> Any:
    return value


def _fold_case_insensitive(value: Any) -> Any:
    """MariaDB's ``*_ci`` PAD SPACE collations: case, accents and trailing spaces."""
    if not isinstance(value, str):
        return value
    decomposed = unicodedata.normalize("NFKD", value.rstrip(" "))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _fold_pad_space(value: Any) -> Any:
    return value.rstrip(" ") if isinstance(value, str) else value


def _text_fold(connection: Any, field: Field[Any, Any]) -> Callable[[Any], Any]:
    """How the database compares this column's text, as a Python function.

    Only MariaDB/MySQL needs one: its default collations ignore case and
    trailing spaces. The fold decides only which rows *of the file* share a
    key that is not stored yet; matching against stored rows is always done
    by the database itself (see :mod:`admin_bulk_upsert.matching`).
    """
    if connection.vendor != "mysql" or field.get_internal_type() not in {
        "CharField",
        "TextField",
        "SlugField",
        "EmailField",
        "URLField",
    }:
        return _identity
    collation = getattr(field, "db_collation", None) or _column_collation(connection, field)
    if collation.endswith("_ci"):
        return _fold_case_insensitive
    if "nopad" in collation:
        return _identity
    return _fold_pad_space


def _column_collation(connection: Any, field: Field[Any, Any]) -> str:
    cache = connection.__dict__.setdefault("_admin_bulk_upsert_collations", {})
    cache_key = (field.model._meta.db_table, field.column)
    if cache_key not in cache:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT collation_name FROM information_schema.columns "
                "WHERE table_schema = DATABASE() AND table_name = %s AND column_name = %s",
                list(cache_key),
            )
            found = cursor.fetchone()
        cache[cache_key] = (found[0] if found and found[0] else "utf8mb4_general_ci").lower()
    return str(cache[cache_key])
