"""Reverting a done import job from its undo data (:mod:`.undo`), or previewing that.

:func:`revert_preview` is the dry run (reads only); :func:`revert` does it, in
one transaction on the import's database, holding the model's import lock
(:func:`~admin_bulk_upsert.engine.import_lock.locked_transaction`) so that a revert and an
import (or another revert) of the same model run one after the other. Chunks
are undone newest first, so that a record two chunks of the import wrote goes
back through each state; each chunk is undone by :class:`.revert_chunk.ChunkRevert`,
with a constant number of statements per chunk. :func:`may_revert` and
:func:`refusal` say who may revert a job, and whether it can be reverted now.

This module does the work and changes no job's state: queueing a revert is
:func:`.transitions.request_revert`, running it in a worker :func:`.steps.run_revert`.

What is left as it is (conflicts, and records deleted since) is listed in the
outcome and its CSV report; :mod:`.revert_chunk` says when a record is a conflict.

Limitation: a created record edited since by something other than an import
(the admin's change form, say) is deleted: only the pks of created records
are recorded, not their values.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

from django.db import router
from django.utils.translation import gettext as _

from ..conf import get_config
from ..engine import import_lock
from ..reports.log_entries import write_entries
from .models import ImportJob
from .revert_chunk import KINDS, ChunkRevert, RevertReport
from .undo import UndoChunk, chunks_of, iter_payloads, revert_total

__all__ = ["RevertOutcome", "RevertRefused", "may_revert", "refusal", "revert", "revert_preview"]

State = ImportJob.State


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
    report = RevertReport(outcome.totals, outcome.first)
    log: list[tuple[int, str, str]] = []
    with import_lock.locked_transaction(model, using, get_config().LOCK_TIMEOUT):
        if not chunks_of(job.pk, using).exists():
            raise RevertRefused(refusal(job) or _("This import has no undo data."))
        later = _updated_later(job, using)
        total = revert_total(job.pk, using)
        done = 0
        for payload in iter_payloads(job.pk, using):
            chunk = ChunkRevert(model, using, payload, dry_run, later)
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
