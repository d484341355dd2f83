"""JobDatabaseRouter: the jobs and django-tasks-db's queue in their own database, nothing else."""

from __future__ import annotations

import pytest
from django.apps import apps

from admin_bulk_upsert.jobs.models import ImportJob
from admin_bulk_upsert.jobs.routing import JobDatabaseRouter
from admin_bulk_upsert.jobs.undo import UndoChunk
from tests.testapp.models import Product

router = JobDatabaseRouter()


def test_import_jobs_read_and_write_in_the_jobs_database():
    assert router.db_for_read(ImportJob) == "jobs"
    assert router.db_for_write(ImportJob) == "jobs"
    assert router.allow_migrate("jobs", "admin_bulk_upsert", "importjob") is True
    assert router.allow_migrate("default", "admin_bulk_upsert", "importjob") is False


def test_django_tasks_dbs_queue_goes_there_too():
    if not apps.is_installed("django_tasks_db"):
        pytest.skip("django-tasks-db is not installed")
    task_result = apps.get_app_config("django_tasks_database").get_model("DBTaskResult")
    assert router.db_for_write(task_result) == "jobs"
    # Its data migrations (RunPython, no model name) run where its table is, only.
    assert router.allow_migrate("jobs", "django_tasks_database") is True
    assert router.allow_migrate("default", "django_tasks_database") is False


def test_undo_data_and_the_models_stay_where_imports_run():
    # Undo data is written in the import's own transaction, on the import's database.
    assert router.db_for_write(UndoChunk) is None
    assert router.db_for_write(Product) is None
    assert router.allow_migrate("default", "admin_bulk_upsert", "undochunk") is None
    assert router.allow_migrate("jobs", "admin_bulk_upsert", "undochunk") is False
    assert router.allow_migrate("jobs", "testapp", "product") is False
