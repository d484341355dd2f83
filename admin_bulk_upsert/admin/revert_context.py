"""The template context of the job page's revert section: the button, why not, the outcome.

:mod:`.revert_views` answers the revert's requests (preview, confirm, reports)
and renders the job page through :mod:`.job_views`; this module only builds the
context they render: the ``revert`` entry of every job page (shown by
``revert.html``) and the lists of entries (:func:`entries`, built by
:mod:`admin_bulk_upsert.jobs.revert_preview` as the API's are) of a revert
preview or a done revert. It cannot join :mod:`.revert_views`: :mod:`.job_views` needs
it to render any job page, so the views and the page would import each other.

A done job's page offers "Revert this import" to a user who may revert it
(:func:`~admin_bulk_upsert.jobs.revert.may_revert`: the importer or a
superuser, with the model's delete and change permissions) when nothing
refuses it (:func:`~admin_bulk_upsert.jobs.revert.refusal`: recorded on the
stock path, undo data expired, nothing changed); otherwise it says why not.
A revert that failed leaves the job done, with its failure in
``revert_summary``, and the button back. A reverted job shows the revert's
totals and conflicts from ``revert_summary``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from ..jobs import revert, revert_preview
from ..jobs.models import ImportJob
from ..jobs.revert_preview import KINDS

State = ImportJob.State


def revert_context(request: HttpRequest, job: ImportJob, model_admin: Any) -> dict[str, Any]:
    """The ``revert`` entry of the job page's context."""
    summary = job.revert_summary or {}
    context: dict[str, Any] = {
        "offered": False,
        "refusal": "",
        "failure": "",
        "outcome": None,
        "entries": [],
    }
    if job.state == State.DONE:
        context["failure"] = summary.get("failure", "")
        reason = revert.refusal(job)
        if reason is not None:
            context["refusal"] = reason
        elif model_admin is not None and revert.may_revert(request.user, job):
            context["offered"] = True
        else:
            context["refusal"] = _(
                "Reverting this import needs the delete and change permissions on "
                "%(model)s, and is for the user who imported it or a superuser."
            ) % {"model": _model_name(job)}
    elif job.state in (State.REVERTED, State.PARTLY_REVERTED) and "totals" in summary:
        context["outcome"] = summary
        # What was deleted and restored is in the report; the page lists what was not.
        context["entries"] = entries(
            summary["first"], summary["totals"], job, model_admin, kinds=("conflict",)
        )
    return context


def entries(
    first: dict[str, list[dict[str, str]]],
    totals: dict[str, int],
    job: ImportJob,
    model_admin: Any,
    kinds: tuple[str, ...] = KINDS,
) -> list[dict[str, Any]]:
    """Per kind with entries (:func:`.revert_preview.entries`), linked to their change pages."""
    return revert_preview.entries(
        first, totals, job, kinds, change_url=lambda pk: _change_url(model_admin, job, pk)
    )


def _model_name(job: ImportJob) -> str:
    try:
        return str(job.model._meta.verbose_name_plural)
    except LookupError:
        return job.model_label


def _change_url(model_admin: Any, job: ImportJob, pk: str) -> str | None:
    if model_admin is None:
        return None
    opts = model_admin.opts
    try:
        return reverse(
            f"admin:{opts.app_label}_{opts.model_name}_change",
            args=[pk],
            current_app=model_admin.admin_site.name,
        )
    except NoReverseMatch:
        return None
