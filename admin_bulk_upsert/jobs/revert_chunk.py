"""Undoing one chunk of an import from its undo data, and listing what was done with each record.

:func:`.revert.revert` runs a :class:`ChunkRevert` per chunk of undo data,
newest first, inside its one transaction; in a dry run (the revert preview)
the chunk is only classified, and nothing is locked or written. Each record
the chunk covers ends up in one kind, recorded by :class:`RevertReport`:

* ``delete``: created by the import, deleted now;
* ``restore``: updated by the import, its values before the import put back
  (and the many-to-many links the import added or removed);
* ``conflict``, left as it is: an updated record whose current value of a
  column the import wrote differs from that value (edited since, by hand or by
  a later import), with column, imported value and current value; a created
  record that a later import of this model updated (its undo data says so), or
  that another row references through a ``PROTECT``/``RESTRICT`` foreign key;
  a record whose values before the import were not recorded;
* ``gone``: created or updated records deleted since (nothing to do).

Per chunk, a constant number of statements, whatever its size: one ``SELECT ...
FOR UPDATE`` of the records, one query per protecting relation, two per
many-to-many field that the import changed, one delete, one bulk update. A
record is compared with what the import wrote as the database stores it
(:func:`_same`), so a decimal rounded by its column is not a conflict.

Kept apart from :mod:`.revert` (who may revert, refusals, the transaction and
the lock) because this is the part that knows the undo data's layout and the
model's relations.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.admin.models import CHANGE, DELETION
from django.db import models, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from ..engine.chunk_changes import read_links
from ..reports.spreadsheet_safe import safe_writer
from . import storage
from .undo import decode

#: Entries of each kind kept in the outcome (the CSV report lists them all).
FIRST = 100
#: The kinds of entries, as the outcome's totals and the report list them.
KINDS = ("delete", "restore", "conflict", "gone")


class RevertReport:
    """The CSV of every entry, and the totals and first :data:`FIRST` entries of each kind.

    ``totals`` and ``first`` are the outcome's (``RevertOutcome`` in :mod:`.revert`),
    filled in place as the chunks are undone.
    """

    HEADER = ("outcome", "pk", "column", "imported_value", "current_value", "detail")

    def __init__(self, totals: dict[str, int], first: dict[str, list[dict[str, str]]]) -> None:
        self.totals = totals
        self.first = first
        self.buffer = io.StringIO()
        self.writer = safe_writer(self.buffer)
        self.writer.writerow(self.HEADER)

    def add(self, kind: str, pk: Any, *, count: bool = True, **values: Any) -> None:
        entry = {
            "pk": str(pk),
            "column": str(values.get("column", "")),
            "imported": _text(values.get("imported")),
            "current": _text(values.get("current")),
            "detail": str(values.get("detail", "")),
        }
        if count:
            self.totals[kind] += 1
        if len(self.first[kind]) < FIRST:
            self.first[kind].append(entry)
        self.writer.writerow((kind, *entry.values()))

    def save(self) -> str:
        return storage.save_new("revert-report", self.buffer.getvalue().encode())


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class ChunkRevert:
    """One chunk's undo data, undone (or only classified, in a dry run)."""

    def __init__(
        self,
        model: type[models.Model],
        using: str,
        payload: dict[str, Any],
        dry_run: bool,
        later: dict[str, int],
    ) -> None:
        self.model = model
        self.using = using
        self.dry_run = dry_run
        self.later = later
        meta = model._meta
        self.pk_field = meta.pk
        self.fields = {f.attname: f for f in meta.concrete_fields}
        self.created = [decode(self.pk_field, pk) for pk in payload["c"]]
        self.updated = {
            decode(self.pk_field, pk): {
                attname: (decode(self.fields[attname], old), decode(self.fields[attname], new))
                for attname, old, new in changes
            }
            for pk, changes in payload["u"]
        }
        #: Per field and record: ``({linked: through pk} before, the same after)``.
        self.links: dict[str, dict[Any, tuple[dict[Any, Any], dict[Any, Any]]]] = {}
        for name, changed in payload.get("m", {}).items():
            field = meta.get_field(name)
            target_pk = field.related_model._meta.pk
            row_pk = field.remote_field.through._meta.pk

            def links(flat: list[Any], target_pk: Any = target_pk, row_pk: Any = row_pk) -> Any:
                pairs = zip(flat[::2], flat[1::2], strict=True)
                return {decode(target_pk, t): decode(row_pk, r) for t, r in pairs}

            self.links[name] = {
                decode(self.pk_field, pk): (links(before), links(after))
                for pk, before, after in changed
            }
        self.unknown = [decode(self.pk_field, pk) for pk in payload.get("x", [])]

    def run(self, report: RevertReport, log: list[tuple[int, str, str]]) -> int:
        """Undo the chunk; return how many records it covered."""
        linked_pks = {pk for changed in self.links.values() for pk in changed}
        updated_pks = list(dict.fromkeys([*self.updated, *linked_pks]))
        records = self.model._base_manager.using(self.using).filter(
            pk__in=[*self.created, *updated_pks]
        )
        if not self.dry_run:
            records = records.select_for_update()
        current = {obj.pk: obj for obj in records}
        for pk in self.unknown:
            report.add("conflict", pk, detail=_("its values before the import were not recorded"))
        to_delete = self._created(current, report)
        to_restore = self._updated(updated_pks, current, report)
        if not self.dry_run:
            to_delete = self._delete(to_delete, current, report)
            self._restore(to_restore)
        for pk in to_delete:
            report.add("delete", pk)
            log.append((DELETION, str(pk), str(current[pk])[:200]))
        for obj in to_restore:
            report.add("restore", obj.pk, detail=self._restored(obj.pk))
            log.append((CHANGE, str(obj.pk), str(obj)[:200]))
        return len(self.created) + len(updated_pks) + len(self.unknown)

    def _restored(self, pk: Any) -> str:
        """What restoring ``pk`` puts back: ``column: imported value → value before``."""
        parts = [
            f"{self.fields[attname].name}: {_text(new)} → {_text(old)}"
            for attname, (old, new) in self.updated.get(pk, {}).items()
        ]
        for name, changed in self.links.items():
            if pk in changed:
                before, after = changed[pk]
                parts.append(
                    f"{name}: {', '.join(sorted(map(str, after)))} → "
                    f"{', '.join(sorted(map(str, before)))}"
                )
        return "; ".join(parts)

    # -- created records ---------------------------------------------------------------

    def _created(self, current: dict[Any, models.Model], report: RevertReport) -> list[Any]:
        present = []
        for pk in self.created:
            if pk not in current:
                report.add("gone", pk, detail=_("created by the import, deleted since"))
            elif str(pk) in self.later:
                report.add(
                    "conflict",
                    pk,
                    detail=_("created by the import, updated since by import job %(job)s")
                    % {"job": self.later[str(pk)]},
                )
            else:
                present.append(pk)
        protected = self._protected(present)
        for pk, references in protected.items():
            report.add(
                "conflict",
                pk,
                detail=_("created by the import, referenced since by %(refs)s")
                % {"refs": ", ".join(references)},
            )
        return [pk for pk in present if pk not in protected]

    def _protected(self, pks: Sequence[Any]) -> dict[Any, list[str]]:
        """Created records that rows reference through PROTECT/RESTRICT: one query per relation."""
        found: dict[Any, list[str]] = {}
        if not pks:
            return found
        for relation in self.model._meta.related_objects:
            if relation.many_to_many or relation.on_delete not in (
                models.PROTECT,
                models.RESTRICT,
            ):
                continue
            field = relation.field
            related = relation.related_model
            rows = (
                related._base_manager.using(self.using)
                .filter(**{f"{field.name}__in": list(pks)})
                .values_list(field.attname, "pk")
            )
            label = related._meta.label
            for target, pk in rows:
                found.setdefault(target, []).append(f"{label} {pk}")
        return found

    def _delete(
        self, pks: list[Any], current: dict[Any, models.Model], report: RevertReport
    ) -> list[Any]:
        if not pks:
            return pks
        manager = self.model._base_manager.db_manager(self.using)
        try:
            with transaction.atomic(using=self.using, savepoint=True):
                manager.filter(pk__in=pks).delete()
            return pks
        except (ProtectedError, RestrictedError):
            pass
        # Protected further down (a cascade reaches a protected row): one by one.
        deleted = []
        for pk in pks:
            try:
                with transaction.atomic(using=self.using, savepoint=True):
                    manager.filter(pk=pk).delete()
            except (ProtectedError, RestrictedError) as exc:
                objs = getattr(exc, "protected_objects", None) or exc.restricted_objects
                refs = ", ".join(f"{o._meta.label} {o.pk}" for o in list(objs)[:10])
                report.add(
                    "conflict",
                    pk,
                    detail=_("created by the import, referenced since by %(refs)s")
                    % {"refs": refs},
                )
            else:
                deleted.append(pk)
        return deleted

    # -- updated records ---------------------------------------------------------------

    def _updated(
        self, pks: Sequence[Any], current: dict[Any, models.Model], report: RevertReport
    ) -> list[models.Model]:
        current_links = self._current_links(pks, current)
        restorable = []
        for pk in pks:
            obj = current.get(pk)
            if obj is None:
                report.add("gone", pk, detail=_("updated by the import, deleted since"))
                continue
            conflicts = []
            for attname, (_old, new) in self.updated.get(pk, {}).items():
                now = getattr(obj, attname)
                if not _same(self.fields[attname], now, new):
                    conflicts.append((self.fields[attname].name, new, now))
            for name, changed in self.links.items():
                now_links = current_links[name].get(pk, {})
                if pk in changed and now_links.keys() != changed[pk][1].keys():
                    imported = sorted(map(str, changed[pk][1]))
                    now_linked = sorted(map(str, now_links))
                    conflicts.append((name, ", ".join(imported), ", ".join(now_linked)))
            if conflicts:
                for index, (column, imported, now) in enumerate(conflicts):
                    report.add(
                        "conflict",
                        pk,
                        count=index == 0,
                        column=column,
                        imported=imported,
                        current=now,
                        detail=_("changed since the import"),
                    )
                continue
            restorable.append(obj)
        return restorable

    def _current_links(
        self, pks: Sequence[Any], current: dict[Any, models.Model]
    ) -> dict[str, dict[Any, dict[Any, Any]]]:
        found = {}
        for name, changed in self.links.items():
            owners = [pk for pk in changed if pk in current]
            found[name] = read_links(self.model._meta.get_field(name), owners, self.using)
        return found

    def _restore(self, objs: list[models.Model]) -> None:
        if not objs:
            return
        columns: dict[str, None] = {}
        for obj in objs:
            for attname, (old, _new) in self.updated.get(obj.pk, {}).items():
                setattr(obj, attname, old)
                columns[attname] = None
        if columns:
            names = [self.fields[attname].name for attname in columns]
            self.model._base_manager.db_manager(self.using).bulk_update(
                objs, names, batch_size=len(objs)
            )
        restored = {obj.pk for obj in objs}
        for name, changed in self.links.items():
            # The links the import added go, the ones it removed come back
            # with their through rows' own pks; the others are not touched.
            field = self.model._meta.get_field(name)
            through = field.remote_field.through
            source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
            added, removed = [], []
            for pk, (before, after) in changed.items():
                if pk not in restored:
                    continue
                # A link removed and added again has a new through row: both count.
                added += [row for linked, row in after.items() if before.get(linked) != row]
                removed += [
                    through(pk=row, **{f"{source}_id": pk, f"{target}_id": linked})
                    for linked, row in before.items()
                    if after.get(linked) != row
                ]
            manager = through._base_manager.db_manager(self.using)
            if added:
                manager.filter(pk__in=added).delete()
            if removed:
                manager.bulk_create(removed)


def _same(field: models.Field, current: Any, written: Any) -> bool:
    """Whether the column still holds what the import wrote, as the database stores it."""
    if current is None or written is None:
        return current is None and written is None
    if isinstance(field, models.DecimalField) and isinstance(written, Decimal):
        places = Decimal(1).scaleb(-field.decimal_places)
        try:
            return bool(current.quantize(places) == written.quantize(places, ROUND_HALF_UP))
        except Exception:  # noqa: BLE001 - out of the column's range: not equal
            return False
    return bool(current == written)
