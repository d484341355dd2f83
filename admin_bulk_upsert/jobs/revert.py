"""Reverting a done import job from its undo data (:mod:`.undo`), or previewing that.

:func:`revert_preview` is the dry run (reads only); :func:`revert` does it, in
one transaction on the import's database, holding the model's import lock
(:func:`~admin_bulk_upsert.engine.import_lock.model_import_lock`) so that a revert and an
import (or another revert) of the same model run one after the other. Chunks
are undone newest first, so that a record two chunks of the import wrote goes
back through each state. Per chunk, a constant number of statements: one
``SELECT ... FOR UPDATE`` of the records, one query per protecting relation,
two per many-to-many field that the import changed, one delete, one bulk
update.

What is left as it is, and listed:

* conflicts: an updated record whose current value of a column the import
  wrote differs from that value (edited since, by hand or by a later import),
  with column, imported value and current value; a created record that a later
  import of this model updated (its undo data says so), or that another row
  references through a ``PROTECT``/``RESTRICT`` foreign key; a record whose
  values before the import were not recorded;
* gone: created or updated records deleted since (nothing to do).

Limitation: a created record edited since by something other than an import
(the admin's change form, say) is deleted: only the pks of created records
are recorded, not their values.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import time
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.admin.models import CHANGE, DELETION
from django.db import models, router, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _

from ..conf import get_config
from ..engine.chunk_changes import read_links
from ..engine.import_lock import model_import_lock
from ..reports.log_entries import write_entries
from . import storage
from .models import ImportJob
from .undo import UndoChunk, chunks_of, decode, iter_payloads

State = ImportJob.State
#: Entries of each kind kept in the outcome (the CSV report lists them all).
FIRST = 100
KINDS = ("delete", "restore", "conflict", "gone")


class RevertRefused(Exception):
    """The job cannot be reverted (its message says why)."""


@dataclasses.dataclass
class RevertOutcome:
    """Totals (records per kind), the first entries of each kind, the CSV report's name."""

    dry_run: bool
    totals: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    first: dict[str, list[dict[str, str]]] = dataclasses.field(
        default_factory=lambda: {kind: [] for kind in KINDS}
    )
    report: str = ""
    seconds: float = 0.0

    @property
    def nothing_to_do(self) -> bool:
        return not (self.totals["delete"] or self.totals["restore"])

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "totals": self.totals,
            "first": self.first,
            "nothing_to_do": self.nothing_to_do,
            "seconds": round(self.seconds, 3),
        }


def import_alias(job: ImportJob) -> str:
    return router.db_for_write(job.model)


def may_revert(user: Any, job: ImportJob) -> bool:
    """The importer or a superuser, with the model's delete and change permissions."""
    if user is None or not user.is_active:
        return False
    if not (user.is_superuser or str(user.pk) == job.user_pk):
        return False
    meta = job.model._meta
    return bool(
        user.has_perm(f"{meta.app_label}.delete_{meta.model_name}")
        and user.has_perm(f"{meta.app_label}.change_{meta.model_name}")
    )


def refusal(job: ImportJob) -> str | None:
    """Why ``job`` cannot be reverted now, or ``None``."""
    if job.state in (State.REVERTED, State.PARTLY_REVERTED):
        return _("This import was reverted already.")
    if job.state in (State.REVERT_QUEUED, State.REVERTING):
        return _("This import is being reverted.")
    if job.state != State.DONE:
        return _("Only a finished import can be reverted.")
    if job.undo_refusal:
        return job.undo_refusal
    if not chunks_of(job.pk, import_alias(job)).exists():
        if job.new_rows or job.updated_rows or job.deleted_rows:
            return _(
                "The undo data of this import is no longer available (it is kept %(days)d days)."
            ) % {"days": get_config().UNDO_MAX_AGE_DAYS}
        return _("This import changed nothing: there is nothing to revert.")
    return None


def revert_preview(job: ImportJob) -> RevertOutcome:
    """What :func:`revert` would do now, without changing anything."""
    reason = refusal(job)
    if reason is not None:
        raise RevertRefused(reason)
    return _run(job, dry_run=True)


def revert(
    job: ImportJob,
    *,
    user_pk: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> RevertOutcome:
    """Revert the job's import in one transaction; its undo data goes with it.

    Does not change the job's state (see :func:`.steps.run_revert`, the task's body);
    raises :class:`RevertRefused` when the job has no undo data.
    """
    if job.undo_refusal:
        raise RevertRefused(job.undo_refusal)
    return _run(job, dry_run=False, user_pk=user_pk, progress=progress)


# -- the work ---------------------------------------------------------------------------


def _run(
    job: ImportJob,
    *,
    dry_run: bool,
    user_pk: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> RevertOutcome:
    started = time.monotonic()
    model = job.model
    using = import_alias(job)
    outcome = RevertOutcome(dry_run=dry_run)
    report = _Report(outcome)
    log: list[tuple[int, str, str]] = []
    lock = model_import_lock(model, using, get_config().LOCK_TIMEOUT)
    with lock, transaction.atomic(using=using):
        if not chunks_of(job.pk, using).exists():
            raise RevertRefused(refusal(job) or _("This import has no undo data."))
        later = _updated_later(job, using)
        total = job.new_rows + job.updated_rows
        done = 0
        for payload in iter_payloads(job.pk, using):
            chunk = _ChunkRevert(model, using, payload, dry_run, later)
            done += chunk.run(report, log)
            if progress is not None:
                progress(done, total)
        if not dry_run:
            chunks_of(job.pk, using).delete()
        user_pk = user_pk or job.user_pk or None
        if not dry_run and user_pk is not None:
            message = _("Reverted bulk import of “%(file)s”.") % {"file": job.file_name}
            write_entries(
                log,
                user_pk=user_pk,
                model=model,
                message=message,
                batch_size=get_config().BATCH_SIZE,
            )
    outcome.report = report.save()
    outcome.seconds = time.monotonic() - started
    return outcome


def _updated_later(job: ImportJob, using: str) -> dict[str, int]:
    """pk (as text) -> job id, of the records later imports of this model updated."""
    found: dict[str, int] = {}
    later = (
        UndoChunk.objects.using(using)
        .filter(model_label=job.model_label, job_id__gt=job.pk, updated_count__gt=0)
        .values_list("job_id", "pk")
    )
    for job_id, pk in later:
        payload = UndoChunk.objects.using(using).get(pk=pk).payload()
        for record_pk, _changes in payload["u"]:
            found.setdefault(str(record_pk), job_id)
        for changed in payload.get("m", {}).values():
            for record_pk, _before, _after in changed:
                found.setdefault(str(record_pk), job_id)
    return found


class _Report:
    """The CSV of every entry, and the first :data:`FIRST` of each kind in the outcome."""

    HEADER = ("outcome", "pk", "column", "imported_value", "current_value", "detail")

    def __init__(self, outcome: RevertOutcome) -> None:
        self.outcome = outcome
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)
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
            self.outcome.totals[kind] += 1
        if len(self.outcome.first[kind]) < FIRST:
            self.outcome.first[kind].append(entry)
        self.writer.writerow((kind, *entry.values()))

    def save(self) -> str:
        return storage.save_new("revert-report", self.buffer.getvalue().encode())


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class _ChunkRevert:
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

    def run(self, report: _Report, log: list[tuple[int, str, str]]) -> int:
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
            report.add("restore", obj.pk)
            log.append((CHANGE, str(obj.pk), str(obj)[:200]))
        return len(self.created) + len(updated_pks) + len(self.unknown)

    # -- created records ---------------------------------------------------------------

    def _created(self, current: dict[Any, models.Model], report: _Report) -> list[Any]:
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
        self, pks: list[Any], current: dict[Any, models.Model], report: _Report
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
        self, pks: Sequence[Any], current: dict[Any, models.Model], report: _Report
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
