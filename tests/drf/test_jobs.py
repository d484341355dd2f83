"""More records than one request imports: an import job, the admin's, followed over HTTP."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.test import APIClient

from admin_bulk_upsert.jobs.models import ImportJob
from tests.drf.clients import client_with
from tests.testapp.models import Account

# The immediate backend runs a job's step when its row is committed.
pytestmark = pytest.mark.django_db(transaction=True)

URL = "account-bulk-upsert"
RECORDS = [{"number": f"A{i}", "name": f"Account {i}", "active": i % 2 == 0} for i in range(5)]


def test_a_large_payload_becomes_a_job_whose_url_is_in_location(api, jobs_on):
    response = api.post(reverse(URL), RECORDS, format="json")

    assert response.status_code == 202, response.json()
    job = ImportJob.objects.get()
    assert response["Location"] == f"http://testserver/api/import-jobs/{job.pk}/"
    assert job.model_label == "testapp.Account"
    assert job.resource_path == "tests.drf.api.AccountResource"
    # The job ran on the immediate backend: the records are there, as in the request.
    assert sorted(Account.objects.values_list("number", "name", "active")) == [
        (r["number"], r["name"], r["active"]) for r in RECORDS
    ]
    status = api.get(response["Location"]).json()
    assert status["state"] == "done"
    assert status["totals"]["new"] == 5
    assert status["rows_done"] == status["rows_total"] == 5


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ({"number": "A4", "name": ["x"], "active": True}, "invalid_value"),
        ({"number": "A4"}, "fields_differ"),
    ],
)
def test_a_large_payload_with_a_bad_record_is_refused_before_any_job(api, jobs_on, bad, code):
    # The records become the job's CSV file row by row: a bad one found on the way is
    # the 400 the request would have given, and no job is left behind.
    response = api.post(reverse(URL), [*RECORDS[:4], bad], format="json")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert response.json()["index"] == 4
    assert not ImportJob.objects.exists()
    assert not Account.objects.exists()


def test_a_dry_run_job_waits_for_its_confirm(api, jobs_on):
    response = api.post(reverse(URL) + "?dry_run=1", RECORDS, format="json")
    assert response.status_code == 202
    detail = api.get(response["Location"]).json()
    assert detail["state"] == "previewed"
    assert detail["awaiting_confirm"] is True
    assert detail["preview"]["totals"]["new"] == 5
    assert not Account.objects.exists()

    confirmed = api.post(response["Location"] + "confirm/")

    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["state"] == "done"
    assert Account.objects.count() == 5
    # Confirming twice imports nothing more.
    assert api.post(response["Location"] + "confirm/").status_code == 409


def test_a_queued_job_is_cancelled(api, jobs_on):
    jobs_on.ADMIN_BULK_UPSERT = {**jobs_on.ADMIN_BULK_UPSERT, "TASK_BACKEND": "dummy"}
    location = api.post(reverse(URL), RECORDS, format="json")["Location"]
    response = api.post(location + "cancel/")
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert not Account.objects.exists()


def test_a_client_sees_only_its_own_jobs(api, jobs_on, django_user_model):
    jobs_on.ADMIN_BULK_UPSERT = {**jobs_on.ADMIN_BULK_UPSERT, "TASK_BACKEND": "dummy"}
    location = api.post(reverse(URL), RECORDS, format="json")["Location"]
    other = client_with(django_user_model, "other", "add_account", "change_account")

    assert other.get(location).status_code == 404
    assert other.post(location + "cancel/").status_code == 404
    assert other.get(reverse("import-job-list")).json() == []
    # The superuser who started it sees it in the list.
    assert [job["url"] for job in api.get(reverse("import-job-list")).json()] == [location]


def test_a_view_only_user_cannot_cancel_its_job(jobs_on, django_user_model):
    jobs_on.ADMIN_BULK_UPSERT = {**jobs_on.ADMIN_BULK_UPSERT, "TASK_BACKEND": "dummy"}
    client = client_with(django_user_model, "clerk", "add_account", "change_account")
    location = client.post(reverse(URL), RECORDS, format="json")["Location"]
    user = django_user_model.objects.get(username="clerk")
    user.user_permissions.set(Permission.objects.filter(codename="view_account"))
    client.force_authenticate(django_user_model.objects.get(pk=user.pk))

    assert client.get(location).status_code == 200
    assert client.post(location + "cancel/").status_code == 403
    assert ImportJob.objects.get().state == "confirmed"


def test_an_anonymous_client_sees_no_job(api, jobs_on):
    jobs_on.ADMIN_BULK_UPSERT = {**jobs_on.ADMIN_BULK_UPSERT, "TASK_BACKEND": "dummy"}
    location = api.post(reverse(URL), RECORDS, format="json")["Location"]
    assert APIClient().get(location).status_code in (401, 403)
    assert APIClient().get(reverse("import-job-list")).status_code in (401, 403)


def test_a_large_uploaded_file_becomes_a_job_of_that_file(api, jobs_on):
    import io

    text = "number,name,active\n" + "".join(f"A{i},Account {i},1\n" for i in range(5))
    upload = io.BytesIO(text.encode())
    upload.name = "accounts.csv"

    response = api.post(reverse(URL), {"file": upload}, format="multipart")

    assert response.status_code == 202, response.json()
    job = ImportJob.objects.get()
    assert (job.file_name, job.input_format, job.state) == ("accounts.csv", "csv", "done")
    assert Account.objects.filter(active=True).count() == 5


def test_a_done_job_is_reverted_and_its_report_downloaded(api, jobs_on):
    location = api.post(reverse(URL), RECORDS, format="json")["Location"]

    report = api.get(location + "report/")
    assert report.status_code == 200
    assert report["Content-Type"] == "text/csv"
    assert len(b"".join(report.streaming_content).splitlines()) == 1 + len(RECORDS)

    reverted = api.post(location + "revert/")

    assert reverted.status_code == 200, reverted.json()
    assert reverted.json()["state"] == "reverted"
    assert not Account.objects.exists()
    assert api.post(location + "revert/").status_code == 409


def test_reverting_needs_delete_permission(jobs_on, django_user_model):
    client = client_with(django_user_model, "clerk", "add_account", "change_account")
    location = client.post(reverse(URL), RECORDS, format="json")["Location"]
    response = client.post(location + "revert/")
    assert response.status_code == 403
    assert Account.objects.count() == len(RECORDS)
