"""What one chunk of an import wrote, handed to an ``on_chunk_written`` callback.

Why: undoing an import (:mod:`admin_bulk_upsert.jobs.undo`) needs, per chunk,
the records it created and, for each record it updated, the values it
overwrote and the values it wrote (to tell a later edit from the import's own
write). The engine knows both without a query: the stored record was read by
the chunk's batched lookup (:mod:`.planning` keeps a snapshot of it in
:attr:`~.planning.Group.before`) and the written state is the group's last
instance. This module builds the :class:`ChunkWritten` from the plan, so the
engine never imports the jobs layer that stores it.

Costs per chunk, only when a callback is given: nothing for the bulk and
``save()`` paths without many-to-many columns; two queries per many-to-many
field the file sets (the links before and after the chunk); two more for a
chunk replayed row by row the stock way (which ends with other records than
the plan's, so the outcome is read back from the database).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db.models import Field, ManyToManyField, Model
from import_export.results import RowResult
from import_export.widgets import ManyToManyWidget

from .instances import overrides
from .planning import ChunkPlan, RowWork


@dataclasses.dataclass(frozen=True, slots=True)
class UpdatedRecord:
    """One updated record: ``changes[attname] = (value before, value written)``.

    Only the concrete columns whose value changed are listed; a record whose
    write changed nothing is not reported at all.
    """

    pk: Any
    changes: dict[str, tuple[Any, Any]]


@dataclasses.dataclass(frozen=True, slots=True)
class LinksChanged:
    """A record's many-to-many links of one field, before and after the chunk.

    Each maps a linked pk to the pk of its row in the through table, so that
    a removed link can be put back as it was.
    """

    pk: Any
    before: dict[Any, Any]
    after: dict[Any, Any]


@dataclasses.dataclass(frozen=True)
class ChunkWritten:
    """What a chunk changed, for :meth:`BulkUpsertResource.import_data`'s ``on_chunk_written``.

    ``unknown`` lists pks of records a replayed chunk updated whose values
    before it were not read (stock found a record the batched lookup had
    not): they cannot be restored, and a revert must say so.
    """

    model: type[Model]
    using: str
    created: list[Any]
    updated: list[UpdatedRecord]
    #: Per many-to-many field name, the updated records whose links changed.
    links: dict[str, list[LinksChanged]]
    unknown: list[Any] = dataclasses.field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.created or self.updated or self.unknown or any(self.links.values()))


ChunkWrittenCallback = Callable[[ChunkWritten], None]


def recorded_fields(model: type[Model]) -> list[Field]:
    """The columns an update may change: every concrete one but the pk."""
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def linked_fields(resource: Any, columns: Iterable[str]) -> list[ManyToManyField]:
    """The many-to-many fields a chunk's rows may set (auto-created through tables only).

    Stock's ``save_m2m`` sets the fields whose column is in the file; a
    resource's own ``save_m2m`` may set any of them.
    """
    model = resource._meta.model
    candidates = [
        f
        for f in model._meta.many_to_many
        if isinstance(f, ManyToManyField) and f.remote_field.through._meta.auto_created
    ]
    if overrides(resource, "save_m2m"):
        return candidates
    present = set(columns)
    names = {
        field.attribute
        for field in resource.get_import_fields()
        if isinstance(field.widget, ManyToManyWidget) and field.column_name in present
    }
    return [f for f in candidates if f.name in names]


def read_links(field: ManyToManyField, pks: Sequence[Any], using: str) -> dict[Any, dict[Any, Any]]:
    """Per record, ``{linked pk: through row pk}`` for ``field``, in one query."""
    if not pks:
        return {}
    through = field.remote_field.through
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    found: dict[Any, dict[Any, Any]] = {pk: {} for pk in pks}
    rows = through._base_manager.using(using).filter(**{f"{source}__in": list(pks)})
    for owner, linked, row in rows.values_list(f"{source}_id", f"{target}_id", "pk"):
        found.setdefault(owner, {})[linked] = row
    return found


class ChunkRecorder:
    """Builds a chunk's :class:`ChunkWritten` around its write and calls the callback.

    :meth:`before_write` runs before the chunk is written (it reads the
    many-to-many links the chunk may change), :meth:`planned` once the
    written plan stands, :meth:`replayed` instead when the chunk was replayed
    row by row.
    """

    def __init__(
        self,
        resource: Any,
        callback: ChunkWrittenCallback,
        plan: ChunkPlan,
        using: str,
        columns: Iterable[str],
    ) -> None:
        self.callback = callback
        self.plan = plan
        self.using = using
        self.model: type[Model] = resource._meta.model
        self.fields = recorded_fields(self.model)
        self.link_fields = linked_fields(resource, columns)
        self.links_before: dict[str, dict[Any, dict[Any, Any]]] = {}
        #: The stored records the plan found, by pk: their values before the chunk.
        self.before: dict[Any, Model] = {}
        for group in plan.groups:
            if not group.created and group.before is not None:
                self.before.setdefault(group.before.pk, group.before)

    def before_write(self) -> None:
        pks = list(self.before)
        for field in self.link_fields:
            self.links_before[field.name] = read_links(field, pks, self.using)

    def planned(self) -> None:
        """The chunk was written as planned (in bulk or through ``save()``)."""
        created = []
        updated = []
        for group in self.plan.groups:
            if group.created:
                created.append(group.states[0].pk)
            elif group.before is not None:
                record = _changes(self.fields, group.before, group.instance)
                if record is not None:
                    updated.append(record)
        self._send(created, updated, [], list(self.before))

    def replayed(self, rows: Sequence[RowWork]) -> None:
        """The chunk was imported row by row, the stock way: read what it left."""
        created: list[Any] = []
        touched: dict[Any, None] = {}
        for work in rows:
            result = work.result
            if result.object_id is None:
                continue
            if result.import_type == RowResult.IMPORT_TYPE_NEW:
                created.append(result.object_id)
            elif result.import_type == RowResult.IMPORT_TYPE_UPDATE:
                touched[result.object_id] = None
        created_set = set(created)
        pks = [pk for pk in touched if pk not in created_set]
        unknown = [pk for pk in pks if pk not in self.before]
        known = [pk for pk in pks if pk in self.before]
        after = {
            obj.pk: obj for obj in self.model._base_manager.using(self.using).filter(pk__in=known)
        }
        updated = []
        for pk in known:
            if pk in after:
                record = _changes(self.fields, self.before[pk], after[pk])
                if record is not None:
                    updated.append(record)
        self._send(created, updated, unknown, known)

    def _send(
        self, created: list[Any], updated: list[UpdatedRecord], unknown: list[Any], pks: list[Any]
    ) -> None:
        links: dict[str, list[LinksChanged]] = {}
        for field in self.link_fields:
            before = self.links_before.get(field.name, {})
            after = read_links(field, pks, self.using)
            links[field.name] = [
                LinksChanged(pk, before.get(pk, {}), now)
                for pk, now in after.items()
                if now != before.get(pk, {})
            ]
        written = ChunkWritten(self.model, self.using, created, updated, links, unknown)
        if written:
            self.callback(written)


def _changes(fields: Sequence[Field], before: Model, after: Model) -> UpdatedRecord | None:
    changes = {}
    old_values, new_values = before.__dict__, after.__dict__
    for field in fields:
        name = field.attname
        old, new = old_values.get(name), new_values.get(name)
        if old != new:
            changes[name] = (old, new)
    if not changes:
        return None
    return UpdatedRecord(before.pk, changes)
