"""``manage.py benchmark``: the plugin against stock DIE and Django's bulk_create floor."""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.test.utils import override_settings
from django.utils.module_loading import import_string

from admin_bulk_upsert.jobs.compat import ImmediateBackend
from ledger.benchmark.contenders import (
    API_CONTENDERS,
    CONTENDERS,
    JOB_CONTENDERS,
    Contender,
    Workload,
)
from ledger.benchmark.measuring import Outcome, Timed, measure_interleaved
from ledger.benchmark.reporting import (
    ResultRow,
    database_slug,
    draw_chart,
    machine_description,
    markdown_table,
    shapes_markdown_table,
    text_table,
    write_csv,
)
from ledger.benchmark.shapes import (
    SHAPE_KEYS,
    Shape,
    expected_items,
    item_state,
    items_csv,
    reset_items,
    shapes,
)
from ledger.benchmark.shapes import contenders as shape_contenders
from ledger.routing import pinned_database
from ledger.sample_data import csv_bytes
from ledger.seeding import (
    expected_state,
    ledger_state,
    reset_ledger,
    reset_transactions,
    starting_state,
)

NOTES = (
    "Each contender imports the same CSV bytes into a table already holding half of the "
    "file's keys (reset before every run, untimed). All but the floor read the CSV inside "
    "the timed part (DIE's CSV format for DIE, the plugin's read_dataset for the plugin). "
    "The floor is bulk_create(update_conflicts=True, batch_size=1000) of model instances "
    "built before the clock starts, in one transaction (no unique_fields on MySQL/MariaDB). "
    "The clock stops when import_data returns; the check of its Result for errors and the "
    "freeing of it come after (untimed), as the freeing of the floor's instances does. "
    "Django's DEBUG is off while measuring, as on a production server (with it on, Django "
    "keeps every statement's SQL in memory). "
    "Queries are statements sent through Django's cursor. Peak memory comes from a separate, "
    "untimed pass under tracemalloc (Python allocations only)."
)

API_NOTES = (
    " The HTTP API's contenders send the same rows as a JSON list of records (amounts as JSON "
    "numbers with the file's digits), built before the clock starts; the clock covers the "
    "whole request through DRF's APIClient (Django's handler and middleware, JSON parsing, "
    "the import, the response body). api_sync imports in the request (up to "
    "API_SYNC_MAX_ROWS); api_job is the request that makes an import job plus the job's "
    "import step run in process as job_import runs it. Their baseline, plugin, pauses the "
    "garbage collector as bulk_import does; a web request never does."
)

SHAPES_NOTES = (
    "Per shape, the same CSV bytes (code, name, amount, tags; half of the codes already in "
    "the table, one in five of those with a new name and new tags) are imported by the plugin "
    "into the shaped model, by the plugin into its plain twin (the same columns, nothing "
    "else) and by stock DIE row by row into the shaped model; each table is reset to the "
    "starting state before every run (untimed), and the three runs are interleaved. "
    "shape / twin is the plugin's time on the shaped model over its time on the twin; "
    "stock / shape is stock DIE's time over the plugin's, both on the shaped model. The "
    "project-wide receiver is connected only during the receiver shape's runs (plugin and "
    "stock). End state: the table's codes, names, amounts and tags match a correct import, "
    "and the shape's own work is there (every slug filled; one history record per row)."
)


class Command(BaseCommand):
    help = (
        "Import the same generated ledger file with stock django-import-export, with "
        "admin_bulk_upsert and with Django's bulk_create, and compare time, queries and memory."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--rows", nargs="+", type=int, default=[1_000, 10_000, 100_000], metavar="N"
        )
        parser.add_argument(
            "--database",
            default="sqlite",
            choices=list(settings.DATABASES),
            help=(
                "Database alias to run against; it is migrated and its ledger tables are "
                "emptied (default: sqlite, the benchmark's own file, not the demo's)."
            ),
        )
        parser.add_argument(
            "--skip-stock-above",
            type=int,
            default=10_000,
            metavar="N",
            help="Skip stock DIE on files above N rows (default 10000: it takes minutes).",
        )
        parser.add_argument(
            "--repeat", type=int, default=1, help="Timed runs per contender; the median is kept."
        )
        parser.add_argument(
            "--no-memory",
            action="store_false",
            dest="memory",
            help="Skip the tracemalloc pass.",
        )
        parser.add_argument(
            "--only",
            nargs="+",
            choices=[c.key for c in (*CONTENDERS, *JOB_CONTENDERS, *API_CONTENDERS)],
            help="Run these only.",
        )
        parser.add_argument(
            "--shapes",
            nargs="*",
            choices=SHAPE_KEYS,
            metavar="SHAPE",
            help=(
                "Run the model shapes instead of the ledger's contenders: per shape, the "
                "plugin on the shaped model, the plugin on its plain twin and stock DIE on the "
                f"shaped model. SHAPE: {', '.join(SHAPE_KEYS)} (default: all)."
            ),
        )
        parser.add_argument(
            "--jobs",
            action="store_true",
            help="Also time a background job's preview and import (in process) and the "
            "admin's upload request in background mode (CSV and XLSX).",
        )
        parser.add_argument(
            "--api",
            action="store_true",
            help="Also time the HTTP API (needs djangorestframework): the bulk-upsert request "
            "(up to API_SYNC_MAX_ROWS) and the request that makes a job plus the job's import.",
        )
        parser.add_argument(
            "--admin",
            action="store_true",
            help="Also time the admin's upload, preview and confirm (in process, test client).",
        )
        parser.add_argument(
            "--admin-callable",
            metavar="DOTTED.PATH",
            help=(
                "The admin flow to time, callable(client, import_url, file_name, data); "
                "default: ledger.benchmark.admin_views.preview_and_confirm."
            ),
        )
        parser.add_argument(
            "--output",
            type=Path,
            default=Path(settings.DEMO_BENCHMARK_DIR) / "latest",
            help="Folder for the CSV, Markdown and PNG (default: benchmark_results/latest/).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        alias: str = options["database"]
        sizes: list[int] = sorted(set(options["rows"]))
        if sizes[0] < 2 or options["repeat"] < 1:
            raise CommandError("--rows must be at least 2 and --repeat at least 1.")
        if options["shapes"] is not None:
            others = ("only", "jobs", "api", "admin", "admin_callable")
            if any(options[name] for name in others):
                raise CommandError(
                    "--shapes runs on its own: drop --only, --jobs, --api and --admin."
                )
            self._handle_shapes(alias, sizes, options)
            return
        contenders = self._contenders(options)

        _create_sqlite_folder(alias)
        # The immediate task backend: the admin contender measures the import inside the
        # request, as the admin runs it when no worker is configured.
        immediate = {"default": {"BACKEND": f"{ImmediateBackend.__module__}.ImmediateBackend"}}
        with pinned_database(alias), override_settings(DEBUG=False, TASKS=immediate):
            self.stdout.write(f"Migrating and emptying the ledger tables on {alias!r} ...")
            call_command("migrate", database=alias, interactive=False, verbosity=0)
            if "jobs" in settings.DATABASES:  # the job contenders' ImportJob rows go there
                call_command("migrate", database="jobs", interactive=False, verbosity=0)
            reset_ledger(alias)
            machine = machine_description(alias)
            self.stdout.write(machine)
            results: list[ResultRow] = []
            for size in sizes:
                results.extend(self._run_size(size, alias, contenders, options))
            reset_ledger(alias)

        self._report(results, alias, machine, options)

    def _handle_shapes(self, alias: str, sizes: list[int], options: dict[str, Any]) -> None:
        available, skipped = shapes()
        wanted = options["shapes"] or list(SHAPE_KEYS)
        chosen = [shape for shape in available if shape.key in wanted]
        _create_sqlite_folder(alias)
        with pinned_database(alias), override_settings(DEBUG=False):
            self.stdout.write(f"Migrating the shapes' tables on {alias!r} ...")
            call_command("migrate", database=alias, interactive=False, verbosity=0)
            machine = machine_description(alias)
            self.stdout.write(machine)
            for key in wanted:
                if key in skipped:
                    self.stdout.write(self.style.WARNING(f"Shape {key} skipped: {skipped[key]}."))
            results: list[ResultRow] = []
            for size in sizes:
                for shape in chosen:
                    results.extend(self._run_shape(shape, size, alias, options))
            for shape in chosen:
                for model in (shape.model, shape.twin):
                    reset_items(model, 0, alias)
        self._report_shapes(results, chosen, skipped, wanted, alias, machine, options)

    def _run_shape(
        self, shape: Shape, size: int, alias: str, options: dict[str, Any]
    ) -> list[ResultRow]:
        workload = Workload(alias=alias, rows=size, csv_data=items_csv(size))
        expected = expected_items(size)
        self.stdout.write(
            f"\n{size:,} rows, shape {shape.key} ({shape.title}): expecting {expected}"
        )
        timed, rows = self._leave_out_stock(shape_contenders(shape), size, options)
        verdicts: dict[int, str] = {}

        def check(index: int, outcome: Any) -> None:
            shaped = timed[index].key != f"{shape.key}_twin"
            state = item_state(shape.model if shaped else shape.twin, alias)
            problems = shape.extra_check(alias, size) if shaped else []
            if state.same_content(expected) and not problems:
                verdicts[index] = "same"
            else:
                verdicts[index] = f"DIFFERENT: {'; '.join([str(state), *problems])}"

        measured = self._measure(
            timed, workload, options, lambda c: c.prepare(workload), after_last=check
        )
        rows.extend(self._measured_rows(size, timed, measured, verdicts, floor_seconds=None))
        self._ratios(timed, measured)
        order = {c.key: i for i, c in enumerate(shape_contenders(shape))}
        rows.sort(key=lambda row: order[row.key])
        measured_rows = [r for r in rows if r.measurement is not None]
        if (
            all(r.state == "same" for r in measured_rows)
            and len({r.totals for r in measured_rows}) == 1
        ):
            self.stdout.write(
                self.style.SUCCESS(
                    f"  Outcomes agree: every contender reported {measured_rows[0].totals} "
                    f"and left {expected}."
                )
            )
        else:
            self.stdout.write(self.style.ERROR("  Outcomes differ: see the table."))
        return rows

    def _report_shapes(
        self,
        results: list[ResultRow],
        chosen: list[Shape],
        skipped: dict[str, str],
        wanted: list[str],
        alias: str,
        machine: str,
        options: dict[str, Any],
    ) -> None:
        command = "python demo_site/manage.py benchmark " + _argv(options)
        ratios = shapes_markdown_table(results, [(s.key, s.title) for s in chosen])
        skips = "".join(f"\n\nShape {k} skipped: {skipped[k]}." for k in wanted if k in skipped)
        markdown = (
            f"`{command}`\n\n{machine}\n\n{ratios}{skips}\n\n{markdown_table(results)}\n\n"
            f"{SHAPES_NOTES}\n"
        )
        self.stdout.write("\n" + text_table(results) + "\n")
        self.stdout.write("\nTo paste (also written to the .md file below):\n\n" + markdown)
        folder: Path = options["output"]
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"benchmark_shapes_{database_slug(alias)}"
        write_csv(stem.with_suffix(".csv"), results)
        stem.with_suffix(".md").write_text(markdown, encoding="utf-8")
        self.stdout.write(f"\nWrote {stem}.csv and .md")

    def _contenders(self, options: dict[str, Any]) -> list[Contender]:
        available = (*CONTENDERS, *JOB_CONTENDERS) if options["jobs"] else CONTENDERS
        if options["api"]:
            available = (*available, *API_CONTENDERS)
        if options["only"]:
            available = (*CONTENDERS, *JOB_CONTENDERS, *API_CONTENDERS)
        chosen = [c for c in available if not options["only"] or c.key in options["only"]]
        if options["admin"] or options["admin_callable"]:
            chosen.append(_admin_contender(options["admin_callable"]))
        return chosen

    def _run_size(
        self, size: int, alias: str, contenders: list[Contender], options: dict[str, Any]
    ) -> list[ResultRow]:
        workload = Workload(alias=alias, rows=size, csv_data=csv_bytes(size))
        expected, starting = expected_state(size), starting_state(size)
        self.stdout.write(f"\n{size:,} rows: expecting {expected}; starting from {starting}")
        timed, rows = self._leave_out_stock(contenders, size, options)
        verdicts: dict[int, str] = {}

        def check(index: int, outcome: Any) -> None:
            state = ledger_state(alias)
            wanted = expected if timed[index].writes else starting
            verdicts[index] = "same" if state == wanted else f"DIFFERENT: {state}"

        measured = self._measure(
            timed, workload, options, lambda c: _reset(c, workload), after_last=check
        )
        floor_seconds = next(
            (m.seconds for c, (m, _) in zip(timed, measured, strict=True) if c.key == "floor"),
            None,
        )
        rows.extend(self._measured_rows(size, timed, measured, verdicts, floor_seconds))
        self._ratios(timed, measured)
        # Skipped contenders keep their place in the table's order.
        order = {c.key: i for i, c in enumerate(contenders)}
        rows.sort(key=lambda row: order[row.key])
        self._state_summary(rows, expected, starting)
        return rows

    def _leave_out_stock(
        self, contenders: list[Contender], size: int, options: dict[str, Any]
    ) -> tuple[list[Contender], list[ResultRow]]:
        """The contenders to time, and a row for each one left out at this size."""
        timed: list[Contender] = []
        rows: list[ResultRow] = []
        for contender in contenders:
            note = contender.left_out(size) if contender.left_out else None
            if contender.stock and size > options["skip_stock_above"]:
                note = f"skipped above {options['skip_stock_above']:,} rows (--skip-stock-above)"
            if note:
                self.stdout.write(f"  {contender.label}: {note}")
                rows.append(
                    ResultRow(
                        rows=size,
                        key=contender.key,
                        label=contender.label,
                        measurement=None,
                        floor_seconds=None,
                        totals="",
                        state="",
                        note=note,
                    )
                )
            else:
                timed.append(contender)
        return timed, rows

    def _measure(
        self,
        timed: list[Contender],
        workload: Workload,
        options: dict[str, Any],
        reset: Callable[[Contender], Any],
        after_last: Callable[[int, Any], None],
    ) -> list[Any]:
        """The contenders run interleaved, ``repeat`` rounds, each reset before its run."""

        def progress(number: int) -> None:
            self.stdout.write(f"  round {number} of {options['repeat']}: {len(timed)} contenders")
            self.stdout.flush()

        return measure_interleaved(
            [
                Timed(
                    run=lambda prepared, c=contender: c.run(workload, prepared),
                    reset=lambda c=contender: reset(c),
                    # The outcome's own check: a job's reads the job's row back.
                    check=lambda outcome: outcome.check(),
                )
                for contender in timed
            ],
            alias=workload.alias,
            repeat=options["repeat"],
            memory=options["memory"],
            after_last=after_last,
            on_round=progress,
        )

    def _measured_rows(
        self,
        size: int,
        timed: list[Contender],
        measured: list[Any],
        verdicts: dict[int, str],
        floor_seconds: float | None,
    ) -> list[ResultRow]:
        """A line and a table row per timed contender."""
        rows = []
        for index, (contender, (measurement, outcome)) in enumerate(
            zip(timed, measured, strict=True)
        ):
            self.stdout.write(
                f"  {contender.label}: {measurement.seconds:.2f} s, "
                f"{measurement.queries:,} queries, end state {verdicts[index]}"
            )
            rows.append(
                ResultRow(
                    size,
                    contender.key,
                    contender.label,
                    measurement,
                    floor_seconds,
                    _outcome_summary(outcome),
                    verdicts[index],
                )
            )
        return rows

    def _ratios(self, timed: list[Contender], measured: list[Any]) -> None:
        seconds = {c.key: m.seconds for c, (m, _) in zip(timed, measured, strict=True)}
        for contender in timed:
            if contender.baseline in seconds:
                ratio = seconds[contender.key] / seconds[contender.baseline]
                self.stdout.write(
                    f"  {contender.key} / {contender.baseline}: {ratio:.2f}x "
                    f"({seconds[contender.key]:.2f} s / {seconds[contender.baseline]:.2f} s)"
                )

    def _state_summary(self, rows: list[ResultRow], expected: Any, starting: Any) -> None:
        measured = [r for r in rows if r.measurement is not None]
        if all(r.state == "same" for r in measured):
            self.stdout.write(
                self.style.SUCCESS(
                    f"  End states agree: every import left {expected}; "
                    f"the dry run left the starting {starting}."
                )
            )
        else:
            self.stdout.write(self.style.ERROR("  End states differ: see the table."))

    def _report(
        self, results: list[ResultRow], alias: str, machine: str, options: dict[str, Any]
    ) -> None:
        command = "python demo_site/manage.py benchmark " + _argv(options)
        api_keys = {c.key for c in API_CONTENDERS}
        notes = NOTES + (API_NOTES if any(r.key in api_keys for r in results) else "")
        self.stdout.write("\n" + text_table(results) + "\n")
        self.stdout.write(notes)
        folder: Path = options["output"]
        folder.mkdir(parents=True, exist_ok=True)
        stem = folder / f"benchmark_{database_slug(alias)}"
        write_csv(stem.with_suffix(".csv"), results)
        stem.with_suffix(".md").write_text(
            f"`{command}`\n\n{machine}\n\n{markdown_table(results)}\n\n{notes}\n",
            encoding="utf-8",
        )
        draw_chart(
            stem.with_suffix(".png"), results, f"Seconds per import of the same file. {machine}"
        )
        self.stdout.write(f"\nWrote {stem}.csv, .md and .png")


def _create_sqlite_folder(alias: str) -> None:
    """SQLite creates its file but not the folder (benchmark_results/ is not in git)."""
    if connections[alias].vendor == "sqlite":
        name = str(connections[alias].settings_dict["NAME"])
        if name != ":memory:" and not name.startswith("file:"):
            Path(name).parent.mkdir(parents=True, exist_ok=True)


def _reset(contender: Contender, workload: Workload) -> Any:
    reset_transactions(workload.rows, workload.alias)
    return contender.prepare(workload)


def _outcome_summary(outcome: Outcome | None) -> str:
    return "-" if outcome is None else outcome.summary()


def _admin_contender(dotted_path: str | None) -> Contender:
    from ledger.benchmark.admin_flow import DEFAULT_FLOW, admin_client, transaction_import_url

    flow = import_string(dotted_path or DEFAULT_FLOW)

    def prepare(workload: Workload) -> Any:
        # Logging in is not part of an import.
        return admin_client(workload.alias)

    def run(workload: Workload, client: Any) -> Outcome:
        name = f"transactions_{workload.rows}.csv"
        flow(client, transaction_import_url(), name, workload.csv_data)
        return Outcome()

    return Contender("admin", "admin upload+preview+confirm", True, False, prepare, run)


def _argv(options: dict[str, Any]) -> str:
    parts = ["--rows", *map(str, sorted(set(options["rows"])))]
    if options["database"] != "sqlite":
        parts += ["--database", options["database"]]
    if options["skip_stock_above"] != 10_000:
        parts += ["--skip-stock-above", str(options["skip_stock_above"])]
    if options["repeat"] != 1:
        parts += ["--repeat", str(options["repeat"])]
    if not options["memory"]:
        parts.append("--no-memory")
    if options["only"]:
        parts += ["--only", *options["only"]]
    if options["shapes"] is not None:
        parts += ["--shapes", *options["shapes"]]
    if options["jobs"]:
        parts.append("--jobs")
    if options["api"]:
        parts.append("--api")
    if options["admin"]:
        parts.append("--admin")
    if options["admin_callable"]:
        parts += ["--admin-callable", options["admin_callable"]]
    return " ".join(parts)
