"""An upload when the staging disk is full: a form error, and no part of the file kept."""

from __future__ import annotations

import errno
import io

import pytest

from admin_bulk_upsert.jobs.models import ImportJob
from tests.admin.conftest import csv_file, transaction_line, upload
from tests.full_disk import files_in
from tests.testapp.models import Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def many_transactions(count=2_000):
    return csv_file(
        [transaction_line("A1", 1 + i % 28, f"{i}.000", "x" * 20) for i in range(count)]
    )


# -- the admin's upload, imported in the request ---------------------------------------


def test_an_upload_on_a_full_staging_disk_gets_a_form_error_and_leaves_nothing(
    tiny_disk, settings, importer_client, accounts
):
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tiny_disk)}

    response = upload(importer_client, many_transactions())

    assert response.status_code == 200
    errors = response.context["form"].non_field_errors()
    assert errors == [
        "The server has no space left to keep this upload (No space left on device): "
        "nothing was kept. Try again once space has been freed."
    ]
    assert "result" not in response.context
    assert files_in(tiny_disk) == []
    assert Transaction.objects.count() == 0


def test_a_preview_that_fills_the_disk_removes_the_staged_upload_too(
    admin_site_urls, importer_client, accounts, monkeypatch
):
    from admin_bulk_upsert.admin import staging

    class FullFile(io.StringIO):
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(staging, "open_preview_csv", lambda upload: FullFile())

    response = upload(importer_client, csv_file([transaction_line("A1", 1, "1.000")]))

    assert "no space left to keep this upload" in str(response.context["form"].errors)
    assert files_in(admin_site_urls) == []


# -- files of import jobs -----------------------------------------------------------------


def test_a_background_upload_on_a_full_disk_gets_a_form_error_and_leaves_nothing(
    full_job_storage, settings, importer_client, accounts
):
    settings.ROOT_URLCONF = "tests.adminapp.urls"

    response = upload(importer_client, csv_file([transaction_line("A1", 1, "1.000")]))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "The server has no space left to store this file (No space left on device): "
        "nothing was kept. Try again once space has been freed."
    ]
    assert files_in(full_job_storage) == []
    assert not ImportJob.objects.exists()
