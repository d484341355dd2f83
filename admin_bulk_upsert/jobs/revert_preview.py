"""What reverting a done import would do now, as the admin's job page and the HTTP API show it.

The admin's revert preview (:mod:`admin_bulk_upsert.admin.revert_views`) and the
API's ``revert-preview`` action (:mod:`admin_bulk_upsert.drf.job_views`) show the
same thing, built here once: the dry run (:func:`dry_run`, refused while another
job of the model runs) and its first entries per kind, each record by its name
(:func:`entries`). Only the admin links a record to its change page, so the link
is the caller's (``change_url``).

Kept apart from :mod:`.revert`, which does the work: this module only asks it
and words the answer for a reader.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _

from . import revert, storage
from .models import ImportJob

__all__ = ["KINDS", "dry_run", "entries", "preview"]

#: The kinds of a revert's entries, in the order the page lists them.
KINDS = ("conflict", "delete", "restore", "gone")


def preview(job: ImportJob) -> revert.RevertOutcome:
    """The dry run with its CSV report, refused while a job of the same model runs.

    The dry run takes the model's import lock, as the revert does, to read a
    consistent state: a request must not wait for another job's lock.
    """
    busy = (
        ImportJob.objects.running().filter(model_label=job.model_label).exclude(pk=job.pk).exists()
    )
    if busy:
        raise revert.RevertRefused(
            _("Another import job of this model is running: preview the revert once it is done.")
        )
    return revert.revert_preview(job)


def dry_run(job: ImportJob) -> revert.RevertOutcome:
    """The preview's outcome; its CSV is made again on demand, so its file goes at once."""
    outcome = preview(job)
    storage.delete_quietly(outcome.report)
    outcome.report = ""
    return outcome


def entries(
    first: dict[str, list[dict[str, str]]],
    totals: dict[str, int],
    job: ImportJob,
    kinds: tuple[str, ...] = KINDS,
    change_url: Callable[[str], str | None] | None = None,
) -> list[dict[str, Any]]:
    """Per kind with entries: its title, total, first entries (named, linked) and how many more.

    ``change_url`` gives a record's page from its pk; a record deleted since has none.
    """
    titles = {
        "conflict": _("Conflicts: left as they are"),
        "delete": _("Created by the import: deleted"),
        "restore": _("Updated by the import: previous values restored"),
        "gone": _("Deleted since the import: nothing to do"),
    }
    found = []
    for kind in kinds:
        listed = first.get(kind) or []
        if not listed:
            continue
        labels = _labels(job, [entry["pk"] for entry in listed]) if kind != "gone" else {}
        rows = [
            {
                **entry,
                "label": labels.get(entry["pk"], entry["pk"]),
                "url": change_url(entry["pk"]) if change_url and kind != "gone" else None,
            }
            for entry in listed
        ]
        # Conflicts count records; a record may be listed once per conflicting column.
        records = len({entry["pk"] for entry in listed})
        found.append(
            {
                "kind": kind,
                "title": titles[kind],
                "total": totals.get(kind, 0),
                "rows": rows,
                "more": max(totals.get(kind, 0) - records, 0),
            }
        )
    return found


def _labels(job: ImportJob, pks: list[str]) -> dict[str, str]:
    """Each listed record's ``str()``, in one query (at most the listed hundred per kind);
    a record gone since keeps its pk."""
    try:
        model = job.model
        records = model._base_manager.using(revert.import_alias(job)).filter(pk__in=pks)
        return {str(record.pk): str(record) for record in records}
    except (LookupError, ValueError, TypeError):
        return {}
