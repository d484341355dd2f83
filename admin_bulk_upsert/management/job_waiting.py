"""Following a background import job from a terminal: ``bulk_import --wait``, ``import_jobs wait``.

The job runs in a worker; this side only reads the job's row every
``poll`` seconds and draws what it says (rows done, the rate and time left
the job measured), so that waiting costs the worker nothing. A running job
whose heartbeat went stale is declared failed here too, as the job page
does, rather than waited on for ever.

The exit status says how the job ended, so that a script can chain on it:
0 done (or previewed without a failed row), :data:`ROWS_FAILED` when rows
failed, 1 when the job failed otherwise or was cancelled.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError, OutputWrapper
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..jobs import expiry
from ..jobs.models import ImportJob
from .progress_bar import ProgressBar

#: Exit status when the import ran but some rows failed (as ``bulk_import`` without a job).
ROWS_FAILED = 2
#: Exit status when the waiting was interrupted (Ctrl-C): the job itself goes on.
INTERRUPTED = 130
#: Errors listed under a failed job; the rest are in the job's report.
ERRORS_SHOWN = 10

State = ImportJob.State


def follow(
    job_pk: int,
    *,
    stdout: OutputWrapper,
    stderr: OutputWrapper,
    verbose: bool = True,
    show_bar: bool = True,
    poll: float = 0.5,
    sleep: Callable[[float], None] | None = None,
) -> ImportJob:
    """Wait until the job ends (or is previewed), drawing its progress on ``stderr``.

    ``verbose`` prints each change of state on ``stdout``; ``show_bar`` draws
    the bar while a worker runs the job.
    """
    interactive = stderr.isatty()

    def write(text: str) -> None:
        stderr.write(text, style_func=lambda text: text, ending="")
        stderr.flush()

    bar: ProgressBar | None = None
    last_state = ""
    while True:
        job = _get(job_pk)
        if job.is_running:
            expiry.fail_if_stale(job)
        if job.state != last_state:
            if bar is not None:
                bar.finish()
                bar = None
            last_state = job.state
            if verbose:
                stdout.write(_state_line(job))
        if show_bar and job.is_running and job.rows_total:
            if bar is None:
                bar = ProgressBar(write, interactive=interactive, period=30)
            progress = job.progress()
            bar.show(
                job.rows_done, job.rows_total, progress["rows_per_second"], progress["seconds_left"]
            )
        if job.has_ended or job.state == State.PREVIEWED:
            if bar is not None:
                bar.finish()
            return job
        (sleep or time.sleep)(poll)


def report(job: ImportJob, stdout: OutputWrapper, style: Any, *, verbose: bool = True) -> None:
    """Print the job's outcome; raise :class:`CommandError` with the exit status unless it
    succeeded (the error's message is printed even at verbosity 0)."""
    if not verbose:
        stdout = OutputWrapper(io.StringIO())
    stdout.write(summary(job))
    failed_rows = job.invalid_rows + job.error_rows
    if job.state in (State.DONE, State.PREVIEWED) and not failed_rows:
        if job.state == State.DONE:
            stdout.write(style.SUCCESS(_("Import complete.")))
        else:
            stdout.write(_("Dry run: nothing was saved."))
        return
    for line in _error_lines(job):
        stdout.write(line)
    if job.state == State.CANCELLED:
        raise CommandError(
            job.failure or _("Import job %(id)s was cancelled: nothing was saved.") % {"id": job.pk}
        )
    if failed_rows:
        message = ngettext(
            "%(count)s row failed (import job %(id)s).",
            "%(count)s rows failed (import job %(id)s).",
            failed_rows,
        ) % {"count": f"{failed_rows:,}", "id": job.pk}
        if job.failure:
            message = f"{job.failure} {message}"
        raise CommandError(message, returncode=ROWS_FAILED)
    raise CommandError(job.failure or _("Import job %(id)s failed.") % {"id": job.pk})


def summary(job: ImportJob) -> str:
    seconds = job.import_seconds if job.import_seconds is not None else job.preview_seconds
    totals = job.totals
    counts = _(
        "%(new)s new, %(update)s updated, %(skip)s skipped, %(invalid)s invalid, %(error)s errors"
    ) % {key: f"{totals[key]:,}" for key in ("new", "update", "skip", "invalid", "error")}
    return _("Import job %(id)s, %(state)s: %(rows)s rows from %(file)s%(time)s: %(counts)s.") % {
        "id": job.pk,
        "state": job.get_state_display(),
        "rows": f"{job.rows_total or 0:,}",
        "file": job.file_name,
        "time": "" if seconds is None else _(" in %(seconds).1f s") % {"seconds": seconds},
        "counts": counts,
    }


def interrupted(job_pk: int) -> CommandError:
    """What Ctrl-C while waiting says: the job goes on, and how to follow or cancel it."""
    return CommandError(
        _(
            "Stopped waiting; import job %(id)s goes on. Follow it again with "
            "“manage.py import_jobs wait %(id)s”, or cancel it with "
            "“manage.py import_jobs cancel %(id)s”."
        )
        % {"id": job_pk},
        returncode=INTERRUPTED,
    )


def _get(job_pk: int) -> ImportJob:
    try:
        return ImportJob.objects.get(pk=job_pk)
    except ImportJob.DoesNotExist:
        raise CommandError(
            _("There is no import job %(id)s (deleted, or never created).") % {"id": job_pk}
        ) from None


def _state_line(job: ImportJob) -> str:
    if job.is_waiting:
        return _(
            "Import job %(id)s is queued: waiting for a worker (is one running for the "
            "task backend?)."
        ) % {"id": job.pk}
    return _("Import job %(id)s: %(state)s.") % {"id": job.pk, "state": job.get_state_display()}


def error_line(number: int | None, column: str, value: str, message: str) -> str:
    """One problem of one row, as the command prints it: ``row 2, column “x” ('v'): message``."""
    where = _("row %(row)s") % {"row": number} if number else _("file")
    if column:
        where += ", " + _("column “%(column)s”") % {"column": column}
    shown = f" ({value!r})" if value else ""
    return f"  {where}{shown}: {message}"


def _error_lines(job: ImportJob) -> list[str]:
    summary = job.summary or {}
    lines = [str(message) for message in summary.get("base_errors", [])]
    for error in summary.get("errors", [])[:ERRORS_SHOWN]:
        lines.append(error_line(error["number"], error["column"], error["value"], error["message"]))
    more = len(summary.get("errors", [])) - ERRORS_SHOWN + summary.get("hidden_errors", 0)
    if more > 0:
        lines.append(
            "  "
            + ngettext(
                "... and %(count)s more error: see the job's report.",
                "... and %(count)s more errors: see the job's report.",
                more,
            )
            % {"count": f"{more:,}"}
        )
    return lines
