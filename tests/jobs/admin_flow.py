"""Builders for the job admin tests: background imports on ``tests.adminapp``'s admin site.

The test modules import the fixtures they use from here (``tests/jobs`` has no
conftest of its own, so that the worker tests beside them keep their settings).
Tasks run on Django's immediate backend unless a test switches to the dummy one,
which queues and never runs: then a job stays as the upload left it.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from admin_bulk_upsert.jobs.models import ImportJob
from tests.admin.conftest import (  # noqa: F401 - fixtures and builders re-exported
    DEFAULT_KEYS,
    accounts,
    csv_file,
    importer,
    importer_client,
    make_staff,
    transaction_line,
    upload,
    url,
)

TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"},
    "dummy": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"},
}


@pytest.fixture
def background(settings, tmp_path):
    """Background imports on, the admin site of ``tests.adminapp``, immediate tasks."""
    settings.ROOT_URLCONF = "tests.adminapp.urls"
    settings.TASKS = TASKS
    settings.ADMIN_BULK_UPSERT = {
        "STAGING_DIR": str(tmp_path / "jobs"),
        "BACKGROUND_IMPORTS": True,
        "BATCH_SIZE": 2,
    }
    return settings


@pytest.fixture
def queued_only(background):
    """Jobs are queued on the dummy backend and never run."""
    background.ADMIN_BULK_UPSERT = {**background.ADMIN_BULK_UPSERT, "TASK_BACKEND": "dummy"}
    return background


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
