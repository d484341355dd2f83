"""The demo project's ``demo`` and ``benchmark`` commands, run as a user runs them.

Each command runs in a subprocess with the demo's own settings and its own
SQLite file, so it exercises ``manage.py`` exactly as documented and shares
nothing with the suite's database. No timing is asserted: only that the files,
rows and tables they produce are there and say the right things.
"""

from __future__ import annotations

import csv
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import tablib
from django.conf import settings

DEMO_DIR = Path(__file__).resolve().parent.parent / "demo_site"

pytestmark = pytest.mark.skipif(
    settings.TEST_DB != "sqlite",
    reason="the demo commands run on their own SQLite file; covered by the sqlite run",
)


def manage(tmp_path: Path, *args: str) -> str:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "demo_site.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "DATABASE_URL_SQLITE": f"sqlite:///{tmp_path / 'benchmark' / 'benchmark.sqlite3'}",
    }
    completed = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=DEMO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def query(tmp_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "demo.sqlite3") as connection:
        return connection.execute(sql).fetchall()


def test_demo_prepares_database_user_and_files_and_can_run_twice(tmp_path):
    samples = tmp_path / "samples"
    first = manage(tmp_path, "demo", "--no-serve", "--sizes", "50", "200", "--output", str(samples))
    second = manage(
        tmp_path, "demo", "--no-serve", "--sizes", "50", "200", "--output", str(samples)
    )

    assert "Created admin user: username 'admin', password 'admin'" in first
    assert "Reset admin user: username 'admin', password 'admin'" in second
    assert query(tmp_path, "SELECT username, is_superuser FROM auth_user") == [("admin", 1)]
    # The starting state of the largest file: its even-numbered half.
    assert query(tmp_path, "SELECT COUNT(*) FROM ledger_financialtransaction") == [(100,)]
    assert query(tmp_path, "SELECT COUNT(*) FROM ledger_financialaccount") == [(250,)]
    assert sorted(p.name for p in samples.iterdir()) == [
        "transactions_200.csv",
        "transactions_200.xlsx",
        "transactions_50.csv",
        "transactions_50.xlsx",
    ]

    with (samples / "transactions_200.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 200
    assert set(rows[0]) == {"account_number", "datetime", "amount", "description"}
    assert sum(row["description"].endswith(" (corrected)") for row in rows) == 20
    existing = {
        (number, moment, amount)
        for number, moment, amount in query(
            tmp_path,
            "SELECT a.number, strftime('%Y-%m-%d %H:%M:%S', t.datetime), t.amount "
            "FROM ledger_financialtransaction t JOIN ledger_financialaccount a "
            "ON a.id = t.financial_account_id",
        )
    }
    in_file = {(r["account_number"], r["datetime"], float(r["amount"])) for r in rows}
    assert len(in_file & existing) == 100

    xlsx = tablib.Dataset().load((samples / "transactions_200.xlsx").read_bytes(), "xlsx")
    assert xlsx.headers == ["account_number", "datetime", "amount", "description"]
    assert len(xlsx) == 200


def test_benchmark_reports_every_contender_with_the_same_end_state(tmp_path):
    results = tmp_path / "results"
    out = manage(
        tmp_path,
        "benchmark",
        "--rows",
        "100",
        "200",
        "--skip-stock-above",
        "100",
        "--admin",
        "--output",
        str(results),
    )

    assert "End states agree" in out
    assert "DIFFERENT" not in out
    assert sorted(p.name for p in results.iterdir()) == [
        "benchmark_sqlite.csv",
        "benchmark_sqlite.md",
        "benchmark_sqlite.png",
    ]
    assert (results / "benchmark_sqlite.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with (results / "benchmark_sqlite.csv").open(encoding="utf-8") as handle:
        table = {(int(r["rows"]), r["contender"]): r for r in csv.DictReader(handle)}

    contenders = ["floor", "plugin", "plugin_dry", "plugin_save", "die_bulk", "die", "admin"]
    assert sorted(table) == sorted((n, c) for n in (100, 200) for c in contenders)
    for (rows, contender), row in table.items():
        if rows == 200 and contender in ("die", "die_bulk"):
            assert row["seconds"] == ""
            assert "--skip-stock-above" in row["note"]
            continue
        assert row["end_state"] == "same", (rows, contender)
        assert float(row["seconds"]) > 0
        assert int(row["queries"]) > 0
        assert int(row["peak_memory_bytes"]) > 0
    # The plugin reports what stock DIE reports, row for row in totals.
    assert table[100, "plugin"]["reported"] == table[100, "die"]["reported"] == "new 50 update 50"
    assert table[200, "plugin_dry"]["reported"] == "new 100 update 100"
    assert table[100, "floor"]["ratio_to_floor"] == "1.000"
    # Stock DIE sends at least one query per row; the plugin a few per chunk.
    assert int(table[100, "die"]["queries"]) > 100
    assert int(table[100, "plugin"]["queries"]) < 100
    # Saving with save() per row: one statement per row, the lookups still batched.
    assert table[100, "plugin_save"]["reported"] == "new 50 update 50"
    assert 100 <= int(table[100, "plugin_save"]["queries"]) < int(table[100, "die"]["queries"])
    markdown = (results / "benchmark_sqlite.md").read_text(encoding="utf-8")
    assert "`python demo_site/manage.py benchmark --rows 100 200" in markdown
    assert "| 200 | DIE row by row | skipped |" in markdown


def test_benchmark_interleaves_the_contenders_runs():
    from ledger.benchmark.measuring import Timed, measure_interleaved

    calls = []

    def contender(name):
        return Timed(
            run=lambda prepared: calls.append(f"run {name}") or name,
            reset=lambda: calls.append(f"reset {name}"),
            check=lambda outcome: calls.append(f"checked {outcome}"),
        )

    measured = measure_interleaved(
        [contender("a"), contender("b")],
        alias="default",
        repeat=2,
        memory=False,
        after_last=lambda index, outcome: calls.append(f"check {outcome}"),
    )
    # Every run's outcome is checked after its clock stops; the last run's
    # again by after_last.
    assert calls == [
        "reset a", "run a", "checked a", "reset b", "run b", "checked b",
        "reset a", "run a", "checked a", "check a", "reset b", "run b", "checked b", "check b",
    ]  # fmt: skip
    assert [len(m.all_seconds) for m, _ in measured] == [2, 2]
    assert [outcome for _, outcome in measured] == ["a", "b"]


def test_benchmark_checks_each_import_for_errors_after_its_clock_stops():
    from import_export.results import Error, Result, RowResult
    from ledger.benchmark.measuring import Outcome

    result = Result()
    row = RowResult()
    row.import_type = RowResult.IMPORT_TYPE_NEW
    result.increment_row_result_total(row)
    result.append_row_result(row)
    outcome = Outcome(result)
    outcome.check()  # nothing reported: no error
    assert outcome.summary() == "new 1"

    failing = RowResult()
    failing.errors.append(Error(ValueError("bad amount"), number=2))
    result.append_row_result(failing)
    with pytest.raises(RuntimeError, match="reported errors"):
        outcome.check()
    assert Outcome().summary() == "-"


def test_benchmark_readers_times_every_reader(tmp_path):
    stdout = manage(
        tmp_path, "benchmark_readers", "--rows", "50", "--repeat", "1", "--folder", str(tmp_path)
    )

    readers = [line[12:44].strip() for line in stdout.splitlines()[2:-1]]
    assert readers == [
        "csv read_dataset",
        "xlsx read_dataset",
        "csv open_dataset + rows",
        "xlsx open_dataset + rows",
        "xlsx openpyxl read-only",
    ]
    assert sorted(path.name for path in tmp_path.glob("transactions_*")) == [
        "transactions_50.csv",
        "transactions_50.xlsx",
    ]


def test_benchmark_times_a_background_jobs_steps_and_the_upload_request(tmp_path):
    results = tmp_path / "results"
    only = ["plugin", "plugin_dry", "job_preview", "job_import", "job_import_log"]
    out = manage(
        tmp_path,
        "benchmark",
        "--rows",
        "100",
        "--no-memory",
        "--only",
        *only,
        "upload_csv",
        "upload_xlsx",
        "--output",
        str(results),
    )

    assert "End states agree" in out
    assert "job_preview / plugin_dry: " in out
    assert "job_import / plugin: " in out
    with (results / "benchmark_sqlite.csv").open(encoding="utf-8") as handle:
        table = {r["contender"]: r for r in csv.DictReader(handle)}
    assert [table[key]["end_state"] for key in table] == ["same"] * 7
    # The jobs report what import_data reports. The demo keeps jobs in a SQLite file
    # of their own, so the progress thread writes: at most once per chunk, plus a
    # heartbeat and the last count.
    for key in ("job_preview", "job_import", "job_import_log"):
        reported = re.fullmatch(
            r"new 50 update 50; progress writes (\d+) for 1 chunks", table[key]["reported"]
        )
        assert reported, table[key]["reported"]
        assert 1 <= int(reported.group(1)) <= 1 + 2


def test_benchmark_times_the_http_api_request_and_its_job(tmp_path):
    pytest.importorskip("rest_framework", reason="the demo's HTTP API needs the drf extra")
    results = tmp_path / "results"
    out = manage(
        tmp_path,
        "benchmark",
        "--rows",
        "100",
        "--no-memory",
        "--only",
        "plugin",
        "api_sync",
        "api_job",
        "--output",
        str(results),
    )

    assert "End states agree" in out
    assert "api_sync / plugin: " in out
    assert "api_job / plugin: " in out
    with (results / "benchmark_sqlite.csv").open(encoding="utf-8") as handle:
        table = {r["contender"]: r for r in csv.DictReader(handle)}
    assert [table[key]["end_state"] for key in ("plugin", "api_sync", "api_job")] == ["same"] * 3
    # The request's response and the job's row give the totals import_data gives.
    assert table["api_sync"]["reported"] == table["plugin"]["reported"] == "new 50 update 50"
    assert re.fullmatch(
        r"new 50 update 50; progress writes \d+ for 1 chunks", table["api_job"]["reported"]
    ), table["api_job"]["reported"]


def test_benchmark_shapes_contenders_agree_on_every_shape(tmp_path):
    results = tmp_path / "results"
    out = manage(
        tmp_path, "benchmark", "--shapes", "--rows", "50", "--no-memory", "--output", str(results)
    )

    assert "DIFFERENT" not in out
    assert "Outcomes differ" not in out
    assert out.count("Outcomes agree: every contender reported new 25 update 25") == 4
    for shape in ("m2m", "history", "receiver", "save"):
        assert f"{shape} / {shape}_twin: " in out
        assert f"{shape}_die / {shape}: " in out
    with (results / "benchmark_shapes_sqlite.csv").open(encoding="utf-8") as handle:
        table = {r["contender"]: r for r in csv.DictReader(handle)}
    assert list(table) == [
        f"{shape}{suffix}"
        for shape in ("m2m", "history", "receiver", "save")
        for suffix in ("_twin", "", "_die")
    ]
    # Same totals, same rows (the end state's fingerprint and the shape's own work).
    assert {row["reported"] for row in table.values()} == {"new 25 update 25"}
    assert {row["end_state"] for row in table.values()} == {"same"}
    markdown = (results / "benchmark_shapes_sqlite.md").read_text(encoding="utf-8")
    assert markdown.startswith(
        "`python demo_site/manage.py benchmark --rows 50 --no-memory --shapes`"
    )
    assert "| rows | shape | plain twin s | shape s | stock s | shape / twin | stock / shape |" in (
        markdown
    )
