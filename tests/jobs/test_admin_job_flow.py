"""Upload -> job page with the preview -> confirm, in the admin, with background imports on."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from admin_bulk_upsert.jobs.models import ImportJob
from admin_bulk_upsert.jobs.steps import run_preview
from tests.jobs.admin_flow import (
    confirm_token_from,
    csv_file,
    job_url,
    last_job,
    three_rows,
    transaction_line,
    upload,
    url,
)
from tests.testapp.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def test_upload_goes_to_the_job_page_which_shows_the_preview(background, importer_client, accounts):
    response = upload(importer_client, three_rows())
    job = last_job()
    assert response.status_code == 302
    assert response["Location"] == job_url(job)
    assert (job.state, job.file_name, job.unique_fields) == (
        "previewed",
        "transactions.csv",
        ["account", "datetime", "amount"],
    )
    assert job.resource_path == "tests.adminapp.resources.TransactionResource"
    assert job.admin_site == "admin"

    page = importer_client.get(job_url(job)).content.decode()
    assert '<td class="total-new">3</td>' in page
    assert "transactions.csv" in page
    assert "account, datetime, amount" in page
    assert 'name="token"' in page
    assert Transaction.objects.count() == 0


def test_confirm_imports_and_ends_on_the_changelist_with_dies_message(
    background, importer_client, accounts
):
    upload(importer_client, three_rows())
    job = last_job()
    token = confirm_token_from(importer_client.get(job_url(job)))

    response = importer_client.post(job_url(job, "import_job_confirm"), {"token": token})

    assert response.status_code == 302
    assert response["Location"] == url("transaction", "changelist")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Import finished: 3 new, 0 updated, 0 deleted and 0 skipped transactions."
    ]
    assert Transaction.objects.count() == 3
    job.refresh_from_db()
    assert job.state == "done"
    page = importer_client.get(job_url(job)).content.decode()
    assert "Import finished: 3 new, 0 updated, 0 deleted and 0 skipped transactions." in page
    assert 'name="token"' not in page
    # The import's summary keeps no rows: they are counted, not said to be unchanged.
    assert "3 changed rows; the report lists each of them." in page
    assert "No row would change." not in page


def test_a_page_that_watched_the_import_ends_on_the_changelist_with_dies_message(
    background, importer_client, accounts
):
    upload(importer_client, three_rows())
    job = last_job()
    token = confirm_token_from(importer_client.get(job_url(job)))
    importer_client.post(job_url(job, "import_job_confirm"), {"token": token})
    importer_client.get(url("transaction", "changelist"))  # shows, so drops, the confirm's message

    # The page's script opens this URL when the state it watched turns to done.
    response = importer_client.get(f"{job_url(job)}?watched=1")

    assert response.status_code == 302
    assert response["Location"] == url("transaction", "changelist")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Import finished: 3 new, 0 updated, 0 deleted and 0 skipped transactions."
    ]
    # Opened any other way, the finished job's page stays.
    assert importer_client.get(job_url(job)).status_code == 200


@pytest.mark.parametrize("change", ["replayed", "tampered", "other job's"])
def test_a_confirm_not_issued_for_this_preview_imports_nothing(
    background, importer_client, accounts, change
):
    upload(importer_client, three_rows())
    first = last_job()
    token = confirm_token_from(importer_client.get(job_url(first)))
    upload(importer_client, csv_file([transaction_line("A2", 9, "1.000")]))
    second = last_job()
    if change == "replayed":
        importer_client.post(job_url(first, "import_job_confirm"), {"token": token})
        before = Transaction.objects.count()
        response = importer_client.post(job_url(first, "import_job_confirm"), {"token": token})
        expected_status, expected_count = 409, before
        message = "This import was confirmed already or is no longer available."
    elif change == "tampered":
        response = importer_client.post(
            job_url(first, "import_job_confirm"), {"token": token[:-2] + "xx"}
        )
        expected_status, expected_count, message = 400, 0, "Invalid import token."
    else:
        response = importer_client.post(job_url(second, "import_job_confirm"), {"token": token})
        expected_status, expected_count, message = 400, 0, "Invalid import token."
    assert response.status_code == expected_status
    assert message in response.content.decode()
    assert Transaction.objects.count() == expected_count
    if change != "replayed":
        assert ImportJob.objects.filter(state="previewed").count() == 2


def test_cancel_a_previewed_job_and_its_confirm_imports_nothing(
    background, importer_client, accounts
):
    upload(importer_client, three_rows())
    job = last_job()
    token = confirm_token_from(importer_client.get(job_url(job)))

    response = importer_client.post(job_url(job, "import_job_cancel"), follow=True)

    assert "The import was cancelled. Nothing was imported." in response.content.decode()
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert job.file.name == ""
    response = importer_client.post(job_url(job, "import_job_confirm"), {"token": token})
    assert response.status_code == 409
    assert Transaction.objects.count() == 0
    # An ended job cannot be cancelled again.
    assert importer_client.post(job_url(job, "import_job_cancel")).status_code == 409


def test_a_silent_worker_reads_as_failed_and_run_again_previews(
    queued_only, importer_client, accounts
):
    upload(importer_client, three_rows())
    job = last_job()
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    ImportJob.objects.filter(pk=job.pk).update(
        state="previewing", step_started_at=long_ago, heartbeat_at=long_ago
    )

    page = importer_client.get(job_url(job)).content.decode()

    job.refresh_from_db()
    assert job.state == "failed"
    assert "The worker running this import stopped responding" in page
    assert "Run again" in page
    queued_only.ADMIN_BULK_UPSERT = {
        **queued_only.ADMIN_BULK_UPSERT,
        "TASK_BACKEND": "default",
    }
    response = importer_client.post(job_url(job, "import_job_retry"))
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.state, job.failure, job.new_rows) == ("previewed", "", 3)


def test_progress_json_says_where_the_job_is(queued_only, importer_client, accounts):
    upload(importer_client, three_rows())
    job = last_job()
    started = timezone.now() - datetime.timedelta(seconds=10)
    ImportJob.objects.filter(pk=job.pk).update(
        state="importing",
        rows_total=1000,
        rows_done=250,
        step_started_at=started,
        heartbeat_at=timezone.now(),
    )

    progress = importer_client.get(job_url(job, "import_job_progress")).json()

    assert set(progress) == {
        "id",
        "state",
        "state_label",
        "rows_total",
        "rows_done",
        "percent",
        "rows_per_second",
        "seconds_left",
        "totals",
        "failure",
        "cancel_requested",
        "ended",
    }
    assert (progress["state"], progress["rows_done"], progress["percent"]) == (
        "importing",
        250,
        25.0,
    )
    assert 20 <= progress["rows_per_second"] <= 25  # 250 rows in 10 s and a little
    assert progress["seconds_left"] == pytest.approx(750 / progress["rows_per_second"], rel=0.01)
    page = importer_client.get(job_url(job)).content.decode()
    assert '<span class="bulk-upsert-rows-done">250</span>' in page
    assert '<meta http-equiv="refresh"' in page  # inside <noscript>
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=started - datetime.timedelta(hours=1))
    progress = importer_client.get(job_url(job, "import_job_progress")).json()
    assert progress["state"] == "failed"
    assert "stopped responding" in progress["failure"]


def test_the_upload_reads_the_header_only(queued_only, importer_client, accounts):
    lines = [transaction_line("A1", 1 + i % 28, f"{i}.000") for i in range(3000)]
    lines[2500] = transaction_line("A1", 1, "not a number")
    lines[2700] += ",one value too many"

    response = upload(importer_client, csv_file(lines))

    assert response.status_code == 302
    job = last_job()
    assert (job.state, job.rows_total) == ("queued", None)
    run_preview(job.pk)  # what the worker does
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.failure == (
        "Row 2701 has 5 values but the header has 4 columns. "
        "Check for an unquoted separator in a value."
    )
    assert job.failure in importer_client.get(job_url(job)).content.decode()


def test_a_bad_value_deep_in_the_file_shows_in_the_preview(queued_only, importer_client, accounts):
    lines = [transaction_line("A1", 1 + i % 28, f"{i}.000") for i in range(3000)]
    lines[2500] = transaction_line("A1", 1, "not a number")
    assert upload(importer_client, csv_file(lines)).status_code == 302
    job = last_job()
    run_preview(job.pk)

    page = importer_client.get(job_url(job)).content.decode()

    job.refresh_from_db()
    assert (job.state, job.error_rows) == ("previewed", 1)
    assert "<td>2501</td>" in page
    assert 'name="token"' not in page  # nothing to confirm while a row is invalid


def test_the_header_is_checked_at_upload(background, importer_client, accounts):
    file = csv_file([transaction_line("A1", 1, "1.000")], header="account,datetime,total,x")

    response = upload(importer_client, file)

    # "total" is no column of the resource: the mapping step asks which column holds
    # the key column "amount", before any job exists.
    assert response.status_code == 200
    assert "Match the file&#x27;s columns" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_french_admin_reads_the_job_page_in_french(
    background, importer_client, accounts, settings
):
    settings.LANGUAGE_CODE = "fr"
    upload(importer_client, three_rows())

    page = importer_client.get(job_url(last_job())).content.decode()

    assert "Tâche d’importation" in page
    assert "aperçu prêt" in page
    assert "Annuler l’importation" in page
