"""Job pages at 1280 px in Chromium: each state shows its own bar or none; the history fits.

The jobs are written straight to the database, as a worker would leave them.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from admin_bulk_upsert.jobs.compat import IMMEDIATE_BACKEND
from admin_bulk_upsert.jobs.models import ImportJob

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1280


@pytest.fixture(autouse=True)
def background(settings, tmp_path):
    settings.ROOT_URLCONF = "tests.adminapp.urls"
    settings.TASKS = {"default": {"BACKEND": IMMEDIATE_BACKEND}}
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "jobs"), "BACKGROUND_IMPORTS": True}


def make_job(user, **fields):
    now = timezone.now()
    values = {
        "user_pk": str(user.pk),
        "user_name": user.get_username(),
        "model_label": "testapp.Transaction",
        "file_name": "transactions-2024.csv",
        "file_size": 5_600_000,
        "sha256": "0" * 64,
        "input_format": "csv",
        "unique_fields": ["account", "datetime", "amount"],
        "rows_total": 100_000,
        "step_started_at": now - datetime.timedelta(seconds=20),
        "heartbeat_at": now,
        **fields,
    }
    return ImportJob.objects.create(**values)


def shoot(page, artifacts_dir: Path, name: str) -> None:
    page.screenshot(path=str(artifacts_dir / name), full_page=True)


def test_a_confirmed_job_waiting_for_a_worker_shows_no_bar(admin_page, superuser, artifacts_dir):
    page = admin_page
    page.set_viewport_size({"width": WIDTH, "height": 800})
    # The preview left its full count behind: rows done = rows total.
    job = make_job(superuser, state="confirmed", rows_done=100_000, preview_seconds=18.4)

    page.goto(reverse("admin:testapp_transaction_import_job", args=[job.pk]))

    assert page.locator(".bulk-upsert-progress h2").inner_text().strip() == "Import queued"
    assert page.locator(".bulk-upsert-bar").count() == 0
    assert page.locator(".bulk-upsert-waiting").is_visible()
    shoot(page, artifacts_dir, "job-page-waiting.png")


def test_the_history_shows_state_rows_and_duration_at_1280_px(admin_page, superuser, artifacts_dir):
    page = admin_page
    page.set_viewport_size({"width": WIDTH, "height": 800})
    for i, state in enumerate(["done", "cancelled", "previewed", "importing"]):
        make_job(
            superuser,
            state=state,
            file_name=f"a-rather-long-export-file-name-from-the-shop-{i}.csv",
            summary={"totals": {}} if state != "importing" else None,
            new_rows=40_000,
            updated_rows=50_000,
            unchanged_rows=10_000,
            preview_seconds=18.4,
            import_seconds=21.0 if state == "done" else None,
        )

    page.goto(reverse("admin:admin_bulk_upsert_importjob_changelist"))

    # The table scrolls inside its box when too wide: every column must fit in that box.
    results = page.locator("#changelist .results").bounding_box()
    for column in ("state", "counts", "duration"):
        box = page.locator(f"#result_list thead th.column-{column}").bounding_box()
        assert box is not None, column
        assert box["x"] + box["width"] <= results["x"] + results["width"] + 1, column
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
    shoot(page, artifacts_dir, "job-history.png")
