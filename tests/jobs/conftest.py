"""Fixtures of the job admin tests: background imports on ``tests.adminapp``'s admin site.

None is autouse, so the worker tests beside them keep their own settings. Tasks
run on Django's immediate backend unless a test asks for ``queued_only``: the
dummy backend queues and never runs, and a job stays as the upload left it.
"""

from __future__ import annotations

import pytest

from admin_bulk_upsert.jobs.compat import DUMMY_BACKEND, IMMEDIATE_BACKEND
from tests.admin.conftest import accounts, importer, importer_client  # noqa: F401

TASKS = {
    "default": {"BACKEND": IMMEDIATE_BACKEND},
    "dummy": {"BACKEND": DUMMY_BACKEND},
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
