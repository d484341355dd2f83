"""``manage.py bulk_import``: import a file through a BulkUpsertResource, outside the admin.

The command only parses arguments, reads the file and reports: the import
itself is the engine's ``import_data``, so a file gives the same outcome here
as in the admin. Exit status: 0 when every row was imported (or would be, with
``--dry-run``), 2 when some rows failed (their report is written), 1 when the
import could not run at all (bad arguments, unreadable file, unknown model) or
its database connection was lost mid-import (one line says what was written
and how to resume; the traceback only with ``--traceback``).

``--map "File header=field"`` (repeatable) and ``--map-file`` read columns
named otherwise into the resource's fields, as the admin's mapping page does
(:mod:`admin_bulk_upsert.management.column_map_args`).

With ``--background`` the file is stored and queued as an import job (the
admin's job history lists it) for a worker of the ``TASKS`` backend; the
command prints the job's id and returns. A job imports all or nothing, as the
admin's confirm does. ``--wait`` then follows the job until it ends, with the
same exit statuses (:mod:`admin_bulk_upsert.management.job_waiting`).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from django.apps import apps
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, connections
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from admin_bulk_upsert.column_mapping.renames import apply_column_map
from admin_bulk_upsert.engine.lost_connection import connection_lost, loss_reason
from admin_bulk_upsert.files.headers import read_header
from admin_bulk_upsert.files.reading import ReadError, supported_formats
from admin_bulk_upsert.files.streaming import open_dataset
from admin_bulk_upsert.gc_pause import import_owns_process
from admin_bulk_upsert.jobs import transitions
from admin_bulk_upsert.jobs.storage import StorageFull
from admin_bulk_upsert.management import job_waiting
from admin_bulk_upsert.management.column_map_args import (
    column_map_for,
    parse_map_entries,
    read_map_file,
)
from admin_bulk_upsert.management.job_waiting import ERRORS_SHOWN, ROWS_FAILED, error_line
from admin_bulk_upsert.management.progress_bar import ProgressBar
from admin_bulk_upsert.reports.failed_rows import FailureReport
from admin_bulk_upsert.resources import BulkUpsertResource, bulk_resource_factory

__all__ = ["ROWS_FAILED", "Command"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(_("expected a positive whole number, got %r") % text)
    return value


def _field_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


class Command(BaseCommand):
    help = (
        "Import a CSV/XLSX/... file into a model with admin_bulk_upsert: insert new rows, "
        "update existing ones by their key, and report the rows that failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "target",
            metavar="RESOURCE_OR_MODEL",
            help="Dotted path to a BulkUpsertResource subclass, or app_label.ModelName.",
        )
        parser.add_argument("file", metavar="FILE", type=Path, help="The file to import.")
        parser.add_argument(
            "--unique-fields",
            type=_field_list,
            metavar="A,B",
            help="Comma-separated fields that identify a row (the key) for this import.",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Do everything but save: report what would happen, then roll back.",
        )
        parser.add_argument(
            "--format",
            dest="input_format",
            choices=supported_formats(),
            help="File format; by default taken from the file name's extension.",
        )
        parser.add_argument(
            "--encoding",
            help=(
                "Text encoding of CSV/TSV files: utf-8, cp1252, latin-1 or any Python codec. "
                "Default 'auto': UTF-8 (BOM or not) if the file is valid UTF-8, else cp1252."
            ),
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="Read the file column HEADER into the resource field FIELD (HEADER= ignores "
            "it). Repeatable; columns not named keep their names.",
        )
        parser.add_argument(
            "--map-file",
            type=Path,
            metavar="MAPPING.json",
            help='Column mapping as JSON {"File header": "field"} or CSV (header,field); '
            "--map entries override it.",
        )
        parser.add_argument(
            "--batch-size", type=_positive_int, metavar="N", help="Rows per chunk (default 1000)."
        )
        parser.add_argument(
            "--report",
            type=Path,
            metavar="FAILED.csv",
            help="Where to write the failed rows (default: FILE.failed.csv).",
        )
        parser.add_argument(
            "--rollback-on-invalid",
            action="store_true",
            help="Save nothing if any row is invalid (by default the valid rows are saved).",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not show a progress bar on stderr."
        )
        parser.add_argument(
            "--background",
            action="store_true",
            help="Queue the file as an import job for a task worker and print the job's id. "
            "A job imports all or nothing; with --dry-run it only previews.",
        )
        parser.add_argument(
            "--wait",
            action="store_true",
            help="With --background: follow the job's progress until it ends; the exit "
            "status says how it ended. Ctrl-C stops waiting, not the job.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["wait"] and not options["background"]:
            raise CommandError(_("--wait follows a background job: add --background."))
        if options["background"]:
            self._queue_job(options)
            return
        resource = self._build_resource(options)
        path: Path = options["file"]
        report_path: Path = options["report"] or Path(f"{path}.failed.csv")
        # The rows are read from the file as the import goes, and each failed
        # row is written to the report as it is found: memory does not grow
        # with the file.
        given_map = _given_map(options)
        # The command's process is the import's alone: it may pause the
        # collector and use helper threads (admin_bulk_upsert.gc_pause).
        with import_owns_process(), self._open(path) as file:
            dataset = self._read(file, path, options)
            if given_map:
                column_map = column_map_for(resource, list(dataset.headers), given_map)
                apply_column_map(dataset, resource, column_map)
            failures = FailureReport(
                report_path, resource, list(dataset.headers or []), keep=ERRORS_SHOWN
            )
            progress = _RowsDone(self._progress_bar(options))
            using = resource.get_db_connection_name()
            started = time.monotonic()
            try:
                result = resource.import_data(
                    dataset,
                    dry_run=options["dry_run"],
                    raise_errors=False,
                    use_transactions=True if options["rollback_on_invalid"] else None,
                    rollback_on_validation_errors=options["rollback_on_invalid"],
                    progress=progress,
                    row_consumer=failures,
                )
            except (FieldError, ImproperlyConfigured, ValueError) as exc:
                raise CommandError(
                    _("The import could not run: %(error)s") % {"error": exc}
                ) from exc
            except DatabaseError as exc:
                if connection_lost(using, exc):
                    raise self._lost(resource, exc, progress, len(dataset), options) from exc
                raise
            finally:
                failures.close()
                progress.finish()
            if result.has_errors() and connection_lost(using):
                # Rows that touched the database after the loss failed one by one.
                raise self._lost(resource, None, progress, len(dataset), options)
        elapsed = time.monotonic() - started
        self._report(resource, result, len(dataset), failures, elapsed, options)

    # --- background job ---------------------------------------------------------

    def _queue_job(self, options: dict[str, Any]) -> None:
        if options["batch_size"] is not None:
            # A job builds its resource from a dotted path in the worker: a
            # per-run subclass cannot travel there.
            raise CommandError(
                _(
                    "--batch-size cannot be used with --background: set Meta.batch_size on "
                    "the resource, or the BATCH_SIZE setting."
                )
            )
        resource = self._build_resource(options)  # a bad target or key fails here, not later
        target: str = options["target"]
        model = _get_model(target)
        path: Path = options["file"]
        with _reading(path):
            data = path.read_bytes()
        column_map: dict[str, str] = {}
        if given_map := _given_map(options):
            column_map = column_map_for(resource, self._header(data, path, options), given_map)
        try:
            job = self._create_job(data, resource, model, target, path, options, column_map)
        except StorageFull as exc:
            raise CommandError(exc.message) from exc
        if options["verbosity"] > 0 or not options["wait"]:
            # The id alone on stdout at verbosity 0, for scripts: JOB=$(manage.py ...).
            self.stdout.write(
                str(job.pk)
                if options["verbosity"] == 0
                else _("Queued import job %(id)s for %(file)s.") % {"id": job.pk, "file": path}
            )
        if not options["wait"]:
            return
        try:
            job = job_waiting.follow(
                job.pk,
                stdout=self.stdout,
                stderr=self.stderr,
                verbose=options["verbosity"] > 0,
                show_bar=options["verbosity"] > 0 and not options["no_progress"],
            )
        except KeyboardInterrupt:
            raise job_waiting.interrupted(job.pk) from None
        job_waiting.report(job, self.stdout, self.style, verbose=options["verbosity"] > 0)

    def _create_job(
        self,
        data: bytes,
        resource: Any,
        model: Any,
        target: str,
        path: Path,
        options: dict[str, Any],
        column_map: dict[str, str],
    ) -> Any:
        return transitions.create_job(
            data,
            user=None,
            model_label=resource._meta.model._meta.label,
            resource_path="" if model is not None else target,
            file_name=path.name,
            input_format=options["input_format"] or _format_from_name(path),
            encoding=options["encoding"] or "",
            unique_fields=options["unique_fields"] or [],
            preview=options["dry_run"],
            column_map=column_map,
        )

    # --- setup -----------------------------------------------------------------

    def _build_resource(self, options: dict[str, Any]) -> Any:
        target: str = options["target"]
        unique_fields = options["unique_fields"] or None
        batch_size = options["batch_size"]
        model = _get_model(target)
        try:
            if model is not None:
                # The key goes to the constructor, not the factory's Meta: the engine
                # checks a per-import choice against the model's fields, a Meta key not.
                resource_class = bulk_resource_factory(model, batch_size=batch_size)
            else:
                resource_class = _get_resource_class(target)
                if batch_size is not None:
                    resource_class = _with_batch_size(resource_class, batch_size)
            resource = resource_class()
            if unique_fields:
                # Set, not given to the constructor: a resource's own __init__
                # may take other arguments, or not pass them on.
                resource.set_unique_fields(unique_fields)
            return resource
        except ValueError as exc:  # a key outside the allowed fields, a bad Meta
            raise CommandError(str(exc)) from exc

    def _open(self, path: Path) -> IO[bytes]:
        with _reading(path):
            return path.open("rb")

    def _read(self, file: IO[bytes], path: Path, options: dict[str, Any]) -> Any:
        with _reading(path):
            return open_dataset(
                file,
                filename=path.name,
                input_format=options["input_format"],
                encoding=options["encoding"],
            )

    def _header(self, data: bytes, path: Path, options: dict[str, Any]) -> list[str]:
        with _reading(path):
            return read_header(
                data,
                filename=path.name,
                input_format=options["input_format"],
                encoding=options["encoding"],
            )

    def _progress_bar(self, options: dict[str, Any]) -> ProgressBar | None:
        if options["no_progress"] or options["verbosity"] == 0:
            return None
        stderr = self.stderr

        def write(text: str) -> None:
            # ending="" keeps \r redraws on one line; the identity style keeps it uncoloured.
            stderr.write(text, style_func=lambda text: text, ending="")
            stderr.flush()

        return ProgressBar(write, interactive=stderr.isatty())

    # --- outcome ---------------------------------------------------------------

    def _lost(
        self,
        resource: Any,
        exc: BaseException | None,
        progress: _RowsDone,
        total_rows: int,
        options: dict[str, Any],
    ) -> CommandError:
        """One line: the connection went away, what was written, how to resume."""
        reason = loss_reason(exc) or _("the server closed it")
        what = _("The database connection was lost during the import (%(reason)s)") % {
            "reason": reason
        }
        if options["dry_run"] or _one_transaction(resource, options):
            written = _("nothing was written. Run the same command again to import the file.")
        else:
            written = _(
                "the import runs without one transaction, so the rows before row %(next)s of "
                "%(total)s were written and part of the rows after may be. Run the same "
                "command again to import the rest: rows found by their key are updated, not "
                "added twice."
            ) % {"next": f"{progress.rows_done + 1:,}", "total": f"{total_rows:,}"}
        return CommandError(f"{what}: {written}")

    def _report(
        self,
        resource: Any,
        result: Any,
        total_rows: int,
        failures: FailureReport,
        elapsed: float,
        options: dict[str, Any],
    ) -> None:
        if options["verbosity"] > 0:
            self.stdout.write(_summary(result, total_rows, elapsed, options["file"]))
            rolled_back = _rolled_back(resource, result, options)
            if rolled_back:
                self.stdout.write(rolled_back)
        report_path = failures.path
        if result.base_errors:
            # Not tied to a row (a missing key column, a failing before_import hook).
            messages = "; ".join(str(getattr(e, "error", e)) for e in result.base_errors)
            raise CommandError(_("The import failed: %(errors)s") % {"errors": messages})
        if failures.rows:
            if options["verbosity"] > 0:
                self._print_first_failures(failures)
            failed_rows = failures.rows
            raise CommandError(
                ngettext(
                    "%(count)s row failed; see %(report)s.",
                    "%(count)s rows failed; see %(report)s.",
                    failed_rows,
                )
                % {"count": f"{failed_rows:,}", "report": report_path},
                returncode=ROWS_FAILED,
            )
        if not options["dry_run"] and options["verbosity"] > 0:
            self.stdout.write(self.style.SUCCESS(_("Import complete.")))

    def _print_first_failures(self, failures: FailureReport) -> None:
        """The first problems, worded as the admin and the report word them."""
        for failure in failures.first:
            self.stdout.write(
                error_line(failure.row, failure.column, failure.value, failure.message)
            )
        more = failures.problems - len(failures.first)
        if more > 0:
            self.stdout.write(
                "  "
                + ngettext(
                    "... and %(count)s more problem: see the report.",
                    "... and %(count)s more problems: see the report.",
                    more,
                )
                % {"count": f"{more:,}"}
            )


def _given_map(options: dict[str, Any]) -> dict[str, str]:
    """``--map-file``'s mapping, overridden by each ``--map``; ``{}`` without either."""
    given = read_map_file(options["map_file"]) if options["map_file"] else {}
    given.update(parse_map_entries(options["map"]))
    return given


def _get_model(target: str) -> Any:
    if target.count(".") != 1:
        return None
    try:
        return apps.get_model(target)
    except (LookupError, ValueError):
        return None


def _get_resource_class(target: str) -> type[Any]:
    try:
        found = import_string(target)
    except ImportError as exc:
        raise CommandError(
            _(
                "“%(target)s” is neither a model (app_label.ModelName) nor an importable "
                "resource class (dotted.path.ToResource)."
            )
            % {"target": target}
        ) from exc
    if not (isinstance(found, type) and issubclass(found, BulkUpsertResource)):
        raise CommandError(
            _("“%(target)s” is not a BulkUpsertResource subclass.") % {"target": target}
        )
    return found


def _format_from_name(path: Path) -> str:
    """The format the file's extension names, or "" to let the reader look at the bytes."""
    suffix = path.suffix.lstrip(".").lower()
    return suffix if suffix in supported_formats() else ""


def _with_batch_size(resource_class: type[Any], batch_size: int) -> type[Any]:
    """A subclass whose Meta only overrides ``batch_size``; DIE's metaclass inherits the rest."""
    meta = type("Meta", (), {"batch_size": batch_size})
    attrs = {"Meta": meta, "__module__": resource_class.__module__}
    return type(resource_class.__name__, (resource_class,), attrs)


def _summary(result: Any, total_rows: int, elapsed: float, path: Path) -> str:
    totals = result.totals
    counts = _(
        "%(new)s new, %(update)s updated, %(skip)s skipped, %(invalid)s invalid, %(error)s errors"
    ) % {key: f"{totals.get(key, 0):,}" for key in ("new", "update", "skip", "invalid", "error")}
    rate = total_rows / elapsed if elapsed > 0 else 0.0
    return _("%(rows)s rows from %(path)s in %(seconds).1f s (%(rate)s rows/s): %(counts)s.") % {
        "rows": f"{total_rows:,}",
        "path": path,
        "seconds": elapsed,
        "rate": f"{rate:,.0f}",
        "counts": counts,
    }


class _RowsDone:
    """The import's progress callback: keeps the rows done, and moves the bar if there is one."""

    def __init__(self, bar: ProgressBar | None) -> None:
        self.bar = bar
        self.rows_done = 0

    def __call__(self, rows_done: int, total_rows: int) -> None:
        self.rows_done = rows_done
        if self.bar is not None:
            self.bar(rows_done, total_rows)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.finish()


def _one_transaction(resource: Any, options: dict[str, Any]) -> bool:
    """Whether the import ran in one transaction (or was a dry run), DIE's rule."""
    use_transactions = options["rollback_on_invalid"] or resource.get_use_transactions()
    connection = connections[resource.get_db_connection_name()]
    return bool(use_transactions and connection.features.supports_transactions)


def _rolled_back(resource: Any, result: Any, options: dict[str, Any]) -> str:
    """Why nothing was saved, mirroring DIE's rule for rolling back its transaction."""
    if options["dry_run"]:
        return _("Dry run: nothing was saved.")
    if not _one_transaction(resource, options):
        return ""
    if result.has_errors():
        return _("Errors occurred, so the import was rolled back: nothing was saved.")
    if options["rollback_on_invalid"] and result.has_validation_errors():
        return _("Some rows are invalid, so the import was rolled back: nothing was saved.")
    return ""


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """A file that cannot be read, or is not of its format, as the command's one-line error."""
    try:
        yield
    except ReadError as exc:
        raise CommandError(f"{path}: {exc.message}") from exc
    except OSError as exc:  # missing, a directory, a file that went away
        raise CommandError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}
        ) from exc
