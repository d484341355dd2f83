"""Write a chunk's plan in bulk: one insert for new records, one upsert by pk for updates.

Updates are written as ``INSERT ... ON CONFLICT (pk) DO UPDATE`` (``ON
DUPLICATE KEY UPDATE`` on MariaDB) of every concrete column, which is what
``Model.save()`` writes for an existing instance, including its fallback of
inserting a record that vanished meanwhile. New records go through a plain
``bulk_create``, so a conflict on any unique constraint raises, as ``save()``
would. Like ``bulk_create`` everywhere, this sends no ``pre_save``/``post_save``
signals and does not call an overridden ``Model.save()``: imports of a model
that has either write through :mod:`admin_bulk_upsert.engine.per_row_save` instead
(see :mod:`admin_bulk_upsert.engine.write_mode`).

On PostgreSQL both go through COPY and ``INSERT ... SELECT`` where that
writes exactly what ``bulk_create`` would (:mod:`admin_bulk_upsert.engine.postgres_copy`).

The chunk is written inside a savepoint. If the database refuses it
(IntegrityError, DataError, ...), :func:`write_chunk` rolls the savepoint back
and raises :class:`ChunkWriteError`; the resource then replays the chunk row by
row, the stock way, so the failure lands on the rows that caused it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import DatabaseError, connections, transaction
from django.db.models import Model

from .keys import KeySpec
from .lookup import match_keys
from .planning import ChunkPlan
from .postgres_copy import reads_attribute, write_round


class ChunkWriteError(Exception):
    """The database refused a chunk's bulk write; nothing of the chunk was kept."""


def _update_fields(model: type[Model]) -> list[str]:
    """Every concrete column ``save()`` rewrites on an update."""
    return [
        f.name
        for f in model._meta.concrete_fields
        if not f.primary_key and not getattr(f, "auto_now_add", False)
    ]


def write_chunk(
    model: type[Model],
    plan: ChunkPlan,
    spec: KeySpec | None,
    using: str,
    meanwhile: Callable[[], None] | None = None,
    idle_work: Callable[[], None] | None = None,
    savepoint: bool = True,
) -> None:
    """Create and update the plan's records; give every row instance its pk.

    One round per state of the most repeated key (usually one): the first
    creates new records, later rounds write the states that later rows of a
    repeated key left, so that every state stock would save is written
    (unless saving sets fields: see :func:`_set_when_saved`).

    ``meanwhile`` is work that needs every instance's pk but not the
    database, ``idle_work`` work that needs neither: where the last round's
    statements can run in the background (see
    :mod:`~admin_bulk_upsert.engine.postgres_copy`), ``idle_work`` runs while the new
    records are inserted and ``meanwhile`` while the updates are written.
    Either may run although the write then fails; either may not run at
    all (the caller then runs it after the write).

    ``savepoint=False`` is for a caller whose own savepoint covers the chunk
    (and is rolled back when this raises): two statements fewer per chunk.
    """
    if any(work.follows for work in plan.rows) and _set_when_saved(model):
        raise ChunkWriteError("a key is repeated within the chunk and saving sets fields")
    rounds = plan.rounds()
    if not rounds:
        return
    last = len(rounds) - 1
    settled = []

    def settled_then_meanwhile() -> None:
        settle(plan, using)
        settled.append(True)
        meanwhile()  # type: ignore[misc]

    try:
        with transaction.atomic(using=using, savepoint=savepoint):
            for number, (to_create, to_update) in enumerate(rounds):
                if number == 1:
                    # Round 0 gave new records their pks; later states share them.
                    for group in plan.groups:
                        for state in group.states[1:]:
                            state.pk = group.states[0].pk
                if number == last:
                    overlap = settled_then_meanwhile if meanwhile else None
                    _write_round(model, to_create, to_update, spec, using, overlap, idle_work)
                else:
                    _write_round(model, to_create, to_update, spec, using)
    except DatabaseError as exc:
        raise ChunkWriteError(exc) from exc
    if not settled:
        settle(plan, using)


def _set_when_saved(model: type[Model]) -> bool:
    """Whether saving sets a field's value (``auto_now``, ``auto_now_add``,
    django-model-utils' ``AutoLastModifiedField``, ...).

    A later row of a key repeated within the chunk was planned from the earlier
    row's instance before the write set those values, where stock reads the
    record back after the earlier row's save: its snapshot and diff would show
    the value the instance was built with (``AutoLastModifiedField``'s default
    is the time of its first use in the process). Such a chunk is replayed row
    by row the stock way.
    """
    return not all(
        reads_attribute(field) for field in model._meta.concrete_fields if not field.primary_key
    )


def settle(plan: ChunkPlan, using: str) -> None:
    """Every row's instances (and update snapshots) take their record's pk, as saved ones."""
    for group in plan.groups:
        pk = group.states[0].pk
        for member in group.members:
            member.pk = pk
            state = member._state
            state.adding = False
            state.db = using


def _write_round(
    model: type[Model],
    to_create: list[Model],
    to_update: list[Model],
    spec: KeySpec | None,
    using: str,
    meanwhile: Callable[[], None] | None = None,
    idle_work: Callable[[], None] | None = None,
) -> None:
    """Through COPY on PostgreSQL where it mirrors bulk_create exactly, else bulk_create."""
    fields = tuple(_update_fields(model))
    kept = _pre_save_updates(model, to_update)

    def set_back() -> None:
        for obj, attname, value in kept:
            setattr(obj, attname, value)

    def set_back_then_meanwhile() -> None:
        set_back()
        meanwhile()  # type: ignore[misc]

    overlap = set_back_then_meanwhile if kept and meanwhile else meanwhile
    if not write_round(model, to_create, to_update, using, fields, overlap, idle_work):
        if to_create:
            _create(model, to_create, spec, using)
        if to_update:
            _upsert_by_pk(model, to_update, using)
    set_back()


def _pre_save_updates(model: type[Model], instances: list[Model]) -> list[tuple[Model, str, Any]]:
    """Run the field ``pre_save`` hooks of updated records as ``save()`` runs them.

    ``save()`` calls ``field.pre_save(obj, add=False)`` for an existing record,
    ``bulk_create`` (and the COPY that mirrors it) ``add=True``: an ``auto_now``
    field is set either way, but django-model-utils' ``AutoLastModifiedField``
    keeps a set value when ``add`` is true, and ``auto_now_add`` sets the time.
    So each such field is set here to its ``add=False`` value (which the
    ``add=True`` call then keeps, or writes into a column the update leaves
    alone), and set back after the write: the instance ends as ``save()``
    leaves it. Returns what to set back.
    """
    fields = [
        field
        for field in model._meta.concrete_fields
        if not field.primary_key and not reads_attribute(field)
    ]
    kept = []
    try:
        for obj in instances:
            for field in fields:
                value = field.pre_save(obj, False)
                setattr(obj, field.attname, value)
                kept.append((obj, field.attname, value))
    except Exception as exc:  # stock's save() would raise it for its row: replay the chunk
        raise ChunkWriteError(exc) from exc
    return kept


def _create(model: type[Model], instances: list[Model], spec: KeySpec | None, using: str) -> None:
    model._default_manager.db_manager(using).bulk_create(instances, batch_size=len(instances))
    missing = [obj for obj in instances if obj.pk is None]
    if missing:
        _fetch_pks(model, missing, spec, using)


def _fetch_pks(
    model: type[Model], instances: Sequence[Model], spec: KeySpec | None, using: str
) -> None:
    """Read back the pks a backend did not return from its bulk insert."""
    if spec is None or not spec.batchable:
        raise ChunkWriteError("the database did not return the primary keys of new rows")
    keys = []
    for obj in instances:
        cleaned = [getattr(obj, attribute) for attribute in spec.attributes]
        db_values = spec.db_values(cleaned)
        if db_values is None:
            raise ChunkWriteError("a new row's key has a NULL part; its pk cannot be read back")
        keys.append(db_values)
    assert spec.model_fields is not None
    found = match_keys(model._base_manager.all(), spec.model_fields, keys, using)
    for index, obj in enumerate(instances):
        matches = found.get(index, [])
        if len(matches) != 1:
            raise ChunkWriteError("the pk of a new row could not be read back")
        obj.pk = matches[0].pk


def _upsert_by_pk(model: type[Model], instances: list[Model], using: str) -> None:
    connection = connections[using]
    unique_fields = (
        [model._meta.pk.name] if connection.features.supports_update_conflicts_with_target else None
    )
    model._default_manager.db_manager(using).bulk_create(
        instances,
        batch_size=len(instances),
        update_conflicts=True,
        unique_fields=unique_fields,
        update_fields=_update_fields(model),
    )
