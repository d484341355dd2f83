"""Builders for the job admin tests (their fixtures are in ``tests/jobs/conftest.py``)."""

from __future__ import annotations

import re

from django.urls import reverse

from admin_bulk_upsert.jobs.compat import DUMMY_BACKEND, IMMEDIATE_BACKEND
from admin_bulk_upsert.jobs.models import ImportJob
from tests.admin.conftest import (  # noqa: F401 - builders re-exported
    csv_file,
    make_staff,
    transaction_line,
    upload,
    url,
)

TASKS = {
    "default": {"BACKEND": IMMEDIATE_BACKEND},
    "dummy": {"BACKEND": DUMMY_BACKEND},
}


def job_url(job, view="import_job", model="transaction"):
    return reverse(f"admin:testapp_{model}_{view}", args=[job.pk])


def last_job():
    return ImportJob.objects.order_by("-pk").first()


def confirm_token_from(response):
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "no confirm form on the job page"
    return match.group(1)


def three_rows():
    return csv_file(
        [
            transaction_line("A1", 1, "10.000", "rent"),
            transaction_line("A2", 2, "20.000", "phone"),
            transaction_line("A1", 3, "30.000", "food"),
        ]
    )
