"""``ImportJob``: one uploaded file, from its preview to its import, kept as history.

The row is the only thing the web servers and the workers share about a job
(with the file in :mod:`.storage`), so it carries everything the job page
shows: state, progress, heartbeat, counts and the preview's summary, stored so
that the page renders without running anything again.

Who started the job is kept as the user's pk and name rather than a foreign
key: a project may keep jobs in a database of its own (SQLite's one writer at a
time makes that the way to see progress there), and the history should still
say who imported a file after that user is deleted.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.apps import apps
from django.db import models, router
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..conf import get_config
from .storage import job_storage
from .undo import revert_total

__all__ = ["ImportJob"]


class ImportJobQuerySet(models.QuerySet["ImportJob"]):
    def visible_to(self, user: Any) -> ImportJobQuerySet:
        """Superusers see every job; other users their own."""
        if user.is_superuser:
            return self
        return self.filter(user_pk=str(user.pk))

    def running(self) -> ImportJobQuerySet:
        return self.filter(state__in=ImportJob.RUNNING_STATES)


class ImportJob(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("queued")
        PREVIEWING = "previewing", _("previewing")
        PREVIEWED = "previewed", _("previewed")
        CONFIRMED = "confirmed", _("queued for import")
        IMPORTING = "importing", _("importing")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")
        REVERT_QUEUED = "revert_queued", _("queued for revert")
        REVERTING = "reverting", _("reverting")
        REVERTED = "reverted", _("reverted")
        PARTLY_REVERTED = "partly_reverted", _("partly reverted")

    #: A worker holds the job: its heartbeat must stay fresh.
    RUNNING_STATES = (State.PREVIEWING, State.IMPORTING, State.REVERTING)
    #: Waiting for a worker to pick the job up.
    WAITING_STATES = (State.QUEUED, State.CONFIRMED, State.REVERT_QUEUED)
    #: A done import on its way back: queued for its revert, or reverting.
    REVERT_STATES = (State.REVERT_QUEUED, State.REVERTING)
    #: What "Cancel import" stops: a revert is not cancelled (it is one short transaction,
    #: and the import it undoes is done).
    CANCELLABLE_STATES = (
        State.QUEUED,
        State.PREVIEWING,
        State.PREVIEWED,
        State.CONFIRMED,
        State.IMPORTING,
    )
    ENDED_STATES = (
        State.DONE,
        State.FAILED,
        State.CANCELLED,
        State.REVERTED,
        State.PARTLY_REVERTED,
    )

    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    user_pk = models.CharField(_("user id"), max_length=64, blank=True, db_index=True)
    user_name = models.CharField(_("user"), max_length=150, blank=True)

    model_label = models.CharField(_("model"), max_length=200, db_index=True)
    #: The resource's dotted path; blank for the default resource of the model.
    resource_path = models.CharField(_("resource"), max_length=300, blank=True)
    resource_kwargs = models.JSONField(_("resource arguments"), default=dict, blank=True)
    import_kwargs = models.JSONField(_("import arguments"), default=dict, blank=True)
    #: The admin site the job was started from (for links back); blank from the CLI.
    admin_site = models.CharField(_("admin site"), max_length=100, blank=True)

    file_name = models.CharField(_("file"), max_length=255)
    file = models.FileField(_("stored file"), storage=job_storage, max_length=255, blank=True)
    file_size = models.BigIntegerField(_("file size"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    input_format = models.CharField(_("format"), max_length=20)
    encoding = models.CharField(_("encoding"), max_length=40, blank=True)
    unique_fields = models.JSONField(_("key columns"), default=list)
    #: ``{file header: field name}`` chosen on the mapping page or given to ``bulk_import
    #: --map`` (``""``: column ignored); empty when the file's headers were the resource's.
    column_map = models.JSONField(_("column mapping"), default=dict, blank=True)

    state = models.CharField(
        _("state"), max_length=20, choices=State.choices, default=State.QUEUED, db_index=True
    )
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    new_rows = models.PositiveIntegerField(_("new"), default=0)
    updated_rows = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_rows = models.PositiveIntegerField(_("unchanged"), default=0)
    deleted_rows = models.PositiveIntegerField(_("deleted"), default=0)
    invalid_rows = models.PositiveIntegerField(_("invalid"), default=0)
    error_rows = models.PositiveIntegerField(_("errors"), default=0)

    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    #: When the current step started: progress is measured from here.
    step_started_at = models.DateTimeField(_("step started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("heartbeat"), null=True, blank=True)
    preview_seconds = models.FloatField(_("preview time (s)"), null=True, blank=True)
    import_seconds = models.FloatField(_("import time (s)"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    cancel_requested_at = models.DateTimeField(_("cancel requested"), null=True, blank=True)
    failure = models.TextField(_("failure"), blank=True)
    #: ``"preview"`` or ``"import"``: the step "run again" queues for a failed job.
    failed_step = models.CharField(_("failed step"), max_length=10, blank=True)

    #: The preview's totals, first changed rows and first errors (``Preview.as_json()``).
    summary = models.JSONField(_("summary"), null=True, blank=True)
    report = models.FileField(_("report"), storage=job_storage, max_length=255, blank=True)

    #: Why the import recorded no undo data (the stock row-by-row path), if so.
    undo_refusal = models.TextField(_("why it cannot be reverted"), blank=True)
    #: The revert's totals and first entries (``RevertOutcome.as_json()``), or its failure.
    revert_summary = models.JSONField(_("revert summary"), null=True, blank=True)
    revert_report = models.FileField(
        _("revert report"), storage=job_storage, max_length=255, blank=True
    )
    reverted_by = models.CharField(_("reverted by (user id)"), max_length=64, blank=True)
    reverted_at = models.DateTimeField(_("reverted"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} → {self.model_label} ({self.get_state_display()})"

    @property
    def model(self) -> Any:
        return apps.get_model(self.model_label)

    @property
    def is_running(self) -> bool:
        return self.state in self.RUNNING_STATES

    @property
    def is_waiting(self) -> bool:
        return self.state in self.WAITING_STATES

    @property
    def is_reverting(self) -> bool:
        return self.state in self.REVERT_STATES

    @property
    def has_ended(self) -> bool:
        return self.state in self.ENDED_STATES

    @property
    def totals(self) -> dict[str, int]:
        return {
            "new": self.new_rows,
            "update": self.updated_rows,
            "skip": self.unchanged_rows,
            "delete": self.deleted_rows,
            "invalid": self.invalid_rows,
            "error": self.error_rows,
        }

    def heartbeat_is_stale(self, now: datetime.datetime | None = None) -> bool:
        """A running job whose worker has not been heard of for ``HEARTBEAT_TIMEOUT``."""
        if not self.is_running:
            return False
        last = self.heartbeat_at or self.step_started_at
        if last is None:
            return False
        now = now or timezone.now()
        return (now - last).total_seconds() > get_config().HEARTBEAT_TIMEOUT

    def progress(self, now: datetime.datetime | None = None) -> dict[str, Any]:
        """What the job page's progress bar shows (also the JSON endpoint's body)."""
        now = now or timezone.now()
        total, done = self.rows_total, self.rows_done
        if self.is_reverting:
            # A revert counts the records its undo data lists (created ones, and updated
            # ones whose values or links changed), not the file's rows nor the import's
            # "updated" rows, which include identical ones.
            total = revert_total(self.pk, router.db_for_write(self.model))
            done = min(done, total) if self.state == self.State.REVERTING else 0
        rate = remaining = None
        if self.is_running and self.step_started_at and done:
            elapsed = max((now - self.step_started_at).total_seconds(), 1e-3)
            rate = done / elapsed
            if total:
                remaining = max(total - done, 0) / rate
        return {
            "id": self.pk,
            "state": self.state,
            "state_label": str(self.get_state_display()),
            "rows_total": total,
            "rows_done": done,
            "percent": round(100 * done / total, 1) if total else (100.0 if self.has_ended else 0),
            "rows_per_second": round(rate, 1) if rate is not None else None,
            "seconds_left": round(remaining, 1) if remaining is not None else None,
            "totals": self.totals,
            "failure": self.failure,
            "cancel_requested": self.cancel_requested_at is not None,
            "ended": self.has_ended,
        }
