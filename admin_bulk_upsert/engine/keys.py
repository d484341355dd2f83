"""Key tuples from a resource's ``import_id_fields``.

A row's key is what stock django-import-export passes to ``queryset.get()``:
each key field's ``field.clean(row)``, under the field's ``attribute``. This
module turns those cleaned values into the values the database compares
(:meth:`KeySpec.db_values`) and into a hashable form for grouping rows of one
file that will be equal once stored (:meth:`KeySpec.lookup_key`), with the
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
from django.db.models import DecimalField, Field, ForeignObject, IntegerField, Model

from .as_stored import ReadBack
from .db_params import lookup_preparer


@dataclasses.dataclass(eq=False, slots=True)
class KeyHint:
    """A row's key as it was looked up: its column values, as sent, and its group key."""

    parts: tuple[Any, ...]
    db_values: tuple[Any, ...]
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
    #: Per key part: the quantum a decimal column rounds its values to, or None. SQLite
    #: keeps every digit; PostgreSQL and MariaDB round to the column's places.
    _quanta: tuple[Decimal | None, ...] = ()
    #: How those databases round a value half way (see :class:`.as_stored.ReadBack`).
    _rounding: str | None = None
    #: Per key part: whether it is the model's primary key.
    _primary: tuple[bool, ...] = ()
    #: Per key part: the (low, high) an integer column holds on this database, or None.
    #: Django's ``exact`` lookup finds nothing for a value outside it (no query is sent).
    _ranges: tuple[tuple[int, int] | None, ...] = ()

    @classmethod
    def build(cls, resource: Any, field_names: Sequence[str], using: str) -> KeySpec:
        model = resource._meta.model
        attributes = tuple(resource.fields[name].attribute for name in field_names)
        model_fields = _concrete_fields(model, attributes)
        connection = connections[using]
        rounding = None
        folds: tuple[Callable[[Any], Any], ...] = ()
        preparers: tuple[Callable[[Any], Any], ...] = ()
        targets: tuple[str | None, ...] = ()
        quanta: tuple[Decimal | None, ...] = ()
        if model_fields is not None:
            folds = tuple(_text_fold(connection, f) for f in model_fields)
            preparers = tuple(lookup_preparer(f, connection) for f in model_fields)
            targets = tuple(
                f.target_field.attname if isinstance(f, ForeignObject) else None
                for f in model_fields
            )
            rounding = ReadBack.of(using).rounding
            quanta = tuple(
                Decimal(1).scaleb(-f.decimal_places)
                if rounding is not None and isinstance(f, DecimalField)
                else None
                for f in model_fields
            )
        primary = tuple(
            attribute == "pk" or getattr(concrete_field(model, attribute), "primary_key", False)
            for attribute in attributes
        )
        ranges = tuple(integer_range(connection, f) for f in model_fields or ())
        return cls(
            tuple(field_names),
            attributes,
            model_fields,
            using,
            folds,
            preparers,
            targets,
            quanta,
            _rounding=rounding,
            _primary=primary,
            _ranges=ranges,
        )

    @property
    def batchable(self) -> bool:
        return self.model_fields is not None

    def matches_nothing(self, cleaned: Sequence[Any]) -> bool:
        """Whether stock's ``get()`` of this key can find no record at all: a blank pk.

        ``get(pk=None)`` asks for ``pk IS NULL``, which no stored record is and
        no record an earlier row creates will be (it gets its pk when saved).
        So each row with a blank ``id`` (DIE's default key) is a new record of
        its own, never an update of another blank-id row's record. A blank
        value in any other column is compared as ``get(column=None)`` compares
        it (``IS NULL``).
        """
        return any(
            primary and value is None for primary, value in zip(self._primary, cleaned, strict=True)
        )

    def prepare_parts(self, cleaned: Sequence[Any]) -> None:
        """Prepare each non-blank part as the ORM would, raising what ``get()`` would raise.

        For a key that :meth:`matches_nothing`: its row fails as stock's does
        when another part is a value its column cannot take, without a query.
        """
        for target, prepare, value in zip(self._targets, self._preparers, cleaned, strict=True):
            if target is not None and isinstance(value, Model):
                value = getattr(value, target)
            if value is not None:
                prepare(value)

    def alone_key(self, cleaned: Sequence[Any]) -> Any:
        """The group key of a key looked up on its own (a blank part, an out-of-range value).

        Its parts compare as the database compares them, as in :meth:`lookup_key`
        (text folded by the collation, aware datetimes as instants: a time in the
        repeated hour of a DST change equals no datetime of another zone in
        Python, yet it is the same instant), blank parts as ``None``. A part that
        cannot be prepared is kept as cleaned.
        """
        if not self.batchable:
            return ("alone", tuple(_as_utc(value) for value in cleaned))
        parts = []
        for target, prepare, fold, value in zip(
            self._targets, self._preparers, self._text_folds, cleaned, strict=True
        ):
            if target is not None and isinstance(value, Model):
                value = getattr(value, target)
            if value is not None:
                try:
                    value = fold(_as_utc(prepare(value)))
                except Exception:  # get() raised first for a value the column refuses
                    value = _as_utc(value)
            parts.append(value)
        return ("alone", tuple(parts))

    def lookup_kwargs(self, cleaned: Sequence[Any]) -> dict[str, Any]:
        """The ``get()`` arguments stock would use: the fallback lookup."""
        return dict(zip(self.attributes, cleaned, strict=True))

    def db_values(self, cleaned: Sequence[Any]) -> tuple[Any, ...] | None:
        """Database-ready values of a key, or ``None`` if a part is NULL.

        An aware datetime is given in UTC: the same instant, which is what
        the database compares.

        Raises what the ORM's ``exact`` lookup would raise for a value the
        field cannot take (``Field 'id' expected a number but got 'x'.``), so
        the row fails with stock's message.
        """
        hint = self.lookup_key(cleaned)
        return hint.db_values if hint is not None else None

    def lookup_key(self, cleaned: Sequence[Any]) -> KeyHint | None:
        """The key's column values, :meth:`db_values` and group key, or None for NULL.

        The column values are what the key's columns take (a related instance
        gives its target's value). One pass, since it runs once per row.
        """
        parts = []
        values = []
        grouped = []
        for target, prepare, fold, limits, value in zip(
            self._targets, self._preparers, self._text_folds, self._ranges, cleaned, strict=True
        ):
            if target is not None and isinstance(value, Model):
                value = getattr(value, target)
            if value is None:
                return None
            prepped = prepare(value)
            if prepped is None:
                return None
            if limits is not None and not limits[0] <= prepped <= limits[1]:
                # Out of the column's range: the ORM's lookup matches nothing
                # (sending it in a batch would fail the statement on PostgreSQL).
                return None
            # The group key stands for the value under the database's
            # equality: text folded as its collation compares, and aware
            # datetimes as instants (Python compares two datetimes of one
            # zone by wall time, so 02:30 before and after a DST change
            # would be equal; to the database they are not). The instant in
            # UTC is also what is sent: the same value to a timestamptz
            # column, and half the cost to write out in fixed-offset UTC.
            prepped = _as_utc(prepped)
            parts.append(value)
            values.append(prepped)
            grouped.append(fold(prepped) if fold is not _identity else prepped)
        return KeyHint(tuple(parts), tuple(values), ("key", tuple(grouped)))

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
        values = []
        unchanged = hint is not None
        for position, (field, quantum) in enumerate(
            zip(self.model_fields, self._quanta, strict=True)
        ):
            value = getattr(instance, field.attname)
            if unchanged and value is not hint.parts[position]:  # type: ignore[union-attr]
                unchanged = False
            if quantum is not None and isinstance(value, Decimal):
                try:
                    rounded = value.quantize(
                        quantum,
                        rounding=self._rounding,
                        context=field.context,  # type: ignore[attr-defined]
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
            stored = self.lookup_key(values)
        except Exception:  # a value the column cannot take: the write fails
            return None
        return stored.key if stored is not None else None


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


def integer_range(connection: Any, field: Field[Any, Any]) -> tuple[int, int] | None:
    """The values an integer column holds on this database (a foreign key: its target's)."""
    column = field.target_field if isinstance(field, ForeignObject) else field
    if not isinstance(column, IntegerField):
        return None
    try:
        low, high = connection.ops.integer_field_range(column.get_internal_type())
    except (KeyError, AttributeError):
        return None
    if low is None or high is None:
        return None
    return (low, high)


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
    by the database itself (see :mod:`admin_bulk_upsert.engine.lookup`).
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
