"""Many-to-many columns of a chunk, resolved and written set-based.

Stock's ``save_m2m`` runs per row: ``ManyToManyWidget.clean`` builds
``Tag.objects.filter(<field>__in=values)`` and ``Field.save`` calls
``instance.tags.set(that)`` (``.add(*that)`` with ``m2m_add``), several
queries per row. Here, for a chunk written in bulk, each many-to-many
column costs at most four statements:

1. the chunk's distinct cell values are looked up in one query through
   :func:`.lookup.match_keys` (the database's equality, as ``__in`` has it),
   on ``widget.model.objects``, the manager ``clean`` uses;
2. the current links of the chunk's updated records are read from the
   through table (records the chunk created have none);
3. the links ``.set()`` would remove are deleted in one statement;
4. the links it would add are inserted with one ``bulk_create``.

This leaves exactly the links the rows' ``.set()``/``.add()`` calls leave,
because it is only used where nothing else can see the links between two
rows: see :func:`bulk_columns` and :func:`chunk_links` for the conditions.
A cell stock would fail on (``"abc"`` for an integer pk) fails its row with
the very exception ``Field.clean`` raises, obtained by calling it; a value
the batched query cannot compare as ``__in`` would (an integer out of the
column's range, a NUL character on PostgreSQL) sends the chunk back to
stock's per-row ``save_m2m``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import router
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import IntegerField, Manager, ManyToManyField, Model
from django.db.models.signals import m2m_changed
from import_export.fields import Field
from import_export.widgets import ManyToManyWidget

from .db_params import save_preparer
from .instances import overrides, stock_logger
from .keys import concrete_field, integer_range
from .lookup import match_keys, max_keys_per_query, pg_array_literal, pg_array_type
from .m2m_diff import cache_links
from .write_mode import SAVE_PER_ROW

#: The hooks a resource must leave to DIE for its links to be written per chunk:
#: ``save_m2m``/``import_field`` are what writes them, and ``after_save_instance``
#: and ``after_import_row`` run between two rows' ``save_m2m`` in stock.
_STOCK_HOOKS = ("save_m2m", "import_field", "after_save_instance", "after_import_row")


class _NotHere(Exception):
    """The chunk's links cannot be written set-based; stock's per-row path takes them."""


@dataclasses.dataclass(frozen=True)
class M2MColumn:
    """One many-to-many column written set-based."""

    field: Field
    widget: ManyToManyWidget
    through: type[Model]
    source: str  # the through table's attname pointing at the imported model
    target: str  # ... and at the related model
    source_field: Any  # those two foreign keys
    target_field: Any
    lookup: Any  # the related model's field that ``widget.field`` names
    add_only: bool  # ``m2m_add``: ``.add()`` instead of ``.set()``
    integer_keys: bool  # the through table's pk and both keys are integers


def bulk_columns(resource: Any, headers: Iterable[str], using: str) -> list[M2MColumn] | None:
    """The file's many-to-many columns, or None where stock's per-row ``save_m2m`` must run.

    Per import: the resource keeps DIE's ``save_m2m``, ``import_field``,
    ``after_save_instance`` and ``after_import_row``; stock's DEBUG lines are
    off (:func:`chunk_links` also asks that the rows are written in bulk). Per column: a plain
    :class:`Field` (DIE's ``clean`` and ``save``) with DIE's own
    ``ManyToManyWidget.clean`` on a forward many-to-many field of the model
    itself, to another model (no ``self``, so no symmetrical links), through
    Django's auto-created table without ``m2m_changed`` receivers, whose
    related model's default manager filters nothing (``.set()`` reads the
    current links through it) and has an ``objects`` manager (``clean``'s).
    """
    if any(overrides(resource, hook) for hook in _STOCK_HOOKS):
        return None
    model = resource._meta.model
    if stock_logger().isEnabledFor(logging.DEBUG):
        return None
    present = set(headers)
    columns = []
    for field in resource.get_import_fields():
        if not isinstance(field.widget, ManyToManyWidget):
            continue
        if not field.attribute or field.column_name not in present or field.readonly:
            continue  # stock's import_field/Field.save leave it alone
        column = _column(model, field, using)
        if column is None or any(c.field.attribute == field.attribute for c in columns):
            return None  # two columns of one field: the second starts from the first's links
        columns.append(column)
    return columns


def _column(model: type[Model], field: Any, using: str) -> M2MColumn | None:
    widget = field.widget
    if type(field).clean is not Field.clean or type(field).save is not Field.save:
        return None
    if "clean" in vars(field) or "save" in vars(field) or "clean" in vars(widget):
        return None
    if type(widget).clean is not ManyToManyWidget.clean or "__" in field.attribute:
        return None
    try:
        m2m = model._meta.get_field(field.attribute)
    except Exception:
        return None
    if not isinstance(m2m, ManyToManyField) or m2m.name != field.attribute:
        return None
    related = m2m.remote_field.model
    through = m2m.remote_field.through
    if widget.model is not related or related is model or not through._meta.auto_created:
        return None
    if m2m_changed.has_listeners(through):
        return None
    if related._default_manager.all().query.where:
        return None
    if not isinstance(getattr(related, "objects", None), Manager):
        return None
    lookup = concrete_field(related, widget.field)
    if lookup is None or lookup.is_relation:
        return None
    if router.db_for_read(related) != using or router.db_for_write(through) != using:
        return None
    return M2MColumn(
        field=field,
        widget=widget,
        through=through,
        source=through._meta.get_field(m2m.m2m_field_name()).attname,
        target=through._meta.get_field(m2m.m2m_reverse_field_name()).attname,
        source_field=through._meta.get_field(m2m.m2m_field_name()),
        target_field=through._meta.get_field(m2m.m2m_reverse_field_name()),
        lookup=lookup,
        add_only=bool(field.m2m_add),
        integer_keys=all(
            isinstance(key, IntegerField)
            for key in (
                through._meta.pk,
                through._meta.get_field(m2m.m2m_field_name()).target_field,
                through._meta.get_field(m2m.m2m_reverse_field_name()).target_field,
            )
        ),
    )


class ChunkLinks:
    """The links each row of a chunk asks for, and the statements that write them."""

    def __init__(self, columns: list[M2MColumn], connection: BaseDatabaseWrapper) -> None:
        self.columns = columns
        self.connection = connection
        # Per row (by id of its RowWork): the target pks per column, in column
        # order, up to the column whose cell fails, and that failure.
        self.wanted: dict[int, list[frozenset[Any]]] = {}
        self.errors: dict[int, Exception] = {}
        # Per column, from read_current: each stored record's links, target pk -> link pk.
        self.current: list[dict[Any, dict[Any, Any]]] = []
        # Per column, from plan_writes: the targets of each record written, the pks of
        # the links to delete and the (source, target) pairs to insert.
        self.final: list[dict[Any, frozenset[Any]]] = []
        self.removed: list[list[Any]] = []
        self.added: list[list[tuple[Any, Any]]] = []
        # Per column, for shown: each set of targets met, in the diff's order.
        self._ordered: list[dict[Any, list[Model]]] = [{} for _column in columns]

    def raise_for(self, work: Any) -> None:
        """Raise what stock's ``save_m2m`` raises for this row, if anything."""
        error = self.errors.get(id(work))
        if error is not None:
            raise error

    def read_current(self, stored: Sequence[Any]) -> None:
        """The links these stored records have now: one read of the through table per column
        (per as many records as one statement takes)."""
        pks = list(dict.fromkeys(stored))
        for column in self.columns:
            current: dict[Any, dict[Any, Any]] = {}
            for link_pk, source, target in self._stored_links(column, pks):
                current.setdefault(source, {})[target] = link_pk
            self.current.append(current)

    def _stored_links(self, column: M2MColumn, pks: list[Any]) -> list[tuple[Any, Any, Any]]:
        """``(link pk, source, target)`` of the records' links, as ``.set()`` reads them
        (``through._default_manager.filter(<source>__in=...)``).

        Integer columns are read with plain SQL (one array parameter on PostgreSQL), which
        gives the same values as the ORM's ``values_list`` without its cost per key.
        """
        if not pks:
            return []
        connection = self.connection
        step = max_keys_per_query(connection.vendor, 1)
        if not column.integer_keys or not all(type(pk) is int for pk in pks):
            manager = column.through._default_manager.db_manager(connection.alias)
            found: list[tuple[Any, Any, Any]] = []
            for start in range(0, len(pks), step):
                links = manager.filter(**{f"{column.source}__in": pks[start : start + step]})
                found.extend(links.values_list("pk", column.source, column.target))
            return found
        qn = connection.ops.quote_name
        meta = column.through._meta
        source = qn(column.source_field.column)
        head = (
            f"SELECT {qn(meta.pk.column)}, {source}, {qn(column.target_field.column)} "
            f"FROM {qn(meta.db_table)} WHERE {source}"
        )
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                array_type = pg_array_type(column.source_field, connection)
                cursor.execute(f"{head} = ANY(%s::{array_type})", [pg_array_literal(pks)])
                return cursor.fetchall()
            found = []
            for start in range(0, len(pks), step):
                part = pks[start : start + step]
                cursor.execute(f"{head} IN ({', '.join(['%s'] * len(part))})", part)
                found.extend(cursor.fetchall())
            return found

    def plan_writes(self, rows: Sequence[Any]) -> None:
        """Work out the links the rows' ``.set()``/``.add()`` calls leave, and the ones to
        delete and insert for that (after :meth:`read_current` for the rows' stored records,
        once every row has its pk); Python only: :meth:`delete_removed` and
        :meth:`insert_statements` give the statements."""
        for position, column in enumerate(self.columns):
            wanted: dict[Any, frozenset[Any]] = {}
            for work in rows:
                sets = self.wanted.get(id(work), ())
                if position < len(sets):
                    wanted[work.instance.pk] = sets[position]
            current = self.current[position]
            final = {}
            removed: list[Any] = []
            added: list[tuple[Any, Any]] = []
            for source, targets in wanted.items():
                linked = current.get(source, {})
                added.extend((source, target) for target in targets if target not in linked)
                if column.add_only:
                    final[source] = frozenset(targets | linked.keys())
                else:
                    removed.extend(pk for target, pk in linked.items() if target not in targets)
                    final[source] = targets
            self.final.append(final)
            self.removed.append(removed)
            self.added.append(added)

    def delete_removed(self) -> None:
        """Delete the links :meth:`plan_writes` found removed: ``.set()``'s delete, through the
        through model's default manager (its ``pre_delete``/``post_delete`` receivers included)."""
        step = max_keys_per_query(self.connection.vendor, 1)
        for column, removed in zip(self.columns, self.removed, strict=True):
            manager = column.through._default_manager.db_manager(self.connection.alias)
            for start in range(0, len(removed), step):
                manager.filter(pk__in=removed[start : start + step]).delete()

    def insert_statements(self) -> list[tuple[str, list[Any]]]:
        """The statements inserting the links :meth:`plan_writes` found added (run them in
        order, with a cursor of this connection)."""
        statements = []
        for column, added in zip(self.columns, self.added, strict=True):
            if added:
                statements.extend(self._insert(column, added))
        return statements

    def attributes(self) -> list[str]:
        return [column.field.attribute for column in self.columns]

    def ranked(self, attributes: Sequence[str]) -> dict[str, dict[Any, tuple[int, Model]]]:
        """Per attribute, the related records the chunk's links name (before and after),
        in the order of the related model's default manager: one query per column.

        The order is total (:func:`diff_attributes`), so each record's links, sorted
        by it, come in the order stock's per-row ``instance.<m2m>.all()`` gives.
        """
        ranks = {}
        for position, column in enumerate(self.columns):
            if column.field.attribute not in attributes:
                continue
            targets: set[Any] = set()
            for linked in self.current[position].values():
                targets.update(linked)
            for chosen in self.wanted.values():
                if position < len(chosen):
                    targets.update(chosen[position])
            related = column.widget.model
            manager = related._default_manager.db_manager(self.connection.alias)
            found: dict[Any, tuple[int, Model]] = {}
            pks = list(targets)
            step = max_keys_per_query(self.connection.vendor, 1)
            for start in range(0, len(pks), step):
                for record in manager.filter(pk__in=pks[start : start + step]):
                    found[record.pk] = (len(found), record)
            ranks[column.field.attribute] = found
        return ranks

    def shown(
        self, pk: Any, ranks: dict[str, dict[Any, tuple[int, Model]]], after: bool
    ) -> list[tuple[str, Any, list[Model]]]:
        """What the diff shows of record ``pk``'s links, before or after the write: for each
        column in ``ranks``, its attribute, related model and related records in the order
        of stock's per-row ``instance.<m2m>.all()`` (the lists are shared: copy to keep)."""
        shown = []
        for position, column in enumerate(self.columns):
            attribute = column.field.attribute
            ranked = ranks.get(attribute)
            if ranked is None:
                continue
            targets = self.final[position].get(pk) if after else None
            if targets is None:
                targets = tuple(self.current[position].get(pk, ()))
            # The same links recur from record to record: each set is ordered once.
            ordered = self._ordered[position]
            linked = ordered.get(targets)
            if linked is None:
                # A link without its related record (no such thing under a foreign key
                # constraint) would not be in stock's join either.
                ranked_links = sorted(
                    (ranked[target] for target in targets if target in ranked), key=_first
                )
                linked = ordered[targets] = [obj for _, obj in ranked_links]
            shown.append((attribute, column.widget.model, linked))
        return shown

    def attach(
        self, records: Sequence[Model], ranks: dict[str, dict[Any, tuple[int, Model]]], after: bool
    ) -> None:
        """Give each record its links as stock's diff reads them, before or after the write."""
        alias = self.connection.alias
        for record in records:
            pk = record.pk
            if pk is None:
                continue  # stock's diff reads nothing for it (Field.get_value: None)
            for attribute, related, linked in self.shown(pk, ranks, after):
                cache_links(record, attribute, related, list(linked), alias)

    def _insert(
        self, column: M2MColumn, links: list[tuple[Any, Any]]
    ) -> list[tuple[str, list[Any]]]:
        """``INSERT`` of the links: what ``bulk_create`` of through rows sends, without the
        instances (an auto-created through table has its id and the two keys only)."""
        connection = self.connection
        qn = connection.ops.quote_name
        meta = column.through._meta
        source, target = column.source_field, column.target_field
        head = f"INSERT INTO {qn(meta.db_table)} ({qn(source.column)}, {qn(target.column)}) VALUES "
        sources = [pk for pk, _ in links]
        targets = [pk for _, pk in links]
        if not _plain_ints(column, connection, sources + targets):
            sources = list(map(save_preparer(source, connection), sources))
            targets = list(map(save_preparer(target, connection), targets))
        if connection.vendor == "postgresql":
            arrays = (pg_array_literal(sources), pg_array_literal(targets))
            if None not in arrays:
                # One array per column, as the lookup sends keys: the fastest shape there.
                types = (pg_array_type(source, connection), pg_array_type(target, connection))
                unnest = f"SELECT * FROM unnest(%s::{types[0]}, %s::{types[1]})"
                return [(head.replace(" VALUES ", f" {unnest}"), list(arrays))]
        step = max_keys_per_query(connection.vendor, 1)
        statements = []
        for start in range(0, len(links), step):
            end = start + step
            params = []
            for pair in zip(sources[start:end], targets[start:end], strict=True):
                params.extend(pair)
            statements.append((head + ", ".join(["(%s, %s)"] * (len(params) // 2)), params))
        return statements


def _first(pair: tuple[int, Any]) -> int:
    return pair[0]


def _plain_ints(column: M2MColumn, connection: BaseDatabaseWrapper, pks: list[Any]) -> bool:
    """Whether these integer keys are sent as they are: on PostgreSQL, a foreign key to an
    integer pk saves an ``int`` unchanged (``get_db_prep_save`` is ``int(value)``)."""
    return (
        connection.vendor == "postgresql"
        and column.integer_keys
        and all(type(pk) is int for pk in pks)
    )


def chunk_links(
    resource: Any, rows: Sequence[Any], connection: BaseDatabaseWrapper, write_how: str
) -> ChunkLinks | None:
    """The chunk's links, resolved with one query per column, or None for stock's path.

    ``rows`` are the chunk's rows that will reach ``save_m2m`` (saved, not
    failed), written as ``write_how`` says (:mod:`.write_mode`): rows saved
    through ``save()``, whose receivers could touch links between two rows,
    keep stock's per-row path. A chunk in which a record is written by two rows (a repeated
    key) keeps stock's per-row path: the second row's ``.set()`` starts from
    the first one's links.

    This may be called before the chunk is written (the rows' stored records have
    their pks, new ones get theirs from the write: distinct, or the write fails).
    """
    if write_how == SAVE_PER_ROW or not rows or any(work.follows for work in rows):
        return None
    stored = [work.instance.pk for work in rows if not work.new]
    if None in stored or len(set(stored)) != len(stored):
        return None  # two rows of one record all the same
    columns = bulk_columns(resource, rows[0].row.keys(), connection.alias)
    if not columns:
        return None
    links = ChunkLinks(columns, connection)
    try:
        for column in columns:
            _resolve(links, column, rows)
    except _NotHere:
        return None
    return links


def _resolve(links: ChunkLinks, column: M2MColumn, rows: Sequence[Any]) -> None:
    """Each row's target pks for ``column``, from one query for the chunk's values."""
    connection = links.connection
    name = column.field.column_name
    prepared: dict[Any, Any] = {}  # cell value -> database value (None: matches nothing)
    per_row: list[tuple[Any, tuple[Any, ...]]] = []
    # The same cells recur from row to row (a few tags in many combinations): each
    # distinct text or number is split and prepared once.
    by_cell: dict[tuple[type, Any], tuple[Any, ...] | None] = {}
    for work in rows:
        if id(work) in links.errors:
            continue  # an earlier column failed: stock's save_m2m stopped there
        cell = work.row.get(name)
        key = (type(cell), cell) if type(cell) in _REPEATABLE_CELLS else None
        if key is not None and key in by_cell:
            values = by_cell[key]
        else:
            values = _values(column, cell, prepared, connection)
            if key is not None:
                by_cell[key] = values
        if values is None:
            # Stock raises from Field.clean here: the same call gives the same error.
            try:
                column.field.clean(work.row)
            except Exception as exc:
                links.errors[id(work)] = exc
                continue
            raise _NotHere  # no error after all: leave the chunk to stock
        per_row.append((work, values))
    keys = [(value,) for value in dict.fromkeys(prepared.values()) if value is not None]
    found = match_keys(column.widget.model.objects.all(), [column.lookup], keys, connection.alias)
    pks_by_value = {
        key[0]: frozenset(obj.pk for obj in found.get(index, ())) for index, key in enumerate(keys)
    }
    empty: frozenset[Any] = frozenset()
    pks_by_values: dict[tuple[Any, ...], frozenset[Any]] = {}
    for work, values in per_row:
        chosen = pks_by_values.get(values)
        if chosen is None:
            pks: set[Any] = set()
            for value in values:
                pks |= pks_by_value.get(prepared[value], empty)
            chosen = pks_by_values[values] = frozenset(pks)
        links.wanted.setdefault(id(work), []).append(chosen)


#: Cell types :func:`_resolve` splits once per distinct value (hashable, compared by value).
_REPEATABLE_CELLS = frozenset({str, int, float})


def _values(
    column: M2MColumn, cell: Any, prepared: dict[Any, Any], connection: BaseDatabaseWrapper
) -> tuple[Any, ...] | None:
    """The cell's lookup values as ``ManyToManyWidget.clean`` takes them, prepared for the
    database into ``prepared``; None where ``clean`` would raise or the batched query
    could not compare a value as ``__in`` does (:class:`_NotHere`)."""
    if not cell:
        return ()
    if isinstance(cell, str):
        values = tuple(filter(None, [part.strip() for part in cell.split(column.widget.separator)]))
    elif isinstance(cell, (float, int)):
        try:
            values = (int(cell),)
        except (ValueError, OverflowError):
            return None
    else:
        return None  # stock calls .split() on it
    lookup = column.lookup
    for value in values:
        if value in prepared:
            continue
        try:
            db_value = lookup.get_db_prep_value(
                lookup.get_prep_value(value), connection, prepared=True
            )
        except Exception:
            return None
        _check_comparable(lookup, db_value, connection)
        prepared[value] = db_value
    return values


def _check_comparable(lookup: Any, db_value: Any, connection: BaseDatabaseWrapper) -> None:
    """Raise :class:`_NotHere` for a value ``__in`` might compare otherwise than the join.

    Only text and integers are taken (pks, names, slugs, codes): an integer out of
    the column's range (SQLite's driver refuses one past 64 bits where the join
    would match nothing), text with a NUL (PostgreSQL refuses it) and any other
    type (dates, decimals, UUIDs) keep stock's per-row path.
    """
    if isinstance(db_value, bool):
        raise _NotHere
    if isinstance(db_value, int):
        bounds = integer_range(connection, lookup)
        if bounds is not None and not bounds[0] <= db_value <= bounds[1]:
            raise _NotHere
    elif not isinstance(db_value, str) or "\x00" in db_value:
        raise _NotHere
