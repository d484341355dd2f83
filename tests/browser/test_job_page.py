"""The job page of a background import, in Chromium: the preview with its confirm, the progress bar.

Tasks run on Django's immediate backend, so the upload's preview is ready when
the browser lands on the job page; the running job of the second test is written
straight to the database, as a worker's progress thread would leave it.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from admin_bulk_upsert.jobs.compat import IMMEDIATE_BACKEND
from admin_bulk_upsert.jobs.models import ImportJob
from tests.testapp.models import Account, Transaction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TASKS = {"default": {"BACKEND": IMMEDIATE_BACKEND}}


@pytest.fixture(autouse=True)
def background(settings, tmp_path):
    settings.ROOT_URLCONF = "tests.adminapp.urls"
    settings.TASKS = TASKS
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "jobs"), "BACKGROUND_IMPORTS": True}


@pytest.fixture
def accounts():
    return {n: Account.objects.create(number=n, name=f"Account {n}") for n in ("A1", "A2")}


def shoot(page, artifacts_dir: Path, name: str) -> None:
    path = artifacts_dir / name
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0


def test_upload_preview_on_the_job_page_then_confirm(admin_page, accounts, artifacts_dir, tmp_path):
    page = admin_page
    Transaction.objects.create(
        account=accounts["A1"],
        datetime=datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.timezone.utc),
        amount=Decimal("10.000"),
        description="rent",
    )
    csv = tmp_path / "transactions.csv"
    csv.write_text(
        "account,datetime,amount,description\n"
        "A1,2024-01-01 13:00:00,10.000,rent corrected\n"
        "A2,2024-01-03 12:00:00,30.500,new one\n"
        "A1,2024-01-04 12:00:00,40.000,groceries\n",
        encoding="utf-8",
    )
    page.goto(reverse("admin:testapp_transaction_import"))
    page.set_input_files("#id_import_file", str(csv))
    page.select_option("#id_format", label="csv")
    page.locator("input[type=submit][value=Submit]").click()

    page.locator(".bulk-upsert-preview").wait_for()
    job = ImportJob.objects.get()
    assert page.url.endswith(reverse("admin:testapp_transaction_import_job", args=[job.pk]))
    assert page.locator(".job-state").inner_text().strip() == "previewed"
    assert page.locator(".job-file").inner_text().startswith("transactions.csv")
    assert page.locator("td.total-new").inner_text().strip() == "2"
    assert page.locator("td.total-update").inner_text().strip() == "1"
    assert page.locator(".bulk-upsert-report").is_visible()
    shoot(page, artifacts_dir, "job-page-preview.png")

    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_url(f"**{reverse('admin:testapp_transaction_changelist')}")
    assert page.locator("ul.messagelist li").first.inner_text().strip() == (
        "Import finished: 2 new, 1 updated, 0 deleted and 0 skipped transactions."
    )
    assert Transaction.objects.count() == 3


def test_the_progress_bar_of_a_running_import(admin_page, superuser, artifacts_dir):
    page = admin_page
    page.emulate_media(reduced_motion="reduce")  # the bar jumps to its width: no half-way shot
    now = timezone.now()
    job = ImportJob.objects.create(
        user_pk=str(superuser.pk),
        user_name=superuser.get_username(),
        model_label="testapp.Transaction",
        file_name="transactions-2024.csv",
        file_size=5_600_000,
        sha256="0" * 64,
        input_format="csv",
        unique_fields=["account", "datetime", "amount"],
        state="importing",
        rows_total=100_000,
        rows_done=42_000,
        step_started_at=now - datetime.timedelta(seconds=20),
        heartbeat_at=now,
        preview_seconds=18.4,
    )

    page.goto(reverse("admin:testapp_transaction_import_job", args=[job.pk]))

    bar = page.locator(".bulk-upsert-bar-fill")
    assert bar.get_attribute("style") == "width: 42.0%"
    assert page.locator(".bulk-upsert-rows-done").inner_text() == "42,000"
    assert page.locator(".bulk-upsert-rows-total").inner_text() == "100,000"
    # The script takes over: the next poll reads progress.json and rewrites the numbers.
    ImportJob.objects.filter(pk=job.pk).update(rows_done=61_000, heartbeat_at=timezone.now())
    page.wait_for_function(
        "document.querySelector('.bulk-upsert-rows-done').textContent === '61,000'"
    )
    assert page.get_by_role("button", name="Cancel import").is_visible()
    shoot(page, artifacts_dir, "job-page-progress.png")
