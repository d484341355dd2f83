"""A background import in Chromium with a real ``db_worker``: the bar moves, confirm, cancel.

The user's whole path of issue 15, with no step faked: the upload form queues
a job on django-tasks-db, a ``db_worker`` process previews and imports it, and
the job page's script shows its progress from ``progress.json``. A user relies on:

- the bar moving while the preview and the import run (its rows done read
  twice mid-way, and increasing), then the preview's totals and its confirm;
- ending, once the import is done, on the changelist with DIE's message, the
  table holding exactly the file's rows;
- a second import cancelled mid-way with its button: the page reads cancelled
  and the table is exactly what it was.

The admin (``tests.adminapp.worker_admin``) pauses after each chunk of
``BATCH_SIZE`` rows, so that each step lasts several seconds on a 2-core
machine, several polls of the page. A worker process cannot open SQLite's
in-memory test database: this test runs in ``tests/run.sh``'s "sqlite-files"
run (and skips, saying so, in the in-memory one).
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from admin_bulk_upsert.jobs.models import ImportJob
from tests.testapp.models import Account, LooseTransaction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]

ROWS = 20_000
#: 20 chunks a step, each followed by the admin's pause: about 5 s of pauses per step.
BATCH_SIZE = 1_000
ACCOUNTS = ("ACC-1", "ACC-2", "ACC-3")
BASE = datetime(2024, 1, 8, 9, 0)
#: Seconds a step may take before the test fails (a loaded machine is slow, not broken).
DEADLINE = 120.0


@pytest.fixture
def worker(settings, tmp_path, transactional_db):
    """Background imports on django-tasks-db, worked by a real ``db_worker``, killed at the end."""
    from tests.jobs.workers import WorkerBackend

    backend = WorkerBackend(
        "db",
        settings,
        tmp_path,
        STAGING_DIR=str(tmp_path / "jobs"),
        BATCH_SIZE=BATCH_SIZE,
        BACKGROUND_IMPORTS=True,
    )
    settings.ROOT_URLCONF = "tests.adminapp.worker_admin"
    try:
        process = backend.start()
        backend.wait_for(process.is_ready, "the db_worker to start")
        yield backend
    finally:
        backend.stop()


@pytest.fixture
def accounts(transactional_db):
    return {number: Account.objects.create(number=number) for number in ACCOUNTS}


def write_csv(path, description):
    """``ROWS`` transactions, one key each: (account, minute ``n``, an amount)."""
    lines = ["account,datetime,amount,description"]
    for n in range(ROWS):
        moment = BASE + timedelta(minutes=n)
        amount = Decimal(n % 997) + Decimal("0.125")
        lines.append(f"{ACCOUNTS[n % 3]},{moment:%Y-%m-%d %H:%M:%S},{amount},{description} {n}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def file_rows(description):
    return sorted(
        (
            ACCOUNTS[n % 3],
            timezone.make_aware(BASE + timedelta(minutes=n)),
            Decimal(n % 997) + Decimal("0.125"),
            f"{description} {n}",
        )
        for n in range(ROWS)
    )


def table():
    return sorted(
        LooseTransaction.objects.values_list("account__number", "datetime", "amount", "description")
    )


def shoot(page, artifacts_dir, name):
    """The window (not the whole page: the preview lists a hundred changes below)."""
    path = artifacts_dir / name
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path))
    assert path.stat().st_size > 0


def poll(page, worker, what, condition, timeout=DEADLINE):
    """``condition()``'s first true value, tried every 0.1 s; fails with the worker's log.

    The job page reloads itself when the job's state changes; a read that meets
    the page between two documents counts as "not yet".
    """
    from playwright.sync_api import Error

    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Error:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}.\n{worker.logs()}")
        page.wait_for_timeout(100)


def rows_done_mid_way(page, state, above=0):
    """The bar's rows done if the page shows ``state``, more than ``above`` and not all rows."""
    numbers = page.evaluate(
        """(state) => {
            const job = document.getElementById("bulk-upsert-job");
            if (!job || job.dataset.state !== state) return null;
            const done = job.querySelector(".bulk-upsert-rows-done");
            const total = job.querySelector(".bulk-upsert-rows-total");
            return done && total ? [done.textContent, total.textContent] : null;
        }""",
        state,
    )
    if numbers is None:
        return None
    done, total = (int(re.sub(r"\D", "", text) or -1) for text in numbers)  # "20,000"
    if total != ROWS:
        return None
    return done if above < done < ROWS else None


def watch_the_bar(page, worker, state):
    """Read the bar's rows done twice mid-way through ``state``; the second read is higher."""
    first = poll(page, worker, f"the bar mid-way ({state})", lambda: rows_done_mid_way(page, state))
    second = poll(
        page,
        worker,
        f"the bar to move past {first} rows ({state})",
        lambda: rows_done_mid_way(page, state, above=first),
    )
    assert first < second < ROWS
    percent = float(page.locator(".bulk-upsert-bar").get_attribute("aria-valuenow"))
    assert 0 < percent < 100
    return second


def upload(page, path):
    page.goto(reverse("admin:testapp_loosetransaction_import"))
    page.set_input_files("#id_import_file", str(path))
    page.select_option("#id_format", label="csv")
    page.locator("input[type=submit][value=Submit]").click()
    page.wait_for_url("**/import/jobs/*/")


def test_a_real_worker_previews_imports_and_cancels(
    worker, admin_page, accounts, artifacts_dir, tmp_path
):
    page = admin_page
    page.emulate_media(reduced_motion="reduce")  # the bar jumps to its width: no half-drawn shot

    # The first file: the bar moves through the preview, which then shows its totals.
    upload(page, write_csv(tmp_path / "transactions.csv", "first"))
    watch_the_bar(page, worker, "previewing")
    shoot(page, artifacts_dir, "job-worker-progress.png")
    page.locator(".bulk-upsert-preview").wait_for(timeout=DEADLINE * 1000)
    totals = {
        name: page.locator(f"td.total-{name}").inner_text().strip()
        for name in ("rows", "new", "update", "skip", "invalid", "error")
    }
    assert totals == {
        "rows": str(ROWS),
        "new": str(ROWS),
        "update": "0",
        "skip": "0",
        "invalid": "0",
        "error": "0",
    }
    assert table() == []
    shoot(page, artifacts_dir, "job-worker-preview.png")

    # Confirm: the bar again, then the changelist with DIE's message.
    page.get_by_role("button", name="Confirm import").click()
    watch_the_bar(page, worker, "importing")
    shoot(page, artifacts_dir, "job-worker-import.png")
    page.wait_for_url(
        f"**{reverse('admin:testapp_loosetransaction_changelist')}", timeout=DEADLINE * 1000
    )
    assert page.locator("ul.messagelist li.success").inner_text().strip() == (
        f"Import finished: {ROWS} new, 0 updated, 0 deleted and 0 skipped loose transactions."
    )
    shoot(page, artifacts_dir, "job-worker-changelist.png")
    imported = table()
    assert imported == file_rows("first")

    # The second file changes every row; its import is cancelled mid-way.
    upload(page, write_csv(tmp_path / "transactions-changed.csv", "second"))
    page.locator(".bulk-upsert-preview").wait_for(timeout=DEADLINE * 1000)
    assert page.locator("td.total-update").inner_text().strip() == str(ROWS)
    page.get_by_role("button", name="Confirm import").click()
    poll(page, worker, "the second import mid-way", lambda: rows_done_mid_way(page, "importing"))
    page.get_by_role("button", name="Cancel import").click()
    page.locator("#bulk-upsert-job[data-state=cancelled]").wait_for(timeout=DEADLINE * 1000)
    assert page.locator(".job-state").inner_text().strip() == "cancelled"
    assert page.locator(".bulk-upsert-job-cancelled").inner_text().strip() == (
        "The import was cancelled. Nothing was imported."
    )
    shoot(page, artifacts_dir, "job-worker-cancelled.png")
    second = ImportJob.objects.latest("pk")
    assert second.state == ImportJob.State.CANCELLED
    assert 0 < second.rows_done < ROWS
    assert table() == imported
