"""A background job's page and report give a failed row the admin's and the CLI's words."""

from __future__ import annotations

import csv
import io

import pytest

from admin_bulk_upsert.jobs.storage import job_storage
from admin_bulk_upsert.reports.preview import Preview
from tests.admin.test_same_error_everywhere import TRANSACTIONS
from tests.jobs.admin_flow import csv_file, job_url, last_job, upload

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_job_page_and_report_name_each_cell_as_the_admin_does(
    background, importer_client, accounts
):
    assert upload(importer_client, csv_file(TRANSACTIONS[1:], header=TRANSACTIONS[0])).status_code
    job = last_job()

    errors = [
        (e.number, e.column, e.value, e.message) for e in Preview.from_json(job.summary).errors
    ]
    page = importer_client.get(job_url(job)).content.decode()
    with job_storage().open(job.report.name, "rb") as stored:
        report = list(csv.reader(io.StringIO(stored.read().decode())))

    assert [error[:3] for error in errors] == [
        (2, "account", "SUP-999"),
        (3, "datetime", "31.01.2024"),
        (4, "amount", ""),
    ]
    assert errors[0][3] == "No account has number “SUP-999”."
    assert errors[1][3].startswith("Enter a valid date/time. Formats accepted: 2024-01-31 14:30:00")
    assert errors[2][3] == "This field cannot be blank."
    assert "No account has number “SUP-999”." in page
    assert [row[3] for row in report[2:5]] == [
        "account='SUP-999': No account has number “SUP-999”.",
        f"datetime='31.01.2024': {errors[1][3]}",
        "amount='': This field cannot be blank.",
    ]
