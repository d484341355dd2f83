"""The "Import jobs" history: own jobs, filters, search, read-only, superusers delete."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from admin_bulk_upsert.jobs import transitions
from admin_bulk_upsert.jobs.models import ImportJob
from tests.jobs.admin_flow import (
    job_url,
    make_staff,
)

pytestmark = pytest.mark.django_db(transaction=True)


def history(view="changelist", *args):
    return reverse(f"admin:admin_bulk_upsert_importjob_{view}", args=args)


def _job(user, file_name, model_label="testapp.Transaction", **fields):
    job = transitions.create_job(
        b"account,datetime,amount,description\nA1,2024-01-01 12:00:00,1.000,x\n",
        user=user,
        model_label=model_label,
        file_name=file_name,
        input_format="csv",
        unique_fields=["account", "datetime", "amount"],
        admin_site="admin",
        resource_path="tests.adminapp.resources.TransactionResource",
    )
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    return job


@pytest.fixture
def jobs(background, importer, accounts):
    other = make_staff("other")
    return {
        "mine": _job(importer, "january.csv"),
        "mine_failed": _job(importer, "february.csv", state="failed", failure="boom"),
        "theirs": _job(other, "march.csv"),
    }


def listed(response):
    return sorted(job.file_name for job in response.context["cl"].result_list)


def test_a_user_lists_their_own_jobs(jobs, importer_client):
    response = importer_client.get(history())
    assert response.status_code == 200
    assert listed(response) == ["february.csv", "january.csv"]
    page = response.content.decode()
    # The key columns are on each job's page, not in the list (which must fit at 1280 px).
    assert '<td class="field-counts">1 new</td>' in page  # only the outcomes that happened


def test_a_superuser_lists_everyones(jobs, client):
    client.force_login(User.objects.create_superuser("boss", password="pw"))
    assert listed(client.get(history())) == ["february.csv", "january.csv", "march.csv"]


def test_filters_and_search(jobs, importer_client):
    assert listed(importer_client.get(history(), {"state": "failed"})) == ["february.csv"]
    assert listed(importer_client.get(history(), {"q": "janu"})) == ["january.csv"]
    assert listed(importer_client.get(history(), {"model_label": "testapp.Product"})) == []
    assert listed(importer_client.get(history(), {"q": "march"})) == []


def test_the_change_view_is_the_job_page(jobs, importer_client):
    response = importer_client.get(history("change", jobs["mine"].pk))
    assert response.status_code == 302
    assert response["Location"] == job_url(jobs["mine"])
    assert importer_client.get(history("change", jobs["theirs"].pk)).status_code == 404
    page = importer_client.get(job_url(jobs["mine"])).content.decode()
    assert history() in page  # and back


def test_a_job_of_a_model_without_bulk_admin_reads_on_the_history_page(
    background, importer, importer_client
):
    job = _job(importer, "people.csv", model_label="auth.User", state="failed", failure="boom")
    response = importer_client.get(history("change", job.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "people.csv" in page and "boom" in page
    assert "Run again" not in page


def test_nothing_is_added_or_changed_and_only_superusers_delete(jobs, importer_client, client):
    assert importer_client.get(history("add")).status_code == 403
    assert importer_client.post(history("delete", jobs["mine_failed"].pk)).status_code == 403
    client.force_login(User.objects.create_superuser("boss", password="pw"))
    report = jobs["mine"].report.name
    response = client.post(history("delete", jobs["mine"].pk), {"post": "yes"})
    assert response.status_code == 302
    assert not ImportJob.objects.filter(pk=jobs["mine"].pk).exists()
    from admin_bulk_upsert.jobs.storage import job_storage

    assert not job_storage().exists(report)


def test_the_history_serves_reports_of_visible_jobs(jobs, importer_client):
    response = importer_client.get(history("report", jobs["mine"].pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"row,outcome")
    assert importer_client.get(history("report", jobs["theirs"].pk)).status_code == 404
