"""Import jobs over HTTP: their status and progress, and what the admin's job page can do.

``ImportJobViewSet`` lists the jobs a client may see (its own; a superuser's, all
of them) and gives each one's state, progress (rows done, rows per second,
seconds left), totals and, once previewed, the preview's summary. ``confirm``,
``cancel``, ``run-again`` and ``revert`` change a job's state through
:mod:`admin_bulk_upsert.jobs.transitions`, as the admin's buttons do, and need
what the admin asks there: the model's add and change permissions, and the job
being the client's own (or the client a superuser; only the owner confirms);
a revert needs delete and change, and so does ``revert-preview``, which says
what a revert would do now, as the admin's revert preview shows it
(:mod:`admin_bulk_upsert.jobs.revert_preview`). ``report`` downloads the job's
per-row CSV.
Register it with the basename ``import-job`` (the bulk-upsert action's
``Location`` header names ``import-job-detail``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core import signing
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from ..jobs import expiry, revert, revert_preview, transitions
from ..jobs.models import ImportJob
from .permissions import import_permissions
from .schema import (
    ImportJobSerializer,
    job_action_schema,
    job_report_schema,
    job_schema,
    revert_preview_schema,
)

__all__ = ["ImportJobViewSet", "job_body"]

#: The URL name of a job's endpoint: ``ImportJobViewSet`` registered as ``import-job``.
JOB_URL_NAME = "import-job-detail"


def job_body(job: ImportJob, request: Request, url_name: str = JOB_URL_NAME) -> dict[str, Any]:
    """What a client is told of a job: where it is, what it imports, how far it got."""
    return {
        **job.progress(),
        "url": reverse(url_name, args=[job.pk], request=request),
        "model": job.model_label,
        "file_name": job.file_name,
        "unique_fields": job.unique_fields,
        "created_at": job.created_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "awaiting_confirm": job.state == ImportJob.State.PREVIEWED,
        "preview": job.summary,
    }


@job_schema
class ImportJobViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    """The client's import jobs: list, detail, and the confirm, cancel, run-again actions."""

    permission_classes = [*viewsets.GenericViewSet.permission_classes, IsAuthenticated]
    job_url_name = JOB_URL_NAME
    #: Describes a job's body for schema generators; the views build it with :func:`job_body`.
    serializer_class = ImportJobSerializer

    def get_queryset(self) -> Any:
        return ImportJob.objects.visible_to(self.request.user).order_by("-created_at", "-pk")

    def get_object(self) -> ImportJob:
        job = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        expiry.fail_if_stale(job)
        return job

    def list(self, request: Request) -> Response:
        jobs = self.get_queryset()
        page = self.paginate_queryset(jobs)
        bodies = [job_body(job, request, self.job_url_name) for job in (page or jobs[:100])]
        if page is not None:
            return self.get_paginated_response(bodies)
        return Response(bodies)

    def retrieve(self, request: Request, pk: Any = None) -> Response:
        return Response(job_body(self.get_object(), request, self.job_url_name))

    @job_action_schema
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: Any = None) -> Response:
        """Import a job started as a dry run (a preview), as its owner."""
        job = self._actionable()
        if job.user_pk != str(request.user.pk):
            self.permission_denied(request, message=_("Only who started an import confirms it."))
        try:
            transitions.confirm(job, transitions.confirm_token(job), request.user)
        except (signing.BadSignature, transitions.JobStateError) as exc:
            return self._conflict(job, request, exc)
        return self._after(job, request)

    @job_action_schema
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: Any = None) -> Response:
        job = self._actionable()
        try:
            transitions.cancel(job)
        except transitions.JobStateError as exc:
            return self._conflict(job, request, exc)
        return self._after(job, request)

    @job_action_schema
    @action(detail=True, methods=["post"], url_path="run-again", url_name="run-again")
    def run_again(self, request: Request, pk: Any = None) -> Response:
        job = self._actionable()
        try:
            transitions.run_again(job)
        except transitions.JobStateError as exc:
            return self._conflict(job, request, exc)
        return self._after(job, request)

    @job_action_schema
    @action(detail=True, methods=["post"])
    def revert(self, request: Request, pk: Any = None) -> Response:
        """Queue the undo of a done import: the admin's revert, with its permissions."""
        job = self.get_object()
        try:
            transitions.request_revert(job, request.user)
        except PermissionError as exc:
            self.permission_denied(request, message=str(exc))
        except transitions.JobStateError as exc:
            return self._conflict(job, request, exc)
        return self._after(job, request)

    @revert_preview_schema
    @action(detail=True, methods=["get"], url_path="revert-preview", url_name="revert-preview")
    def revert_preview(self, request: Request, pk: Any = None) -> Response:
        """What reverting the import would do now, as the admin's revert preview shows it.

        A dry run: nothing is written. A job that cannot be reverted now (not done,
        reverted already, its undo data expired, another job of the model running)
        is answered with ``revertable`` false and the reason, as the admin's job
        page says it, rather than an error: the client asked what a revert would do.
        """
        job = self.get_object()
        if not revert.may_revert(request.user, job):
            self.permission_denied(request, message=_("You may not revert this import."))
        body: dict[str, Any] = {
            "revertable": False,
            "refusal": "",
            "nothing_to_do": None,
            "totals": None,
            "entries": [],
            "seconds": None,
        }
        try:
            outcome = revert_preview.dry_run(job)
        except revert.RevertRefused as exc:
            body["refusal"] = str(exc)
        else:
            preview = outcome.as_json()
            groups = revert_preview.entries(preview["first"], preview["totals"], job)
            body.update(
                revertable=True,
                nothing_to_do=preview["nothing_to_do"],
                totals=preview["totals"],
                entries=[_without_url(group) for group in groups],
                seconds=preview["seconds"],
            )
        job.refresh_from_db()
        body["job"] = job_body(job, request, self.job_url_name)
        return Response(body)

    @job_report_schema
    @action(detail=True, methods=["get"])
    def report(self, request: Request, pk: Any = None) -> FileResponse:
        """The job's per-row CSV report (outcome, changed columns, errors of every row)."""
        job = self.get_object()
        if not job.report.name:
            raise Http404(_("This import has no report."))
        try:
            handle = job.report.open("rb")
        except FileNotFoundError:
            raise Http404(_("This report is no longer available.")) from None
        name = f"{Path(job.file_name).stem or 'import'}-report.csv"
        return FileResponse(handle, as_attachment=True, filename=name, content_type="text/csv")

    def _actionable(self) -> ImportJob:
        job = self.get_object()
        user = self.request.user
        owner = user.is_superuser or job.user_pk == str(user.pk)
        if not (owner and user.has_perms(import_permissions(job.model))):
            self.permission_denied(
                self.request,
                message=_(
                    "Acting on an import needs the permissions to add and to change its "
                    "records, and the import to be yours."
                ),
            )
        return job

    def _after(self, job: ImportJob, request: Request) -> Response:
        job.refresh_from_db()
        return Response(job_body(job, request, self.job_url_name))

    def _conflict(self, job: ImportJob, request: Request, exc: Exception) -> Response:
        job.refresh_from_db()
        body = {"detail": str(exc), "job": job_body(job, request, self.job_url_name)}
        return Response(body, status=status.HTTP_409_CONFLICT)


def _without_url(group: dict[str, Any]) -> dict[str, Any]:
    """An entry group as the API gives it: the admin's change-page links are the admin's."""
    rows = [{key: value for key, value in row.items() if key != "url"} for row in group["rows"]]
    return {**group, "rows": rows}
