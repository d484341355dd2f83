"""Revert a done import from its job page: preview, confirm, the table as before, once only."""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from admin_bulk_upsert.jobs import expiry, transitions
from admin_bulk_upsert.jobs.models import ImportJob
from tests.admin.conftest import add_transaction
from tests.jobs.admin_flow import (
    confirm_token_from,
    csv_file,
    job_url,
    last_job,
    make_staff,
    transaction_line,
    upload,
    url,
)
from tests.testapp.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)

PERMS = ("view", "add", "change", "delete")


@pytest.fixture
def reverter(db):
    return make_staff("reverter", *(f"testapp.{perm}_transaction" for perm in PERMS))


@pytest.fixture
def reverter_client(client, reverter):
    client.force_login(reverter)
    return client


@pytest.fixture
def stored(accounts):
    """Two transactions before the import: the file updates both and adds a third."""
    return [
        add_transaction(accounts["A1"], 1, "10.000", "rent"),
        add_transaction(accounts["A2"], 2, "20.000", "phone"),
    ]


def table():
    return sorted(
        Transaction.objects.values_list(
            "pk", "account__number", "datetime", "amount", "description"
        )
    )


def import_file(client):
    """Upload, preview, confirm: the job is done (the immediate backend runs each step)."""
    upload(
        client,
        csv_file(
            [
                transaction_line("A1", 1, "10.000", "rent v2"),
                transaction_line("A2", 2, "20.000", "phone v2"),
                transaction_line("A1", 3, "30.000", "food"),
            ]
        ),
    )
    job = last_job()
    token = confirm_token_from(client.get(job_url(job)))
    client.post(job_url(job, "import_job_confirm"), {"token": token})
    job.refresh_from_db()
    assert (job.state, job.new_rows, job.updated_rows) == ("done", 1, 2)
    return job


def revert_token_from(response):
    match = re.search(
        r'class="bulk-upsert-revert-confirm".*?name="token" value="([^"]+)"',
        response.content.decode(),
        re.S,
    )
    assert match, "no confirm revert form on the page"
    return match.group(1)


def cells(page, name):
    return re.findall(rf'<td class="{name}">(.*?)</td>', page, re.S)


def test_the_revert_preview_lists_the_record_changed_since_as_a_conflict(
    background, reverter_client, stored
):
    job = import_file(reverter_client)
    phone = stored[1]
    Transaction.objects.filter(pk=phone.pk).update(description="by hand")
    before = table()

    page = reverter_client.get(job_url(job)).content.decode()
    assert "Revert this import" in page
    response = reverter_client.get(job_url(job, "import_job_revert"))

    assert response.status_code == 200
    page = response.content.decode()
    totals = {
        kind: cells(page, f"revert-total-{kind}")[0]
        for kind in ("delete", "restore", "conflict", "gone")
    }
    assert totals == {"delete": "1", "restore": "1", "conflict": "1", "gone": "0"}
    assert cells(page, "revert-column") == ["description"]
    assert cells(page, "revert-imported") == ["phone v2"]
    assert cells(page, "revert-current") == ["by hand"]
    # Records are named by their str(), linked to their change page.
    phone.refresh_from_db()
    assert f'<a href="{url("transaction", "changelist")}{phone.pk}/change/">{phone}</a>' in page
    # What a restore puts back: the imported value, then the value before the import.
    assert cells(page, "revert-detail")[-1] == "description: rent v2 → rent"
    created = Transaction.objects.get(description="food")
    assert f'<a href="{url("transaction", "changelist")}{created.pk}/change/">{created}</a>' in page
    assert "Confirm revert" in page
    assert table() == before  # a preview changes nothing

    listing = reverter_client.get(job_url(job, "import_job_revert_preview_csv"))
    assert listing["Content-Type"] == "text/csv"
    rows = list(csv.reader(io.StringIO(listing.content.decode())))
    assert rows[0] == ["outcome", "pk", "column", "imported_value", "current_value", "detail"]
    assert sorted(row[0] for row in rows[1:]) == ["conflict", "delete", "restore"]


def test_confirm_reverts_and_the_table_is_as_before(background, reverter_client, stored):
    before = table()
    job = import_file(reverter_client)
    assert table() != before
    token = revert_token_from(reverter_client.get(job_url(job, "import_job_revert")))

    response = reverter_client.post(job_url(job, "import_job_revert_confirm"), {"token": token})

    assert response.status_code == 302
    assert response["Location"] == job_url(job)
    assert table() == before
    job.refresh_from_db()
    assert job.state == "reverted"
    assert job.reverted_by == str(User.objects.get(username="reverter").pk)
    page = reverter_client.get(job_url(job)).content.decode()
    assert "The import was reverted." in page
    assert '<span class="bulk-upsert-state">reverted</span>' in page
    assert "Revert this import" not in page
    text = b"".join(reverter_client.get(job_url(job, "import_job_revert_report")).streaming_content)
    outcomes = sorted(row[0] for row in csv.reader(io.StringIO(text.decode())))
    assert outcomes == ["delete", "outcome", "restore", "restore"]


def test_a_partly_reverted_job_lists_its_conflicts(background, reverter_client, stored):
    before = table()
    job = import_file(reverter_client)
    Transaction.objects.filter(pk=stored[1].pk).update(description="by hand")
    token = revert_token_from(reverter_client.get(job_url(job, "import_job_revert")))

    reverter_client.post(job_url(job, "import_job_revert_confirm"), {"token": token})

    job.refresh_from_db()
    assert job.state == "partly_reverted"
    expected = [row if row[0] != stored[1].pk else (*row[:4], "by hand") for row in before]
    assert table() == expected
    page = reverter_client.get(job_url(job)).content.decode()
    assert "The import was partly reverted" in page
    assert cells(page, "revert-current") == ["by hand"]
    assert cells(page, "revert-total-conflict") == ["1"]


def test_a_second_revert_is_refused(background, reverter_client, stored):
    job = import_file(reverter_client)
    token = revert_token_from(reverter_client.get(job_url(job, "import_job_revert")))
    reverter_client.post(job_url(job, "import_job_revert_confirm"), {"token": token})
    after = table()

    again = reverter_client.post(job_url(job, "import_job_revert_confirm"), {"token": token})

    assert again.status_code == 409
    assert "This import was reverted already." in again.content.decode()
    assert reverter_client.get(job_url(job, "import_job_revert")).status_code == 409
    assert table() == after
    job.refresh_from_db()
    assert job.state == "reverted"


def test_without_the_delete_permission_no_button_and_403(
    background, importer_client, reverter, stored
):
    job = import_file(importer_client)  # the importer may add and change, not delete
    before = table()
    token = transitions.revert_token(job, reverter)

    page = importer_client.get(job_url(job)).content.decode()

    assert "Revert this import" not in page
    assert "needs the delete and change permissions" in page
    assert importer_client.get(job_url(job, "import_job_revert")).status_code == 403
    assert importer_client.get(job_url(job, "import_job_revert_preview_csv")).status_code == 403
    response = importer_client.post(job_url(job, "import_job_revert_confirm"), {"token": token})
    assert response.status_code == 403
    assert table() == before


def test_another_users_job_is_not_found(background, reverter_client, stored, client):
    job = import_file(reverter_client)
    token = revert_token_from(reverter_client.get(job_url(job, "import_job_revert")))
    before = table()
    client.force_login(make_staff("other", *(f"testapp.{perm}_transaction" for perm in PERMS)))

    for view in ["import_job_revert", "import_job_revert_preview_csv", "import_job_revert_report"]:
        assert client.get(job_url(job, view)).status_code == 404, view
    response = client.post(job_url(job, "import_job_revert_confirm"), {"token": token})
    assert response.status_code == 404
    assert table() == before


def test_a_tampered_or_foreign_token_reverts_nothing(background, reverter_client, stored):
    job = import_file(reverter_client)
    token = revert_token_from(reverter_client.get(job_url(job, "import_job_revert")))
    before = table()
    boss = User.objects.create_superuser("boss", password="pw")

    for forged in [
        token[:-2] + "xx",
        transitions.revert_token(job, boss),
        transitions.confirm_token(job),
    ]:
        response = reverter_client.post(
            job_url(job, "import_job_revert_confirm"), {"token": forged}
        )
        assert response.status_code == 400
        assert "Invalid revert token." in response.content.decode()
    assert table() == before
    job.refresh_from_db()
    assert job.state == "done"


def test_a_superuser_reverts_someone_elses_import(background, reverter_client, stored, client):
    before = table()
    job = import_file(reverter_client)
    boss = User.objects.create_superuser("boss", password="pw")
    client.force_login(boss)

    token = revert_token_from(client.get(job_url(job, "import_job_revert")))
    client.post(job_url(job, "import_job_revert_confirm"), {"token": token})

    assert table() == before
    job.refresh_from_db()
    assert (job.state, job.reverted_by) == ("reverted", str(boss.pk))


def test_a_queued_revert_shows_no_bar_yet_and_cannot_be_cancelled(
    background, reverter_client, stored
):
    job = import_file(reverter_client)
    token = revert_token_from(reverter_client.get(job_url(job, "import_job_revert")))
    background.ADMIN_BULK_UPSERT = {**background.ADMIN_BULK_UPSERT, "TASK_BACKEND": "dummy"}

    reverter_client.post(job_url(job, "import_job_revert_confirm"), {"token": token})

    job.refresh_from_db()
    assert job.state == "revert_queued"
    page = reverter_client.get(job_url(job)).content.decode()
    assert "Revert queued" in page
    # No worker has it yet: no bar (the import's full bar would read as the revert's).
    assert 'class="bulk-upsert-bar"' not in page
    assert "Waiting for a worker to pick the job up." in page
    assert 'data-polls="true"' in page
    assert "data-watched-url" not in page  # a revert that fails is back to done: no changelist
    assert "Cancel import" not in page
    assert reverter_client.post(job_url(job, "import_job_cancel")).status_code == 409
    progress = reverter_client.get(job_url(job, "import_job_progress")).json()
    assert (progress["state"], progress["rows_done"], progress["rows_total"]) == (
        "revert_queued",
        0,
        3,
    )


def test_a_revert_whose_worker_died_is_back_to_done_and_can_be_reverted_again(
    background, reverter_client, stored
):
    before = table()
    job = import_file(reverter_client)
    stale = timezone.now() - datetime.timedelta(hours=1)
    ImportJob.objects.filter(pk=job.pk).update(
        state="reverting", heartbeat_at=stale, step_started_at=stale, rows_done=1
    )

    page = reverter_client.get(job_url(job)).content.decode()

    job.refresh_from_db()
    assert (job.state, job.rows_done) == ("done", 3)
    assert "The worker running the revert stopped responding" in job.revert_summary["failure"]
    assert "The worker running the revert stopped responding" in page
    assert "Revert this import" in page
    token = revert_token_from(reverter_client.get(job_url(job, "import_job_revert")))
    reverter_client.post(job_url(job, "import_job_revert_confirm"), {"token": token})
    assert table() == before
    job.refresh_from_db()
    assert (job.state, job.revert_summary.get("failure")) == ("reverted", None)


def test_the_history_filters_and_lists_reverted_jobs(background, reverter_client, stored):
    job = import_file(reverter_client)
    upload(reverter_client, csv_file([transaction_line("A2", 5, "1.000")]))  # stays previewed
    token = revert_token_from(reverter_client.get(job_url(job, "import_job_revert")))
    reverter_client.post(job_url(job, "import_job_revert_confirm"), {"token": token})
    history = reverse("admin:admin_bulk_upsert_importjob_changelist")

    page = reverter_client.get(history, {"state__exact": "reverted"}).content.decode()

    assert re.findall(r'<td class="field-state">(.*?)</td>', page) == ["reverted"]
    everything = reverter_client.get(history).content.decode()
    for label in ["queued for revert", "reverting", "reverted", "partly reverted"]:
        assert f">{label}</a>" in everything, label

    # The Rows column says what the last step did: the revert's counts for a reverted
    # job, the preview's for a previewed one.
    rows = re.findall(r'<td class="field-counts">(.*?)</td>', everything)
    assert rows == [
        "1 new",
        "reverted: 1 deleted, 2 restored",
    ]


def test_a_done_jobs_totals_are_headed_import_a_previewed_ones_preview(
    background, reverter_client, stored
):
    job = import_file(reverter_client)
    page = reverter_client.get(job_url(job)).content.decode()
    assert '<h2 class="bulk-upsert-totals-heading">Import</h2>' in page

    upload(reverter_client, csv_file([transaction_line("A2", 5, "1.000")]))
    page = reverter_client.get(job_url(last_job())).content.decode()
    assert '<h2 class="bulk-upsert-totals-heading">Preview</h2>' in page


def test_a_cancelled_job_lists_no_counts_in_the_history(background, reverter_client, stored):
    upload(reverter_client, csv_file([transaction_line("A2", 5, "1.000")]))
    job = last_job()
    reverter_client.post(job_url(job, "import_job_cancel"))
    job.refresh_from_db()
    assert job.state == "cancelled"

    page = reverter_client.get(reverse("admin:admin_bulk_upsert_importjob_changelist"))
    assert re.findall(r'<td class="field-counts">(.*?)</td>', page.content.decode()) == [
        "nothing imported"
    ]


def test_a_stale_revert_in_the_cleanup_is_back_to_done(background, reverter_client, stored):
    job = import_file(reverter_client)
    stale = timezone.now() - datetime.timedelta(hours=1)
    ImportJob.objects.filter(pk=job.pk).update(state="reverting", heartbeat_at=stale)

    counts = expiry.delete_expired()

    job.refresh_from_db()
    assert counts["failed"] == 1
    assert job.state == "done"
    assert Transaction.objects.filter(amount=Decimal("30.000")).exists()
