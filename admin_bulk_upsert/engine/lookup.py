"""Find the stored rows that equal a batch of keys, in one query, the database's way.

Stock django-import-export asks ``queryset.get(**key)`` once per row, so the
database decides what "equal" means: ``12`` equals ``12.000``, and on MariaDB's
default collation ``"ABC"`` equals ``"abc "``. To keep exactly that meaning
while asking once per chunk, the keys travel to the database as a table of
values and are joined against the model's table::

    WITH k (i, c0, c1) AS (VALUES (%s, %s, %s), ...)
    SELECT k.i, t.col0, t.col1, ... FROM k INNER JOIN app_model t
        ON t.col0 = k.c0 AND t.col1 = k.c1
    [WHERE t.id IN (<the resource's queryset>)]

(on PostgreSQL the keys arrive as one array per column through ``unnest``,
the fastest shape measured there).

Each returned row carries the index of the key it matched, so a key that
matches two stored rows (no unique constraint) and a stored row that matches
two keys of the file are both seen, just as ``get()`` would see them.
The same statement runs on SQLite, PostgreSQL and MariaDB; it needs no
expression tree deeper than the join, so SQLite's depth limit that breaks an
OR of 1000 ``Q`` objects does not apply.
"""

from __future__ import annotations

import datetime
import functools
import inspect
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import Field, Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute

from .instances import inits_plainly
from .statement_thread import helper_threads_allowed, in_background

_TYPE_MODIFIER = re.compile(r"\(.*?\)")

#: Bind parameters allowed in one statement, by vendor (SQLite >= 3.32 allows
#: 32766; PostgreSQL's and MySQL's protocols cap at 65535).
_MAX_PARAMS = {"sqlite": 32766, "postgresql": 65535, "mysql": 65535}


def max_keys_per_query(vendor: str, key_width: int) -> int:
    """How many keys of ``key_width`` columns fit one statement's parameters."""
    return _MAX_PARAMS.get(vendor, 999) // (key_width + 1)


def _filter_sql(queryset: QuerySet[Any], using: str) -> tuple[str, tuple[Any, ...]] | None:
    """SQL selecting the pks of ``queryset`` when it filters anything, else None.

    An unfiltered queryset (``Model.objects.all()``) adds nothing but cost, so
    the join then reads the table alone.
    """
    if not queryset.query.where:
        return None
    pk_query = queryset.values("pk").query
    compiler = pk_query.get_compiler(using=using)
    sql, params = compiler.as_sql()
    return sql, tuple(params)


def match_keys(
    queryset: QuerySet[Any],
    fields: Sequence[Field[Any, Any]],
    keys: Sequence[Sequence[Any]],
    using: str,
) -> dict[int, list[Model]]:
    """Stored instances of ``queryset`` equal to each key, by the key's index.

    ``keys`` hold database-ready values (``get_db_prep_value`` applied), one
    per field in ``fields``, none of them ``None`` (SQL's ``=`` never matches
    NULL; callers look such keys up the stock way). Keys are sent in as few
    statements as the backend's parameter cap allows.
    """
    return start_matching(queryset, fields, keys, using)()


def start_matching(
    queryset: QuerySet[Any],
    fields: Sequence[Field[Any, Any]],
    keys: Sequence[Sequence[Any]],
    using: str,
    background: bool = False,
) -> Callable[[], dict[int, list[Model]]]:
    """Send :func:`match_keys`'s statements; the call it returns gives its answer.

    With ``background``, on PostgreSQL, the statement runs on a helper thread
    so that the caller can prepare other work while the database looks the
    keys up; the answer (or the statement's error) comes from the returned
    call, which must be made. psycopg runs one statement at a time per
    connection, so anything else sent meanwhile waits its turn. Elsewhere
    (and with ``server_side_binding``) the statements run at once.
    """
    if not keys:
        return dict
    connection = connections[using]
    model = queryset.model
    per_query = max_keys_per_query(connection.vendor, len(fields))
    filter_sql = _filter_sql(queryset, using)
    columns = model._meta.concrete_fields
    statements = [
        _match_statement(
            connection, model, columns, fields, keys[start : start + per_query], start, filter_sql
        )
        for start in range(0, len(keys), per_query)
    ]
    attnames = [field.attname for field in columns]

    def answer(fetched: list[tuple[list[Any], list[tuple[int, Any]]]]) -> dict[int, list[Model]]:
        converters = _converters(connection, columns)
        build = _instance_builder(model, using, attnames)
        found: dict[int, list[Model]] = defaultdict(list)
        for rows, zone_steps in fetched:
            steps = zone_steps + converters
            for index, *values in rows:
                for position, convert in steps:
                    values[position] = convert(values[position])
                found[index].append(build(values))
        return found

    if background and len(statements) == 1 and helper_threads_allowed(connection):
        fetch = _fetch_in_background(connection, *statements[0])
        return lambda: answer([fetch()])
    try:
        fetched = [_fetch(connection, sql, params) for sql, params in statements]
    except Exception as exc:  # raised by the call, as in the background
        failure = exc

        def fail() -> dict[int, list[Model]]:
            raise failure

        return fail
    return lambda: answer(fetched)


def _fetch(connection: Any, sql: str, params: list[Any]) -> tuple[list[Any], list[Any]]:
    """The statement's rows, and the steps Django's timestamp loader would have taken."""
    with connection.cursor() as cursor:
        return _fetch_with(cursor, sql, params, _fast_timestamptz(cursor))


def _fetch_in_background(
    connection: Any, sql: str, params: list[Any]
) -> Callable[[], tuple[list[Any], list[Any]]]:
    """:func:`_fetch` on a helper thread, with a cursor made here; the call waits for it."""
    cursor = connection.cursor()
    try:
        zones = _fast_timestamptz(cursor)
        wait = in_background(lambda: _fetch_with(cursor, sql, params, zones), "lookup")
    except BaseException:  # no thread to close it (Python could not start one)
        cursor.close()
        raise

    def fetched() -> tuple[list[Any], list[Any]]:
        try:
            return wait()
        finally:
            cursor.close()

    return fetched


def _fetch_with(
    cursor: Any, sql: str, params: list[Any], zones: Any
) -> tuple[list[Any], list[Any]]:
    cursor.execute(sql, params)
    rows = cursor.fetchall()
    return rows, (_zone_steps(cursor, zones) if zones is not None else [])


def _instance_builder(
    model: type[Model], using: str, attnames: Sequence[str]
) -> Callable[[list[Any]], Model]:
    """``values -> model.from_db(using, attnames, values)``, by hand where that is the same.

    ``from_db`` calls ``Model.__init__``, which sets each value through the
    field's class attribute and sends the init signals. When the model keeps
    Django's ``from_db`` and ``__init__``, nothing listens to those signals
    and every column's class attribute is Django's plain deferred attribute
    (whose setting is a dict assignment on a fresh instance), filling the
    instance's ``__dict__`` directly gives the same instance, several times
    faster; one is built for each stored row a chunk matches.
    """
    plain = (
        model.from_db.__func__ is Model.from_db.__func__  # type: ignore[attr-defined]
        and inits_plainly(model)
        and list(attnames) == [f.attname for f in model._meta.concrete_fields]
        and all(
            type(inspect.getattr_static(model, name, None)) in _PLAIN_ATTRIBUTES
            for name in attnames
        )
    )
    if not plain:
        return lambda values: model.from_db(using, attnames, values)
    new = object.__new__
    names = tuple(attnames)

    def build(values: list[Any]) -> Model:
        instance = new(model)
        instance._state = state = ModelState()
        state.adding = False
        state.db = using
        instance.__dict__.update(zip(names, values, strict=True))
        return instance

    return build


_PLAIN_ATTRIBUTES = (DeferredAttribute, ForeignKeyDeferredAttribute)


def _fast_timestamptz(cursor: Any) -> Any:
    """Read this cursor's ``timestamptz`` values with psycopg's C loader; return Django's zone.

    Django loads ``timestamptz`` through its own subclass of psycopg's
    pure-Python loader, whose ``load`` is ``super().load(data)`` then
    ``.replace(tzinfo=zone)``. psycopg's own class has a C implementation,
    about three times faster, that parses the same text to the same instant;
    so this cursor (only this one: each cursor has its own adapters) uses it,
    and :func:`_zone_steps` applies the same ``replace``. Returns ``None``,
    changing nothing, unless the cursor's loader is exactly Django's.
    """
    loader = _tz_loader() if cursor.db.vendor == "postgresql" else None
    if loader is None:
        return None
    raw = getattr(cursor, "cursor", None)
    adapters = getattr(raw, "adapters", None)
    if adapters is None:
        return None
    base, text_format, oid = loader
    current = adapters.get_loader(oid, text_format)
    if (
        not isinstance(current, type)
        or not issubclass(current, base)
        or current.load is not base.load
    ):
        return None
    from psycopg.types.datetime import TimestamptzLoader  # optional: the postgres extra

    adapters.register_loader(oid, TimestamptzLoader)
    return (current.timezone,)


def _zone_steps(cursor: Any, zones: tuple[Any]) -> list[tuple[int, Any]]:
    """Django's ``.replace(tzinfo=zone)`` for each ``timestamptz`` column of the result."""
    (zone,) = zones
    oid = _tz_loader()[2]  # type: ignore[index]

    def replace(value: Any) -> Any:
        return value if value is None else value.replace(tzinfo=zone)

    # Positions exclude the leading key index column.
    return [
        (position - 1, replace)
        for position, column in enumerate(cursor.description)
        if position and column.type_code == oid
    ]


@functools.cache
def _tz_loader() -> tuple[Any, Any, int] | None:
    """Django's ``timestamptz`` loader class, the text format and the type's oid."""
    try:
        # Imports psycopg or psycopg2: optional, the postgres extra.
        from django.db.backends.postgresql.psycopg_any import BaseTzLoader, is_psycopg3
    except ImportError:  # pragma: no cover - no PostgreSQL driver installed
        return None
    if not is_psycopg3:  # pragma: no cover - psycopg2 has no such loader
        return None
    from psycopg.postgres import types  # optional: the postgres extra
    from psycopg.pq import Format

    return BaseTzLoader, Format.TEXT, types["timestamptz"].oid


def _converters(connection: Any, columns: Sequence[Field[Any, Any]]) -> list[tuple[int, Any]]:
    """Per column, what Django applies to a value read from the database.

    The same converters a queryset applies (``Decimal`` from SQLite's floats,
    aware datetimes, JSON, ...), bound once per query instead of per row.
    """
    bound = []
    for position, field in enumerate(columns):
        expression = field.get_col(field.model._meta.db_table)
        functions = connection.ops.get_db_converters(expression) + field.get_db_converters(
            connection
        )
        for function in functions:
            bound.append(
                (
                    position,
                    lambda value, _f=function, _e=expression: _f(value, _e, connection),
                )
            )
    return bound


def _match_statement(
    connection: Any,
    model: type[Model],
    columns: Sequence[Field[Any, Any]],
    fields: Sequence[Field[Any, Any]],
    keys: Sequence[Sequence[Any]],
    first_index: int,
    filter_sql: tuple[str, tuple[Any, ...]] | None,
) -> tuple[str, list[Any]]:
    qn = connection.ops.quote_name
    width = len(fields)
    key_columns = ", ".join(f"c{j}" for j in range(width))
    join_on = " AND ".join(f"t.{qn(field.column)} = k.c{j}" for j, field in enumerate(fields))
    params: list[Any] = []
    if connection.vendor == "postgresql":
        # One array per column instead of a placeholder per value: the
        # statement stays small and the driver adapts whole lists at once.
        casts = ", ".join(f"%s::{pg_array_type(field, connection)}" for field in fields)
        keys_sql = f"unnest(%s::bigint[], {casts}) AS k (i, {key_columns})"
        params.append(pg_array_literal(range(first_index, first_index + len(keys))))
        for column in zip(*keys, strict=True):
            literal = pg_array_literal(column)
            params.append(literal if literal is not None else list(column))
    else:
        row_placeholder = "(" + ", ".join(["%s"] * (width + 1)) + ")"
        values_sql = ", ".join([row_placeholder] * len(keys))
        keys_sql = "k"
        for offset, key in enumerate(keys):
            params.append(first_index + offset)
            params.extend(key)
    selected = ", ".join(f"t.{qn(column.column)}" for column in columns)
    sql = (
        f"SELECT k.i, {selected} FROM {keys_sql} "
        f"INNER JOIN {qn(model._meta.db_table)} t ON {join_on}"
    )
    if connection.vendor != "postgresql":
        sql = f"WITH k (i, {key_columns}) AS (VALUES {values_sql}) {sql}"
    if filter_sql is not None:
        sub_sql, sub_params = filter_sql
        sql += f" WHERE t.{qn(model._meta.pk.column)} IN ({sub_sql})"
        params.extend(sub_params)
    return sql, params


def pg_array_literal(values: Sequence[Any]) -> str | None:
    """PostgreSQL's text form of an array of these values, or None to let the driver dump them.

    The driver adapts a list element by element in Python and then quotes the
    result into the statement; for the types keys are made of, the array's
    text form is one ``join`` away. Each element is written in the form
    PostgreSQL reads back as the same value: integers and decimals as
    ``str`` gives them (``12.50``, ``1E+3``), datetimes with their UTC
    offset, dates in ISO form, text quoted with its backslashes and
    double quotes escaped.
    """
    kinds = set(map(type, values))
    if len(kinds) != 1:
        return None
    kind = kinds.pop()
    if kind is int or kind is datetime.date:
        return "{" + ",".join(map(str, values)) + "}"
    if kind is Decimal:
        if not all(map(Decimal.is_finite, values)):
            return None
        return "{" + ",".join(map(str, values)) + "}"
    if kind is datetime.datetime:
        if None in map(datetime.datetime.utcoffset, values):
            return None
        # str() is the ISO form with the value's own UTC offset (seconds
        # included, as local mean time has them), which PostgreSQL reads exactly.
        return '{"' + '","'.join(map(str, values)) + '"}'
    if kind is str:
        return '{"' + '","'.join(map(_escape_array_text, values)) + '"}'
    return None


def _escape_array_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def pg_array_type(field: Field[Any, Any], connection: Any) -> str:
    """The array type of a column, for ``unnest(%s::<type>[])``, without its modifier.

    ``varchar(20)`` or ``numeric(12, 3)`` would truncate or round the file's
    value on the way in and match a row stock would not match; the bare type
    compares the value as given, like the ORM's ``=``.
    """
    if field.is_relation:
        db_type = field.target_field.rel_db_type(connection)  # type: ignore[union-attr]
    else:
        db_type = field.db_type(connection)
    return f"{_TYPE_MODIFIER.sub('', db_type)}[]"
