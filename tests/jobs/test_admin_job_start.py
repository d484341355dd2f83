"""What an upload hands the worker: resource path and hook arguments, checked on the page."""

from __future__ import annotations

import datetime

import pytest

from admin_bulk_upsert.jobs.models import ImportJob
from tests.adminapp.admin import site
from tests.adminapp.resources import TransactionResource
from tests.jobs.admin_flow import (
    csv_file,
    job_url,
    last_job,
    make_staff,
    three_rows,
    upload,
)
from tests.testapp.models import Account, Transaction

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def transaction_admin():
    return site._registry[Transaction]


def test_the_admins_default_resource_is_stored_as_a_blank_path(background, client):
    client.force_login(make_staff("acc", "testapp.add_account", "testapp.change_account"))
    file = csv_file(["N1,First"], header="number,name")
    response = upload(client, file, model="account", import_id_fields=["number"])
    assert response.status_code == 302, response.content.decode()
    job = last_job()
    assert response["Location"] == job_url(job, model="account")
    assert (job.resource_path, job.state, job.new_rows) == ("", "previewed", 1)
    assert site._registry[Account]._default_resource_class is not None


def test_a_resource_without_an_import_path_is_refused_on_the_page(
    background, importer_client, accounts, transaction_admin, monkeypatch
):
    class LocalResource(TransactionResource):
        """Defined in a function: no module attribute names it."""

    monkeypatch.setattr(transaction_admin, "resource_classes", [LocalResource])

    response = upload(importer_client, three_rows())

    assert response.status_code == 200
    page = response.content.decode()
    assert "cannot be imported as" in page
    assert "import_in_background = False on TransactionAdmin" in page
    assert not ImportJob.objects.exists()


def test_hook_arguments_that_are_not_json_are_refused_naming_the_hook(
    background, importer_client, accounts, transaction_admin, monkeypatch
):
    monkeypatch.setattr(
        transaction_admin,
        "get_import_data_kwargs",
        lambda **kwargs: {"since": datetime.date(2024, 1, 1)},
    )

    response = upload(importer_client, three_rows())

    assert response.status_code == 200
    page = response.content.decode()
    assert "get_import_data_kwargs()" in page
    assert "Object of type date is not JSON serializable" in page
    assert not ImportJob.objects.exists()


def test_hook_arguments_reach_the_worker_without_request_and_form(
    background, importer_client, accounts, transaction_admin, monkeypatch
):
    original = transaction_admin.get_import_resource_kwargs
    monkeypatch.setattr(
        transaction_admin,
        "get_import_resource_kwargs",
        lambda request, **kwargs: {**original(request, **kwargs), "team": "north"},
    )

    upload(importer_client, three_rows())

    job = last_job()
    assert job.resource_kwargs == {"team": "north"}  # DIE's form and request are left out
    assert job.import_kwargs == {}


def test_an_admin_can_keep_imports_in_the_request(
    background, importer_client, accounts, transaction_admin, monkeypatch
):
    monkeypatch.setattr(transaction_admin, "import_in_background", False)

    response = upload(importer_client, three_rows())

    assert response.status_code == 200
    assert 'name="token"' in response.content.decode()  # the in-request preview
    assert not ImportJob.objects.exists()


def test_an_admin_can_import_in_the_background_when_the_setting_says_no(
    background, importer_client, accounts, transaction_admin, monkeypatch
):
    background.ADMIN_BULK_UPSERT = {**background.ADMIN_BULK_UPSERT, "BACKGROUND_IMPORTS": False}
    monkeypatch.setattr(transaction_admin, "import_in_background", True)

    assert upload(importer_client, three_rows()).status_code == 302
    assert last_job().state == "previewed"


def test_skip_confirm_imports_without_a_preview(background, importer_client, accounts):
    background.IMPORT_EXPORT_SKIP_ADMIN_CONFIRM = True

    response = upload(importer_client, three_rows())

    job = last_job()
    assert response["Location"] == job_url(job)
    assert (job.state, job.new_rows) == ("done", 3)
    assert Transaction.objects.count() == 3
