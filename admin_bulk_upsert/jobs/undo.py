"""Undo data: what each chunk of a job's import created and overwrote, kept to revert it.

Where it lives, and why there: one :class:`UndoChunk` row per written chunk,
inserted on the import's own connection, inside the import's transaction
(the engine calls :class:`UndoRecorder` after each chunk's write, see
:mod:`admin_bulk_upsert.engine.chunk_changes`). So the undo data exists if and only if the
import committed: a failed, cancelled or rolled-back import, and a dry run,
leave none, with no second commit that could fail in between (files written at
``on_commit`` could be lost by a crash after the commit, or outlive an import
whose commit failed). The table is therefore migrated in every database
imports run in, and never routed to the jobs database
(:class:`~.routing.JobDatabaseRouter` sends only ``ImportJob`` there);
``job_id`` is a plain integer for the same reason: ``ImportJob`` may live in
another database.

A chunk's data is zlib-compressed JSON: the created pks, and per updated record
the changed columns with the value before and the value written, plus the
many-to-many links before and after where they changed. Values are stored as
Django's serializers store them (``value_to_string``, read back with
``to_python``), so decimals, aware datetimes, UUIDs and binary data come back
exactly. The rows are kept ``UNDO_MAX_AGE_DAYS`` (:func:`.expiry.delete_expired`), and
deleted by the revert that uses them.
"""

from __future__ import annotations

import json
import logging
import types
import zlib
from collections.abc import Iterator
from typing import Any

from django.db import DatabaseError, connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..engine.chunk_changes import ChunkWritten

#: Values JSON holds as they are (exact types: a subclass may serialize differently).
_PLAIN = (int, str, float, bool)
logger = logging.getLogger(__name__)


class UndoChunk(models.Model):
    """The undo data of one chunk of one import job, in the database the import wrote."""

    job_id = models.BigIntegerField(_("import job"), db_index=True)
    number = models.PositiveIntegerField(_("chunk"))
    model_label = models.CharField(_("model"), max_length=200)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    created_count = models.PositiveIntegerField(_("created records"), default=0)
    updated_count = models.PositiveIntegerField(_("updated records"), default=0)
    data = models.BinaryField(_("data"))

    class Meta:
        verbose_name = _("undo data of an import chunk")
        verbose_name_plural = _("undo data of import chunks")
        constraints = [
            models.UniqueConstraint(fields=["job_id", "number"], name="abu_undo_job_chunk")
        ]

    def __str__(self) -> str:
        return f"{self.model_label}, import job {self.job_id}, chunk {self.number}"

    def payload(self) -> dict[str, Any]:
        return json.loads(zlib.decompress(bytes(self.data)))  # type: ignore[no-any-return]


def encode(field: models.Field, value: Any) -> Any:
    """A JSON value ``decode(field, ...)`` turns back into ``value``."""
    if value is None or type(value) in _PLAIN:
        return value
    holder = types.SimpleNamespace(**{field.attname: value})
    return field.value_to_string(holder)


def decode(field: models.Field, value: Any) -> Any:
    if value is None:
        return None
    return field.to_python(value)


class UndoRecorder:
    """The ``on_chunk_written`` callback of a job's import: one ``UndoChunk`` insert per chunk."""

    def __init__(self, job_pk: int, model_label: str) -> None:
        self.job_pk = job_pk
        self.model_label = model_label
        self.chunks = 0
        self.bytes = 0
        self.updated = 0

    def __call__(self, written: ChunkWritten) -> None:
        meta = written.model._meta
        pk_field = meta.pk
        by_attname = {f.attname: f for f in meta.concrete_fields}
        updated = []
        for record in written.updated:
            changes = []
            for attname, (old, new) in record.changes.items():
                field = by_attname[attname]
                changes.append([attname, encode(field, old), encode(field, new)])
            updated.append([encode(pk_field, record.pk), changes])
        payload: dict[str, Any] = {
            "c": [encode(pk_field, pk) for pk in written.created],
            "u": updated,
        }
        links = {
            name: [
                [
                    encode(pk_field, c.pk),
                    _linked(meta, name, c.before),
                    _linked(meta, name, c.after),
                ]
                for c in changed
            ]
            for name, changed in written.links.items()
            if changed
        }
        if links:
            payload["m"] = links
        if written.unknown:
            payload["x"] = [encode(pk_field, pk) for pk in written.unknown]
        data = zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 6)
        if self.chunks == 0:
            self._drop_leftovers(written.using)
        self.chunks += 1
        UndoChunk.objects.using(written.using).create(
            job_id=self.job_pk,
            number=self.chunks,
            model_label=self.model_label,
            created_count=len(written.created),
            updated_count=_updated_count(written),
            data=data,
        )
        self.bytes += len(data)
        self.updated += len(written.updated)

    def _drop_leftovers(self, using: str) -> None:
        """Delete undo data already stored under this job's id, before its first chunk.

        The undo data lives with the imported records, the job possibly in another
        database, so nothing cascades between them: a run without one transaction
        that stopped part way leaves its chunks, and a job id can come back (SQLite
        reuses the highest rowid once that job is deleted; a jobs database recreated
        beside the records restarts at 1). Such chunks describe another run: kept,
        they would make this import fail on ``(job, number)`` or be undone with it.
        """
        UndoChunk.objects.using(using).filter(job_id=self.job_pk).delete()


def _updated_count(written: ChunkWritten) -> int:
    """The records a revert of the chunk restores or reports: those whose values or links
    changed, and those replayed whose values before were not read (as the revert counts)."""
    pks = {record.pk for record in written.updated}
    pks.update(changed.pk for links in written.links.values() for changed in links)
    return len(pks) + len(written.unknown)


def revert_total(job_pk: int, using: str) -> int:
    """How many records a revert of the job goes through: its progress bar's total."""
    found = (
        UndoChunk.objects.using(using)
        .filter(job_id=job_pk)
        .aggregate(total=models.Sum(models.F("created_count") + models.F("updated_count")))
    )
    return int(found["total"] or 0)


def _linked(meta: Any, name: str, links: dict[Any, Any]) -> list[Any]:
    """``[linked pk, through row pk, ...]``, flat."""
    field = meta.get_field(name)
    target_pk = field.related_model._meta.pk
    row_pk = field.remote_field.through._meta.pk
    flat = []
    for linked, row in links.items():
        flat += [encode(target_pk, linked), encode(row_pk, row)]
    return flat


def chunks_of(job_pk: int, using: str) -> models.QuerySet[UndoChunk]:
    return UndoChunk.objects.using(using).filter(job_id=job_pk)


def iter_payloads(job_pk: int, using: str, newest_first: bool = True) -> Iterator[dict[str, Any]]:
    """Each chunk's payload, one query per chunk (the blobs are not all held at once)."""
    order = "-number" if newest_first else "number"
    for pk in list(chunks_of(job_pk, using).order_by(order).values_list("pk", flat=True)):
        yield UndoChunk.objects.using(using).get(pk=pk).payload()


def delete_expired_undo(before: Any) -> int:
    """Delete undo data created before ``before`` in every database it is migrated to."""
    deleted = 0
    for alias in connections:
        if not router.allow_migrate_model(alias, UndoChunk):
            continue
        try:
            with transaction.atomic(using=alias):
                count, _ = UndoChunk.objects.using(alias).filter(created_at__lt=before).delete()
        except DatabaseError:  # not migrated there (yet): nothing to delete
            logger.debug("No undo data table in database %s", alias, exc_info=True)
            continue
        deleted += count
    return deleted
