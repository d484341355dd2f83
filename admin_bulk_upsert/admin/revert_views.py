"""Reverting a done import from its job page: the preview, its CSV, the confirm, the report.

The preview (``revert/``) runs :func:`~admin_bulk_upsert.jobs.revert_preview.dry_run`
in the request, as the API's ``revert-preview`` does: a dry run that reads the
undo data and the records, writes nothing and takes no row lock, about 3 s for
an import of 100,000 rows (half new) on PostgreSQL. Running it in a worker
would need states of its own for a few seconds' wait; the revert itself, which
writes, is the background step.
The CSV of every entry (``revert/preview.csv``) runs the same dry run again,
so that it lists what a revert would do now, and keeps no file behind.

"Confirm revert" posts a token signed for this job and the user who previewed
(:func:`~admin_bulk_upsert.jobs.transitions.revert_token`), as the import's
confirm does; the revert is queued and the page follows it like an import.

What the job page shows about reverting, outside these requests (the button,
the reason there is none, a done revert's outcome), is built by
:mod:`.revert_context`.

Status codes: a foreign job is a 404 (as on every job page), a user who may
not revert it gets a 403, a forged or foreign token a 400, and a job that
cannot be reverted (again) a 409 with the page saying why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..jobs import revert, revert_preview, storage, transitions
from ..jobs.models import ImportJob
from .job_views import job_url, render_job_page, stored_csv_response, visible_job
from .revert_context import entries


def revert_preview_view(model_admin: Any, request: HttpRequest, job_pk: int) -> HttpResponse:
    """The job page with what a revert would do now, and its "Confirm revert" form."""
    job = _revertable_job(model_admin, request, job_pk)
    try:
        outcome = revert_preview.dry_run(job)
    except revert.RevertRefused as exc:
        return _refused(request, job, model_admin, str(exc), 409)
    preview = outcome.as_json()
    context = {
        "revert_preview": preview,
        "revert_preview_entries": entries(preview["first"], preview["totals"], job, model_admin),
        "revert_token": (
            "" if outcome.nothing_to_do else transitions.revert_token(job, request.user)
        ),
    }
    return render_job_page(request, job, model_admin=model_admin, extra=context)


def revert_preview_csv_view(model_admin: Any, request: HttpRequest, job_pk: int) -> HttpResponse:
    """Every entry of the revert preview, as the revert's report will list them."""
    job = _revertable_job(model_admin, request, job_pk)
    try:
        outcome = revert_preview.preview(job)
    except revert.RevertRefused as exc:
        return _refused(request, job, model_admin, str(exc), 409)
    handle = storage.job_storage().open(outcome.report, "rb")
    try:
        content = handle.read()
    finally:
        handle.close()
        storage.delete_quietly(outcome.report)
    response = HttpResponse(content, content_type="text/csv")
    name = f"{Path(job.file_name).stem or 'import'}-revert-preview.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def confirm_revert_view(model_admin: Any, request: HttpRequest, job_pk: int) -> HttpResponse:
    """Queue the revert; a token not issued for this job and user reverts nothing."""
    job = _revertable_job(model_admin, request, job_pk)
    try:
        transitions.confirm_revert(job, request.POST.get("token", ""), request.user)
    except signing.SignatureExpired:
        return _refused(request, job, model_admin, _("This revert preview expired."), 400)
    except signing.BadSignature:
        return _refused(request, job, model_admin, _("Invalid revert token."), 400)
    except PermissionError as exc:
        raise PermissionDenied(str(exc)) from exc
    except transitions.JobStateError as exc:
        return _refused(request, job, model_admin, str(exc), 409)
    return HttpResponseRedirect(job_url(model_admin, job))


def revert_report_view(model_admin: Any, request: HttpRequest, job_pk: int) -> FileResponse:
    """The revert's CSV (every record, what was done with it), for whoever sees the job."""
    return revert_report_response(visible_job(model_admin, request, job_pk))


def revert_report_response(job: ImportJob) -> FileResponse:
    if not job.revert_report.name:
        raise Http404(gettext("This import has no revert report."))
    name = f"{Path(job.file_name).stem or 'import'}-revert-report.csv"
    return stored_csv_response(job.revert_report, name)


# -- helpers ---------------------------------------------------------------------------


def _revertable_job(model_admin: Any, request: HttpRequest, job_pk: int) -> ImportJob:
    job = visible_job(model_admin, request, job_pk)
    if not revert.may_revert(request.user, job):
        raise PermissionDenied
    return job


def _refused(
    request: HttpRequest, job: ImportJob, model_admin: Any, message: Any, status: int
) -> TemplateResponse:
    job.refresh_from_db()
    return render_job_page(request, job, model_admin=model_admin, error=message, status=status)
