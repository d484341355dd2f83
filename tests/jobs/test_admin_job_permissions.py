"""Who sees and acts on a job: its owner, superusers; the import permission for every action."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from tests.jobs.admin_flow import (
    confirm_token_from,
    job_url,
    last_job,
    make_staff,
    three_rows,
    upload,
)
from tests.testapp.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)

ACTIONS = ["import_job_confirm", "import_job_cancel", "import_job_retry"]


@pytest.fixture
def previewed(background, importer_client, accounts):
    upload(importer_client, three_rows())
    return last_job()


def test_another_user_finds_no_such_job(previewed, client):
    client.force_login(
        make_staff(
            "other",
            "testapp.add_transaction",
            "testapp.change_transaction",
            "testapp.view_transaction",
        )
    )
    for view in ["import_job", "import_job_progress", "import_job_report"]:
        assert client.get(job_url(previewed, view)).status_code == 404, view
    for view in ACTIONS:
        assert client.post(job_url(previewed, view), {"token": "x"}).status_code == 404, view
    previewed.refresh_from_db()
    assert previewed.state == "previewed"


def test_a_superuser_sees_every_job_and_cancels_but_cannot_confirm_for_the_owner(
    previewed, importer_client, client
):
    token = confirm_token_from(importer_client.get(job_url(previewed)))
    client.force_login(User.objects.create_superuser("boss", password="pw"))

    page = client.get(job_url(previewed)).content.decode()

    assert '<td class="total-new">3</td>' in page
    assert 'name="token"' not in page  # the token is bound to the user who uploaded
    response = client.post(job_url(previewed, "import_job_confirm"), {"token": token})
    assert response.status_code == 400
    assert Transaction.objects.count() == 0
    assert client.post(job_url(previewed, "import_job_cancel")).status_code == 302
    previewed.refresh_from_db()
    assert previewed.state == "cancelled"


def test_without_the_import_permission_the_owner_only_reads(previewed, importer_client, importer):
    token = confirm_token_from(importer_client.get(job_url(previewed)))
    importer.user_permissions.remove(Permission.objects.get(codename="change_transaction"))
    importer = User.objects.get(pk=importer.pk)  # drop the cached permissions
    importer_client.force_login(importer)

    page = importer_client.get(job_url(previewed))

    assert page.status_code == 200
    assert 'name="token"' not in page.content.decode()
    assert "Cancel import" not in page.content.decode()
    for view in ACTIONS:
        response = importer_client.post(job_url(previewed, view), {"token": token})
        assert response.status_code == 403, view
    assert Transaction.objects.count() == 0
    previewed.refresh_from_db()
    assert previewed.state == "previewed"


def test_the_report_downloads_through_the_view(previewed, importer_client):
    response = importer_client.get(job_url(previewed, "import_job_report"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="transactions-report.csv"'
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "row,outcome,changed_columns,error"
    assert len(lines) == 4
    page = importer_client.get(job_url(previewed)).content.decode()
    assert job_url(previewed, "import_job_report") in page
    assert previewed.report.name not in page  # never the storage's name or URL


def test_a_job_is_only_found_under_its_own_models_admin(previewed, importer_client):
    from django.urls import reverse

    assert (
        importer_client.get(
            reverse("admin:testapp_product_import_job", args=[previewed.pk])
        ).status_code
        == 404
    )
