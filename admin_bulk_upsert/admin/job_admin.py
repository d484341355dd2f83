"""``ImportJobAdmin``: the history of import jobs, read-only, each user seeing their own.

Every staff user may open it (no ``view_importjob`` permission needed): what
they see is limited to their own jobs by ``ImportJob.objects.visible_to``, as
the job pages are, and superusers see all. Nothing is added or changed here;
jobs come from uploads. Only superusers delete jobs (with their files).

A job's change view is its job page under the model's admin (see
:mod:`.job_views`), where it can be confirmed, cancelled or run again. A job
whose model no ``BulkUpsertAdminMixin`` of this site imports is shown read-only
with the same template.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..jobs import expiry, storage
from ..jobs.models import ImportJob
from . import job_views, revert_views
from .mixins import BulkUpsertAdminMixin


class ImportJobAdmin(admin.ModelAdmin):
    # The key columns are on each job's page, and the model goes under the file name:
    # so State, Rows and Duration fit beside the filters at 1280 px.
    list_display = (
        "created_at",
        "file_and_model",
        "user_name",
        "state",
        "counts",
        "duration",
    )
    list_display_links = ("created_at", "file_and_model")
    list_filter = ("state", "model_label", "created_at")
    search_fields = ("file_name",)
    list_per_page = 50

    class Media:
        css = {"all": ("admin_bulk_upsert/history.css",)}

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).visible_to(request.user)

    def _staff(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._staff(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Superusers, for a job no worker holds (cancel a running one first)."""
        if obj is not None and obj.is_running:
            return False
        return bool(request.user.is_active and request.user.is_superuser)

    @admin.display(description=_("model"), ordering="model_label")
    def model_name(self, job: ImportJob) -> str:
        try:
            return str(job.model._meta.verbose_name_plural).capitalize()
        except LookupError:
            return job.model_label

    @admin.display(description=_("file"), ordering="file_name")
    def file_and_model(self, job: ImportJob) -> str:
        return format_html(
            '{}<br><span class="quiet">{}</span>', job.file_name, self.model_name(job)
        )

    @admin.display(description=_("key columns"))
    def key_columns(self, job: ImportJob) -> str:
        return ", ".join(job.unique_fields)

    @admin.display(description=_("rows"))
    def counts(self, job: ImportJob) -> str:
        """What the job's last step did: a cancelled job imported nothing, a reverted one
        lists what its revert deleted and restored, not the counts it had before."""
        if job.state == ImportJob.State.CANCELLED:
            return str(_("nothing imported"))
        if job.state in (ImportJob.State.REVERTED, ImportJob.State.PARTLY_REVERTED):
            totals = (job.revert_summary or {}).get("totals") or {}
            return _("reverted: %(delete)s deleted, %(restore)s restored") % {
                "delete": totals.get("delete", 0),
                "restore": totals.get("restore", 0),
            }
        if job.summary is None:
            return "—"
        # Only the outcomes that happened, grouped by thousands, so that the column stays
        # narrow enough for the history to fit at 1280 px.
        counts = (
            (ngettext("%(count)s new", "%(count)s new", job.new_rows), job.new_rows),
            (
                ngettext("%(count)s updated", "%(count)s updated", job.updated_rows),
                job.updated_rows,
            ),
            (
                ngettext("%(count)s unchanged", "%(count)s unchanged", job.unchanged_rows),
                job.unchanged_rows,
            ),
            (
                ngettext("%(count)s invalid", "%(count)s invalid", job.invalid_rows),
                job.invalid_rows,
            ),
            (ngettext("%(count)s error", "%(count)s errors", job.error_rows), job.error_rows),
        )
        parts = [
            label % {"count": number_format(count, force_grouping=True)}
            for label, count in counts
            if count
        ]
        return ", ".join(str(part) for part in parts) or str(_("no rows"))

    @admin.display(description=_("duration"))
    def duration(self, job: ImportJob) -> str:
        seconds = (job.preview_seconds or 0) + (job.import_seconds or 0)
        return job_views.format_seconds(seconds) if seconds else "—"

    def get_urls(self) -> list[Any]:
        opts = self.opts
        return [
            path(
                "<int:job_pk>/report.csv",
                self.admin_site.admin_view(self.report_view),
                name=f"{opts.app_label}_{opts.model_name}_report",
            ),
            path(
                "<int:job_pk>/revert-report.csv",
                self.admin_site.admin_view(self.revert_report_view),
                name=f"{opts.app_label}_{opts.model_name}_revert_report",
            ),
            *super().get_urls(),
        ]

    def report_view(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        job = get_object_or_404(self.get_queryset(request), pk=job_pk)
        return job_views.report_response(job)

    def revert_report_view(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        job = get_object_or_404(self.get_queryset(request), pk=job_pk)
        return revert_views.revert_report_response(job)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The job page: the one under the model's admin, or the same page read-only here."""
        job = get_object_or_404(self.get_queryset(request), pk=object_id)
        model_admin = self._importing_admin(job)
        if model_admin is not None:
            return HttpResponseRedirect(job_views.job_url(model_admin, job))
        expiry.fail_if_stale(job)
        return job_views.render_job_page(request, job, model_admin=None, admin_site=self.admin_site)

    def delete_model(self, request: HttpRequest, obj: ImportJob) -> None:
        _delete_files(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for job in queryset:
            _delete_files(job)
        super().delete_queryset(request, queryset)

    def _importing_admin(self, job: ImportJob) -> Any:
        try:
            model = job.model
        except LookupError:
            return None
        model_admin = self.admin_site._registry.get(model)
        return model_admin if isinstance(model_admin, BulkUpsertAdminMixin) else None


def _delete_files(job: ImportJob) -> None:
    """A deleted job takes its upload and reports along: nothing stays in storage unowned."""
    for name in (job.file.name, job.report.name, job.revert_report.name):
        storage.delete_quietly(name)
