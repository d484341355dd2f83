"""``manage.py import_jobs``: list, follow, cancel and clean up background import jobs.

- ``list``: the latest jobs, newest first;
- ``wait ID``: follow a job's progress until it ends (as ``bulk_import --wait``);
- ``cancel ID``: cancel a queued job, or ask a running one to stop at its next chunk;
- ``cleanup``: :func:`admin_bulk_upsert.jobs.expiry.delete_expired`, for cron. A project
  with a periodic task scheduler can schedule the task
  ``admin_bulk_upsert.jobs.tasks.delete_expired_jobs`` instead.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from admin_bulk_upsert.jobs import expiry, transitions
from admin_bulk_upsert.jobs.models import ImportJob
from admin_bulk_upsert.management import job_waiting


class Command(BaseCommand):
    help = "List, follow, cancel and clean up admin_bulk_upsert's background import jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = actions.add_parser("list", help="Show the latest jobs, newest first.")
        listing.add_argument("--limit", type=int, default=20, metavar="N")
        wait = actions.add_parser("wait", help="Follow a job until it ends.")
        wait.add_argument("job_id", type=int, metavar="ID")
        wait.add_argument("--no-progress", action="store_true", help="Do not draw the bar.")
        cancel = actions.add_parser("cancel", help="Cancel a queued or running job.")
        cancel.add_argument("job_id", type=int, metavar="ID")
        actions.add_parser(
            "cleanup",
            help="Expire unconfirmed previews, fail jobs whose worker went silent, delete "
            "uploads of ended jobs, jobs older than JOB_MAX_AGE_DAYS and undo data older than "
            "UNDO_MAX_AGE_DAYS.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action']}")(options)

    def _list(self, options: dict[str, Any]) -> None:
        jobs = list(ImportJob.objects.all()[: options["limit"]])
        if not jobs:
            self.stdout.write(_("No import jobs."))
            return
        for job in jobs:
            created = timezone.localtime(job.created_at).strftime("%Y-%m-%d %H:%M")
            rows = f"{job.rows_done:,}/{job.rows_total:,}" if job.rows_total else "-"
            self.stdout.write(
                f"{job.pk:>6}  {created}  {job.get_state_display():<17}  {rows:>15}  "
                f"{job.model_label}  {job.file_name}  {job.user_name or '-'}"
            )

    def _wait(self, options: dict[str, Any]) -> None:
        verbose = options["verbosity"] > 0
        try:
            job = job_waiting.follow(
                options["job_id"],
                stdout=self.stdout,
                stderr=self.stderr,
                verbose=verbose,
                show_bar=verbose and not options["no_progress"],
            )
        except KeyboardInterrupt:
            raise job_waiting.interrupted(options["job_id"]) from None
        job_waiting.report(job, self.stdout, self.style, verbose=verbose)

    def _cancel(self, options: dict[str, Any]) -> None:
        job = ImportJob.objects.filter(pk=options["job_id"]).first()
        if job is None:
            raise CommandError(_("There is no import job %(id)s.") % {"id": options["job_id"]})
        try:
            transitions.cancel(job)
        except transitions.JobStateError as exc:
            raise CommandError(str(exc)) from exc
        job.refresh_from_db()
        if job.has_ended:
            self.stdout.write(_("Import job %(id)s cancelled.") % {"id": job.pk})
        else:
            self.stdout.write(
                _("Import job %(id)s will stop at its next chunk; nothing it wrote is kept.")
                % {"id": job.pk}
            )

    def _cleanup(self, options: dict[str, Any]) -> None:
        counts = expiry.delete_expired()
        if options["verbosity"] > 0:
            self.stdout.write(cleanup_summary(counts))


def cleanup_summary(counts: dict[str, int]) -> str:
    return _(
        "%(expired)s previews expired, %(failed)s silent jobs declared failed, "
        "%(deleted)s old jobs deleted, %(files)s stored files deleted, "
        "%(undo_chunks)s chunks of expired undo data deleted."
    ) % {key: f"{value:,}" for key, value in counts.items()}
