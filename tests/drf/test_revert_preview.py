"""``GET import-jobs/<id>/revert-preview/``: what a revert would do, as the admin's preview says.

A client relies on the preview telling the truth: the records it lists as to
delete are gone after ``POST revert/``, those to restore have their values from
before the import back, and a conflict is left as it is. It changes nothing
itself, says why a job cannot be reverted, and is for whoever may revert the
job (the admin's rule: the importer or a superuser, with delete and change).
"""

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
#: Two accounts that exist before the import (it updates them) and three it creates.
BEFORE = {"A0": "Old 0", "A1": "Old 1"}
RECORDS = [{"number": f"A{i}", "name": f"Account {i}", "active": True} for i in range(5)]


@pytest.fixture
def existing(transactional_db):
    return {
        number: Account.objects.create(number=number, name=name, active=True)
        for number, name in BEFORE.items()
    }


def _import(client):
    response = client.post(reverse(URL), RECORDS, format="json")
    assert response.status_code == 202, response.json()
    location = response["Location"]
    assert client.get(location).json()["state"] == "done"
    return location


def _group(body, kind):
    (group,) = [group for group in body["entries"] if group["kind"] == kind]
    return group


def test_the_preview_lists_what_the_revert_then_does(api, jobs_on, existing):
    location = _import(api)
    # Edited since the import: a conflict, left as it is.
    Account.objects.filter(number="A1").update(name="Edited")
    table = sorted(Account.objects.values_list("number", "name"))

    response = api.get(location + "revert-preview/")

    assert response.status_code == 200, response.json()
    preview = response.json()
    assert (preview["revertable"], preview["refusal"], preview["nothing_to_do"]) == (
        True,
        "",
        False,
    )
    assert preview["totals"] == {"delete": 3, "restore": 1, "conflict": 1, "gone": 0}
    assert preview["job"]["state"] == "done"
    to_delete = _group(preview, "delete")
    assert sorted(row["label"] for row in to_delete["rows"]) == ["A2", "A3", "A4"]
    assert (to_delete["total"], to_delete["more"]) == (3, 0)
    (restore,) = _group(preview, "restore")["rows"]
    assert restore["label"] == "A0"
    assert restore["detail"] == "name: Account 0 → Old 0"
    (conflict,) = _group(preview, "conflict")["rows"]
    assert (conflict["label"], conflict["column"]) == ("A1", "name")
    assert (conflict["imported"], conflict["current"]) == ("Account 1", "Edited")
    assert conflict["detail"] == "changed since the import"
    assert all("url" not in row for group in preview["entries"] for row in group["rows"])
    # A dry run: nothing changed.
    assert sorted(Account.objects.values_list("number", "name")) == table

    reverted = api.post(location + "revert/")

    assert reverted.status_code == 200, reverted.json()
    assert reverted.json()["state"] == "partly_reverted"
    pks = {row["pk"] for row in to_delete["rows"]}
    assert not Account.objects.filter(pk__in=pks).exists()
    assert sorted(Account.objects.values_list("pk", "number", "name")) == [
        (int(restore["pk"]), "A0", "Old 0"),
        (int(conflict["pk"]), "A1", "Edited"),
    ]


def test_a_job_that_cannot_be_reverted_says_why(api, jobs_on, existing):
    location = _import(api)
    assert api.post(location + "revert/").status_code == 200

    preview = api.get(location + "revert-preview/").json()

    assert preview["revertable"] is False
    assert preview["refusal"] == "This import was reverted already."
    assert (preview["totals"], preview["entries"]) == (None, [])
    assert preview["job"]["state"] == "reverted"


def test_a_waiting_job_has_nothing_to_revert_yet(api, jobs_on):
    jobs_on.ADMIN_BULK_UPSERT = {**jobs_on.ADMIN_BULK_UPSERT, "TASK_BACKEND": "dummy"}
    location = api.post(reverse(URL), RECORDS, format="json")["Location"]

    preview = api.get(location + "revert-preview/").json()

    assert preview["revertable"] is False
    assert preview["refusal"] == "Only a finished import can be reverted."


def test_reverting_anothers_import_is_for_superusers(api, jobs_on, django_user_model):
    owner = client_with(
        django_user_model, "owner", "add_account", "change_account", "delete_account"
    )
    location = _import(owner)
    other = client_with(
        django_user_model, "other", "add_account", "change_account", "delete_account"
    )

    assert other.get(location + "revert-preview/").status_code == 404
    # The superuser sees every job, and may revert it as in the admin.
    assert api.get(location + "revert-preview/").json()["revertable"] is True
    assert owner.get(location + "revert-preview/").json()["totals"]["delete"] == len(RECORDS)


def test_previewing_a_revert_needs_delete_and_change(jobs_on, django_user_model):
    client = client_with(django_user_model, "clerk", "add_account", "change_account")
    location = _import(client)

    response = client.get(location + "revert-preview/")

    assert response.status_code == 403
    assert response.json()["detail"] == "You may not revert this import."
    user = django_user_model.objects.get(username="clerk")
    user.user_permissions.set(Permission.objects.filter(codename="view_account"))
    client.force_authenticate(django_user_model.objects.get(pk=user.pk))
    assert client.get(location).status_code == 200
    assert client.get(location + "revert-preview/").status_code == 403
    assert Account.objects.count() == len(RECORDS)


def test_an_anonymous_client_previews_no_revert(api, jobs_on):
    location = _import(api)
    assert APIClient().get(location + "revert-preview/").status_code in (401, 403)
    assert ImportJob.objects.get().state == "done"
