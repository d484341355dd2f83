"""Write a round of a chunk on PostgreSQL through COPY instead of ``bulk_create``.

Why: ``bulk_create`` on PostgreSQL sends every value of a chunk as a literal
inside one big SQL text, which Python quotes and the server parses again.
COPY streams the same values to a temporary table in PostgreSQL's text format,
and one ``INSERT ... SELECT`` per kind of write moves them into the model's
table: the same statements as ``bulk_create`` (same constraints, triggers and
``ON CONFLICT``), fed from a table instead of literals.

Per round (see :meth:`ChunkPlan.rounds`), always these statements:

1. ``CREATE TEMP TABLE IF NOT EXISTS ... ON COMMIT DROP AS SELECT <columns>
   FROM <table> WITH NO DATA; TRUNCATE ...``: the model's column types (with
   their length and scale), no constraint, no default, plus an ordinal.
   ``ON COMMIT DROP`` keeps it from outliving the transaction that writes
   through it (a pooler in transaction mode, a migration changing a column);
   a rolled-back savepoint that created it drops it, hence ``IF NOT EXISTS``
   every round, and a rolled-back one that filled it restores earlier rows,
   hence the ``TRUNCATE`` first rather than last.
2. ``COPY ... FROM STDIN`` of the round's new records, then its updates.
3. New records: ``INSERT INTO <table> (...) SELECT ... ORDER BY ord
   RETURNING pk``, a plain insert (a unique conflict raises, as ``save()``
   would); the pks come back in insertion order, which Django's own
   ``unnest`` insert relies on too. Given ``idle_work`` (reading the next
   chunk), it runs on a helper thread while that work runs here
   (:func:`_run_meanwhile`).
4. Updates: ``INSERT ... SELECT ... ON CONFLICT (pk) DO UPDATE SET`` every
   column :func:`writing._update_fields` names, as ``bulk_create`` would.
   Given work to do ``meanwhile`` (finishing the rows' results, which
   needs the new records' pks), it runs on a helper thread while that work
   runs here.

Values are prepared as ``bulk_create`` prepares them:
``_prepare_for_bulk_create`` (pk defaults, related objects), then
``field.pre_save(obj, add=True)`` (``auto_now``) and ``get_db_prep_save``, for
the same columns. COPY's text format makes the server parse each value as the
literal of its column type, as it parses the quoted parameters of
``bulk_create``. The COPY goes through the driver's cursor: it is logged in
``connection.queries`` (so ``assertNumQueries`` counts it) but does not pass
through ``connection.execute_wrapper``.

:func:`write_round` returns False, before writing anything, for whatever it
does not mirror exactly; the caller then uses ``bulk_create``: another
database or driver, multi-table inheritance, a manager or queryset that
overrides ``bulk_create``, generated fields, ``db_default``, fields the
database returns besides the pk, fields with their own placeholder SQL or a
type outside Django's own column types, a pk with converters, a model with no
column to update, new records of which only some have a pk, a value that is
an expression or prepares to something other than a plain scalar.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import inspect
import operator
import uuid
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from decimal import Decimal
from typing import Any, TypeVar

from django.db import DatabaseError, connections
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import AutoField, DateField, DateTimeField, Field, Model, QuerySet
from django.db.models.fields import NOT_PROVIDED

from .db_params import save_preparer
from .statement_thread import helper_threads_allowed, in_background, statement_sent

try:
    # Django wraps integers in these on psycopg 3 (``adapt_integerfield_value``).
    from psycopg.types.numeric import Float4, Float8, Int2, Int4, Int8

    _PSYCOPG_NUMBERS: tuple[type, ...] = (Float4, Float8, Int2, Int4, Int8)
except ImportError:  # pragma: no cover - no psycopg 3: PostgreSQL never copies
    _PSYCOPG_NUMBERS = ()

#: Types psycopg dumps to COPY's text format as the literal the column parses.
_PLAIN = frozenset(
    {
        *_PSYCOPG_NUMBERS,
        type(None),
        bool,
        int,
        float,
        str,
        Decimal,
        datetime.datetime,
        datetime.date,
        datetime.time,
        datetime.timedelta,
        uuid.UUID,
    }
)
T = TypeVar("T")

#: The temporary table's extra column: a row's place in the COPY.
_ORD = "abu_copy_ord"


@dataclasses.dataclass(frozen=True)
class _Layout:
    """A model's statements, built once per model and database."""

    #: Every column the insert and the upsert write, in table order.
    fields: tuple[Field, ...]
    pk: Field
    #: Whether the database returns the pk of an insert (an auto pk).
    returns_pk: bool
    prepare_sql: str
    copy_sql: str
    #: New records without a pk leave out the auto pk column, as bulk_create does.
    create_sql: str
    create_with_pk_sql: str
    upsert_sql: str


class _NotPlain(Exception):
    """A value COPY would not send as bulk_create does."""


def write_round(
    model: type[Model],
    to_create: list[Model],
    to_update: list[Model],
    using: str,
    update_fields: tuple[str, ...],
    meanwhile: Callable[[], None] | None = None,
    idle_work: Callable[[], None] | None = None,
) -> bool:
    """Write one round through COPY; False (nothing written) when it must not be used.

    Where helper threads are allowed, the insert and the upsert run on one
    (see :func:`_run_meanwhile`): ``idle_work()``, which needs nothing of
    the write, runs here during the insert, and ``meanwhile()``, which needs
    the new records' pks, during the upsert. Either may not run at all: the
    caller then runs it after the write.
    """
    if not to_create and not to_update:
        return True
    layout = _layout(model, using, update_fields)
    if layout is None:
        return False
    connection = connections[using]
    written = [*to_create, *to_update]
    model._default_manager.db_manager(using).all()._prepare_for_bulk_create(written)
    with_pk = [obj._is_pk_set() for obj in to_create]
    if any(with_pk) and not all(with_pk):
        return False  # bulk_create would insert those in two statements
    new_pks = bool(to_create) and not with_pk[0]
    if new_pks and not layout.returns_pk:
        return False
    try:
        rows = _rows(to_create, layout.fields, connection, start=0, blank_auto=new_pks)
        rows += _rows(to_update, layout.fields, connection, start=len(to_create))
    except _NotPlain:
        return False
    background = helper_threads_allowed(connection)
    with connection.cursor() as cursor:
        cursor.execute(layout.prepare_sql)
        _copy(cursor, layout.copy_sql, rows, connection)
        if to_create:
            sql = layout.create_sql if new_pks else layout.create_with_pk_sql
            insert = functools.partial(_insert, cursor, sql, len(to_create), new_pks)
            if background and idle_work is not None:
                pks = _run_meanwhile(insert, idle_work, statement_sent(connection))
                idle_work = None
            else:
                pks = insert()
            if new_pks:
                for obj, pk in zip(to_create, pks, strict=True):
                    setattr(obj, layout.pk.attname, pk)
        if to_update:
            update = functools.partial(cursor.execute, layout.upsert_sql, [len(to_create)])
            work = _in_turn(idle_work, meanwhile)
            if background and work is not None:
                _run_meanwhile(update, work, statement_sent(connection))
            else:
                update()
    for obj in written:
        obj._state.adding = False
        obj._state.db = using
    return True


def _insert(cursor: Any, sql: str, count: int, new_pks: bool) -> list[Any]:
    """Insert the round's new records; their pks in insertion order, if the database makes them."""
    cursor.execute(sql, [count])
    if not new_pks:
        return []
    pks = [pk for (pk,) in cursor.fetchall()]
    if len(pks) != count:
        raise DatabaseError("the insert did not return one pk per new record")
    return pks


def _in_turn(*works: Callable[[], None] | None) -> Callable[[], None] | None:
    """One call doing the given works in turn, or None if none is given."""
    given = [work for work in works if work is not None]
    if not given:
        return None
    if len(given) == 1:
        return given[0]

    def in_turn() -> None:
        for work in given:
            work()

    return in_turn


def _run_meanwhile(
    statement: Callable[[], T], work: Callable[[], None], sent: Callable[[], bool]
) -> T:
    """Run ``statement()`` on a helper thread while ``work()`` runs on this one.

    Why: while PostgreSQL inserts or updates a chunk's records (the longest
    statements of a chunk), Python would only wait; the next chunk can be
    read, and the rows' results finished, in that time instead. The helper
    uses this very cursor (Django's wrapper: execute wrappers, query logging
    and error translation apply). ``work`` starts once the statement is
    ``sent`` (:func:`~admin_bulk_upsert.engine.statement_thread.statement_sent`), so a
    query it happens to make (a ``__str__`` reading a relation) runs after
    the statement. The statement's result is returned, or its error raised,
    here once both are done.
    """
    wait = in_background(statement, "write", begun=sent)
    try:
        work()
    finally:
        result = wait()
    return result


def _rows(
    instances: Sequence[Model],
    fields: Sequence[Field],
    connection: Any,
    start: int,
    blank_auto: bool = False,
) -> list[tuple[Any, ...]]:
    """Each instance's values for the COPY, prepared as bulk_create's compiler would.

    The same calls as the compiler's (``pre_save(obj, add=True)`` then
    ``get_db_prep_save``, in one step where :mod:`~admin_bulk_upsert.engine.db_params`
    knows its answer), made a column at a time, which is several times
    cheaper in Python. With ``blank_auto`` the auto pk column is left NULL
    (and out of the insert), as bulk_create leaves it out. Raises
    :class:`_NotPlain` for any value COPY would not send as bulk_create does,
    and for any failure to prepare one: bulk_create then raises its own
    error, from the row and column it reaches first.
    """
    columns: list[Sequence[Any]] = []
    try:
        for field in fields:
            if blank_auto and isinstance(field, AutoField):
                columns.append([None] * len(instances))
                continue
            if reads_attribute(field):
                raw = list(map(operator.attrgetter(field.attname), instances))
            else:
                raw = [field.pre_save(obj, True) for obj in instances]
            if not set(map(type, raw)) <= _PLAIN and any(
                hasattr(value, "resolve_expression") for value in raw
            ):
                raise _NotPlain
            prepared = list(map(save_preparer(field, connection), raw))
            if not set(map(type, prepared)) <= _PLAIN:
                raise _NotPlain
            columns.append(prepared)
    except _NotPlain:
        raise
    except Exception as exc:
        raise _NotPlain from exc
    columns.append(range(start, start + len(instances)))
    return list(zip(*columns, strict=True))


def reads_attribute(field: Field) -> bool:
    """Whether ``field.pre_save(obj, add=True)`` is ``getattr(obj, field.attname)``."""
    pre_save = type(field).pre_save
    if pre_save is Field.pre_save:
        return True
    # DateField and DateTimeField set the time only for auto_now / auto_now_add.
    return pre_save in _DATE_PRE_SAVES and not (field.auto_now or field.auto_now_add)  # type: ignore[attr-defined]


_DATE_PRE_SAVES = (DateField.pre_save, DateTimeField.pre_save)


def _copy(cursor: Any, sql: str, rows: list[tuple[Any, ...]], connection: Any) -> None:
    """COPY the rows; logged like a query, with the driver's errors turned into Django's."""
    logged = cursor.debug_sql(sql) if isinstance(cursor, CursorDebugWrapper) else nullcontext()
    with logged, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


@functools.cache
def _layout(model: type[Model], using: str, update_fields: tuple[str, ...]) -> _Layout | None:
    """The model's statements, or None when COPY cannot mirror its bulk_create."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not _is_psycopg3():
        return None
    opts = model._meta
    if any(p._meta.concrete_model is not opts.concrete_model for p in opts.all_parents):
        return None
    if not update_fields or not _plain_bulk_create(model):
        return None
    pk = opts.pk
    fields = list(opts.concrete_fields)
    if any(not _copyable(f, connection) for f in fields):
        return None
    returning = list(opts.db_returning_fields)
    if returning not in ([], [pk]) or pk.get_db_converters(connection):
        return None
    qn = connection.ops.quote_name
    table = qn(opts.db_table)
    columns = [qn(f.column) for f in fields]
    digest = hashlib.md5(repr((opts.db_table, columns)).encode(), usedforsecurity=False)
    temp = f"pg_temp.abu_copy_{digest.hexdigest()[:16]}"
    every = ", ".join(columns)
    inserted = ", ".join(qn(f.column) for f in fields if not isinstance(f, AutoField))
    sets = ", ".join(
        f"{qn(c)} = EXCLUDED.{qn(c)}" for c in (opts.get_field(n).column for n in update_fields)
    )
    return _Layout(
        fields=tuple(fields),
        pk=pk,
        returns_pk=bool(returning),
        prepare_sql=(
            f"CREATE TEMP TABLE IF NOT EXISTS {temp} ON COMMIT DROP AS "
            f"SELECT {every}, 0 AS {_ORD} FROM {table} WITH NO DATA; TRUNCATE {temp}"
        ),
        copy_sql=f"COPY {temp} ({every}, {_ORD}) FROM STDIN",
        create_sql=(
            f"INSERT INTO {table} ({inserted}) SELECT {inserted} FROM {temp} "
            f"WHERE {_ORD} < %s ORDER BY {_ORD} RETURNING {qn(pk.column)}"
        ),
        create_with_pk_sql=(
            f"INSERT INTO {table} ({every}) SELECT {every} FROM {temp} "
            f"WHERE {_ORD} < %s ORDER BY {_ORD}"
        ),
        upsert_sql=(
            f"INSERT INTO {table} ({every}) SELECT {every} FROM {temp} "
            f"WHERE {_ORD} >= %s ORDER BY {_ORD} "
            f"ON CONFLICT ({qn(pk.column)}) DO UPDATE SET {sets}"
        ),
    )


def _is_psycopg3() -> bool:
    # Imports psycopg or psycopg2, optional (the postgres extra): only asked on PostgreSQL.
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return is_psycopg3


def _plain_bulk_create(model: type[Model]) -> bool:
    """Whether the default manager's bulk_create is Django's own (not overridden)."""
    manager = model._default_manager
    own: Callable[..., Any] = QuerySet.bulk_create
    return (
        inspect.unwrap(type(manager).bulk_create) is own
        and type(manager.get_queryset()).bulk_create is own
    )


def _copyable(field: Field, connection: Any) -> bool:
    """A column whose value bulk_create sends as a plain parameter of a Django type."""
    target = field.target_field if field.is_relation else field
    return (
        not field.generated
        and field.db_default is NOT_PROVIDED
        and not hasattr(field, "get_placeholder")
        and target.get_internal_type() in connection.data_types
    )
