"""Revert an import in Chromium with a real ``db_worker``: the edit made since is kept.

The user's path of issue 16, no step faked: a file is imported through the
admin (upload, preview, confirm, each step worked by a ``db_worker``), one of
the records it updated is edited by hand in the admin's change form, and the
job page's "Revert this import" shows the preview: that record a conflict
(column, imported value, current value), the others to delete or restore.
"Confirm revert" queues the revert on the worker; the page follows it to
"partly reverted", listing the conflict, and the table is back as it was
before the import, except the record edited by hand.

Runs in ``tests/run.sh``'s "sqlite-files" run (a worker process cannot open
SQLite's in-memory test database), as ``test_job_worker.py`` does.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from admin_bulk_upsert.jobs.models import ImportJob
from tests.browser.test_job_worker import ACCOUNTS, DEADLINE, shoot, upload
from tests.testapp.models import Account, LooseTransaction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, databases="__all__")]

#: Rows in the file: the first half updates the stored records, the second half is new.
ROWS = 2_000
STORED = ROWS // 2
BATCH_SIZE = 250
BASE = datetime(2024, 3, 4, 9, 0)
EDITED = 7  # the record edited by hand after the import


@pytest.fixture
def worker(settings, tmp_path, transactional_db):
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


def moment(n):
    return BASE + timedelta(minutes=n)


def amount(n):
    return Decimal(n % 991) + Decimal("0.250")


@pytest.fixture
def stored(transactional_db):
    """The first ``STORED`` keys of the file, with the description the import overwrites."""
    accounts = [Account.objects.create(number=number) for number in ACCOUNTS]
    LooseTransaction.objects.bulk_create(
        LooseTransaction(
            account=accounts[n % 3],
            datetime=timezone.make_aware(moment(n)),
            amount=amount(n),
            description=f"before {n}",
        )
        for n in range(STORED)
    )


def write_csv(path):
    lines = ["account,datetime,amount,description"]
    lines += [
        f"{ACCOUNTS[n % 3]},{moment(n):%Y-%m-%d %H:%M:%S},{amount(n)},file {n}" for n in range(ROWS)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def table():
    return sorted(
        LooseTransaction.objects.values_list(
            "pk", "account__number", "datetime", "amount", "description"
        )
    )


def edited_record():
    return LooseTransaction.objects.get(datetime=timezone.make_aware(moment(EDITED)))


def test_revert_preview_then_revert_keeps_the_edit_made_since(
    worker, admin_page, stored, artifacts_dir, tmp_path
):
    page = admin_page
    page.emulate_media(reduced_motion="reduce")
    before = table()
    changelist = reverse("admin:testapp_loosetransaction_changelist")

    # Import: upload, the preview's totals, confirm; the page ends on the changelist.
    upload(page, write_csv(tmp_path / "transactions.csv"))
    page.locator(".bulk-upsert-preview").wait_for(timeout=DEADLINE * 1000)
    assert page.locator("td.total-new").inner_text().strip() == str(ROWS - STORED)
    assert page.locator("td.total-update").inner_text().strip() == str(STORED)
    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_url(f"**{changelist}", timeout=DEADLINE * 1000)
    job = ImportJob.objects.latest("pk")
    assert job.state == "done"
    assert LooseTransaction.objects.count() == ROWS

    # An edit by hand, in the admin's change form, of a record the import updated.
    record = edited_record()
    page.goto(reverse("admin:testapp_loosetransaction_change", args=[record.pk]))
    page.fill("#id_description", "by hand")
    page.locator("input[type=submit][name=_save]").click()
    page.wait_for_url(f"**{changelist}")
    assert edited_record().description == "by hand"

    # The job page: "Revert this import" shows the preview, the edit a conflict.
    page.goto(reverse("admin:testapp_loosetransaction_import_job", args=[job.pk]))
    page.get_by_role("button", name="Revert this import").scroll_into_view_if_needed()
    shoot(page, artifacts_dir, "revert-worker-job.png")
    page.get_by_role("button", name="Revert this import").click()
    page.locator(".bulk-upsert-revert-totals").wait_for()
    totals = {
        kind: page.locator(f"td.revert-total-{kind}").inner_text().strip()
        for kind in ("delete", "restore", "conflict", "gone")
    }
    assert totals == {
        "delete": str(ROWS - STORED),
        "restore": str(STORED - 1),
        "conflict": "1",
        "gone": "0",
    }
    conflict = page.locator("table.bulk-upsert-revert-conflict tbody tr")
    assert conflict.count() == 1
    assert [
        conflict.locator(f"td.revert-{name}").inner_text().strip()
        for name in ("pk", "column", "imported", "current")
    ] == [
        str(LooseTransaction.objects.get(pk=record.pk)),
        "description",
        f"file {EDITED}",
        "by hand",
    ]
    # A record to restore is named by its str() and says what goes back.
    restored = page.locator("table.bulk-upsert-revert-restore tbody tr").first
    assert " → " in restored.locator("td.revert-detail").inner_text()
    # The first 100 of each kind are listed; the CSV has them all.
    assert page.locator("table.bulk-upsert-revert-delete tbody tr").count() == 100
    assert page.locator("table.bulk-upsert-revert-restore tbody tr").count() == 100
    with page.expect_download() as download:
        page.locator("a.bulk-upsert-revert-preview-csv").click()
    listed = download.value.path().read_text(encoding="utf-8").splitlines()
    assert len(listed) == 1 + ROWS
    assert LooseTransaction.objects.count() == ROWS  # the preview changed nothing
    page.locator(".bulk-upsert-revert h2").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('.bulk-upsert-revert h2').scrollIntoView()")
    shoot(page, artifacts_dir, "revert-worker-preview.png")

    # Confirm: the worker reverts; the page follows it to its end.
    page.get_by_role("button", name="Confirm revert").click()
    page.locator("#bulk-upsert-job[data-state=partly_reverted]").wait_for(timeout=DEADLINE * 1000)
    assert page.locator(".job-state").inner_text().strip() == "partly reverted"
    assert page.locator("table.bulk-upsert-revert-conflict td.revert-current").inner_text() == (
        "by hand"
    )
    assert page.locator("a.bulk-upsert-revert-report").is_visible()
    shoot(page, artifacts_dir, "revert-worker-done.png")

    expected = [row if row[0] != record.pk else (*row[:4], "by hand") for row in before]
    assert table() == expected
    page.goto(changelist)
    assert page.locator("#result_list tbody tr").count() == min(STORED, 100)
    shoot(page, artifacts_dir, "revert-worker-changelist.png")
