"""The job page of a background import and its actions: progress, confirm, cancel, run again.

Reverting a done import from this page is in :mod:`.revert_views`.

The page is served under the model's admin (``<model>/import/jobs/<pk>/``),
next to the upload form that started the job, so that it is there on any
admin site using :class:`.mixins.BulkUpsertAdminMixin`, with the model's
breadcrumbs and import permission. The history (:mod:`.job_admin`) links to
it, and renders the same template read-only for a model no admin of its site
imports.

Who may do what: a user sees their own jobs, a superuser every job (a
foreign job is a 404, as if it did not exist). Confirming, cancelling and
running again also need the model's import permission and the job to be the
user's own (or a superuser's hand); the confirm token is bound to the user who
uploaded, so a superuser cannot confirm someone else's preview.

Every number is rendered on the server; the page's script only refreshes
them from ``progress.json`` (``ImportJob.progress()``) and reloads the page
when the state changes. Without JavaScript the page refreshes itself. A page
that watched an import until it was done ends where DIE's confirm ends: on the
changelist with DIE's success message (the script opens the page with
``?watched=1``, which redirects there); opened any other way, a finished job's
page stays, with the same message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..jobs import expiry, transitions
from ..jobs.models import ImportJob
from ..reports.preview import Preview
from .revert_context import revert_context

State = ImportJob.State
#: DIE's msgid, left unmarked here: DIE's catalog translates it.
_DIE_SUCCESS = "Import finished: {} new, {} updated, {} deleted and {} skipped {}."
TEMPLATE = "admin/admin_bulk_upsert/job.html"
#: Seconds between two refreshes of a page without JavaScript.
NOSCRIPT_REFRESH = 5
#: The query parameter of the job page the script opens when the import it watched is done.
WATCHED_PARAM = "watched"


def job_url(model_admin: Any, job: ImportJob, view: str = "import_job") -> str:
    opts = model_admin.opts
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_{view}",
        args=[job.pk],
        current_app=model_admin.admin_site.name,
    )


def visible_job(model_admin: Any, request: HttpRequest, job_pk: int) -> ImportJob:
    """The job if this user may see it and it imports into this admin's model, else 404."""
    return get_object_or_404(
        ImportJob.objects.visible_to(request.user),
        pk=job_pk,
        model_label=model_admin.opts.label,
    )


def may_act(model_admin: Any, request: HttpRequest, job: ImportJob) -> bool:
    """Import permission on the model, and the job is the user's (or a superuser acts)."""
    if model_admin is None or not model_admin.has_import_permission(request):
        return False
    return request.user.is_superuser or job.user_pk == str(request.user.pk)


def job_page_view(model_admin: Any, request: HttpRequest, job_pk: int) -> HttpResponse:
    job = visible_job(model_admin, request, job_pk)
    expiry.fail_if_stale(job)
    if job.state == State.DONE and request.GET.get(WATCHED_PARAM) == "1":
        # The page watched the import to its end: finish as a confirm in the request does.
        messages.success(request, success_message(job))
        return HttpResponseRedirect(_changelist_url(model_admin))
    return render_job_page(request, job, model_admin=model_admin)


def progress_view(model_admin: Any, request: HttpRequest, job_pk: int) -> JsonResponse:
    job = visible_job(model_admin, request, job_pk)
    expiry.fail_if_stale(job)
    return JsonResponse(job.progress())


def confirm_job_view(model_admin: Any, request: HttpRequest, job_pk: int) -> HttpResponse:
    """Queue the import of a previewed job; a token not issued for it imports nothing."""
    job = _actionable_job(model_admin, request, job_pk)
    try:
        transitions.confirm(job, request.POST.get("token", ""), request.user)
    except signing.SignatureExpired:
        return _refused(request, job, model_admin, _("This preview expired."), 400)
    except signing.BadSignature:
        return _refused(request, job, model_admin, gettext("Invalid import token."), 400)
    except transitions.JobStateError as exc:
        return _refused(request, job, model_admin, str(exc), 409)
    job.refresh_from_db()
    if job.state == State.DONE:
        # The task backend ran the import within this request (immediate backend):
        # end as DIE does, on the changelist with its message.
        messages.success(request, success_message(job))
        return HttpResponseRedirect(_changelist_url(model_admin))
    return HttpResponseRedirect(job_url(model_admin, job))


def cancel_job_view(model_admin: Any, request: HttpRequest, job_pk: int) -> HttpResponse:
    job = _actionable_job(model_admin, request, job_pk)
    try:
        transitions.cancel(job)
    except transitions.JobStateError as exc:
        return _refused(request, job, model_admin, str(exc), 409)
    job.refresh_from_db()
    # A cancelled job's page says so itself, however it got there (this button, a
    # running import stopped at its next chunk, the command line).
    if job.state != State.CANCELLED:
        messages.info(
            request,
            _("Cancelling: the import stops at its next chunk and rolls back what it wrote."),
        )
    return HttpResponseRedirect(job_url(model_admin, job))


def retry_job_view(model_admin: Any, request: HttpRequest, job_pk: int) -> HttpResponse:
    job = _actionable_job(model_admin, request, job_pk)
    try:
        transitions.run_again(job)
    except transitions.JobStateError as exc:
        return _refused(request, job, model_admin, str(exc), 409)
    return HttpResponseRedirect(job_url(model_admin, job))


def report_response(job: ImportJob) -> FileResponse:
    """The job's per-row CSV, served by the view that checked who asks (never a storage URL)."""
    if not job.report.name:
        raise Http404(gettext("This import has no report."))
    return stored_csv_response(job.report, f"{Path(job.file_name).stem or 'import'}-report.csv")


def stored_csv_response(stored: Any, file_name: str) -> FileResponse:
    """A CSV kept in the job storage, as a download named ``file_name``."""
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise Http404(gettext("This report is no longer available.")) from None
    return FileResponse(handle, as_attachment=True, filename=file_name, content_type="text/csv")


def report_view(model_admin: Any, request: HttpRequest, job_pk: int) -> FileResponse:
    return report_response(visible_job(model_admin, request, job_pk))


def success_message(job: ImportJob) -> str:
    """DIE's ``add_success_message`` wording (and catalog), from the job's counts."""
    return gettext(_DIE_SUCCESS).format(
        job.new_rows,
        job.updated_rows,
        job.deleted_rows,
        job.unchanged_rows,
        job.model._meta.verbose_name_plural,
    )


#: States whose stored summary is the import's own, not the preview's.
_IMPORTED_STATES = (
    State.DONE,
    State.REVERT_QUEUED,
    State.REVERTING,
    State.REVERTED,
    State.PARTLY_REVERTED,
)


def totals_heading(job: ImportJob) -> Any:
    """What the stored summary's totals are: the preview's, or the import's once it ran.

    The import replaces the preview's summary with its own when it finishes
    (done, or failed on its rows and rolled back); a cancelled or queued
    job still shows the preview's.
    """
    if job.state in _IMPORTED_STATES:
        return _("Import")
    if job.state == State.FAILED and job.import_seconds is not None:
        return _("Import, rolled back")
    return _("Preview")


def render_job_page(
    request: HttpRequest,
    job: ImportJob,
    *,
    model_admin: Any,
    admin_site: Any = None,
    error: Any = None,
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> TemplateResponse:
    """The job page; without ``model_admin`` (the history's view) it only reads.

    ``extra`` adds to the context (the revert preview of :mod:`.revert_views`).
    """
    site = model_admin.admin_site if model_admin is not None else admin_site
    acting = may_act(model_admin, request, job)
    preview = Preview.from_json(job.summary) if job.summary else None
    progress = job.progress()
    context = {
        **site.each_context(request),
        "title": _("Import job %(id)s: %(file)s") % {"id": job.pk, "file": job.file_name},
        "job": job,
        "opts": model_admin.opts if model_admin is not None else ImportJob._meta,
        "model_opts": _model_opts(job),
        "progress": progress,
        "time_left": format_seconds(progress["seconds_left"]),
        "result": preview,
        "totals_heading": totals_heading(job),
        "error_message": error,
        "success_message": success_message(job) if job.state == State.DONE else "",
        "polls": not job.has_ended and job.state != State.PREVIEWED,
        "noscript_refresh": NOSCRIPT_REFRESH,
        "confirm_token": (
            transitions.confirm_token(job)
            if acting
            and job.state == State.PREVIEWED
            and preview is not None
            and preview.importable
            and job.user_pk == str(request.user.pk)
            else ""
        ),
        "can_cancel": acting
        and job.cancel_requested_at is None
        and job.state in ImportJob.CANCELLABLE_STATES,
        "can_retry": acting and job.state == State.FAILED and bool(job.file.name),
        "urls": _urls(request, job, model_admin, site),
        "revert": revert_context(request, job, model_admin),
        **(extra or {}),
    }
    request.current_app = site.name
    return TemplateResponse(request, [TEMPLATE], context, status=status)


def format_seconds(seconds: float | None) -> str:
    """``M:SS`` or ``H:MM:SS``: the same clock the page's script writes."""
    if seconds is None:
        return ""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


# -- helpers ---------------------------------------------------------------------------


def _actionable_job(model_admin: Any, request: HttpRequest, job_pk: int) -> ImportJob:
    job = visible_job(model_admin, request, job_pk)
    if not may_act(model_admin, request, job):
        raise PermissionDenied
    return job


def _refused(
    request: HttpRequest, job: ImportJob, model_admin: Any, message: Any, status: int
) -> TemplateResponse:
    """The job page again, as it is now, with why nothing was done."""
    job.refresh_from_db()
    return render_job_page(request, job, model_admin=model_admin, error=message, status=status)


def _changelist_url(model_admin: Any) -> str:
    opts = model_admin.opts
    return reverse(
        f"admin:{opts.app_label}_{opts.model_name}_changelist",
        current_app=model_admin.admin_site.name,
    )


def _model_opts(job: ImportJob) -> Any:
    try:
        return job.model._meta
    except LookupError:
        return None


def _reverse(name: str, site: Any, *args: Any) -> str | None:
    try:
        return reverse(f"admin:{name}", args=args, current_app=site.name)
    except NoReverseMatch:
        return None


def _urls(
    request: HttpRequest, job: ImportJob, model_admin: Any, site: Any
) -> dict[str, str | None]:
    history = _reverse("admin_bulk_upsert_importjob_changelist", site)
    if model_admin is None:
        return {
            "history": history,
            "report": _reverse("admin_bulk_upsert_importjob_report", site, job.pk),
            "revert_report": _reverse("admin_bulk_upsert_importjob_revert_report", site, job.pk),
        }
    return {
        "history": history,
        "page": job_url(model_admin, job),
        # Only an import ends on the changelist; a revert that failed is back to done.
        "watched": (None if job.is_reverting else f"{job_url(model_admin, job)}?{WATCHED_PARAM}=1"),
        "progress": job_url(model_admin, job, "import_job_progress"),
        "confirm": job_url(model_admin, job, "import_job_confirm"),
        "cancel": job_url(model_admin, job, "import_job_cancel"),
        "retry": job_url(model_admin, job, "import_job_retry"),
        "report": job_url(model_admin, job, "import_job_report"),
        "revert": job_url(model_admin, job, "import_job_revert"),
        "revert_confirm": job_url(model_admin, job, "import_job_revert_confirm"),
        "revert_preview_csv": job_url(model_admin, job, "import_job_revert_preview_csv"),
        "revert_report": job_url(model_admin, job, "import_job_revert_report"),
        "changelist": _changelist_url(model_admin),
        "import": _reverse(
            f"{model_admin.opts.app_label}_{model_admin.opts.model_name}_import", site
        ),
        "delete": (
            _reverse("admin_bulk_upsert_importjob_delete", site, job.pk)
            if request.user.is_superuser and job.has_ended
            else None
        ),
    }
