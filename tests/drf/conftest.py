import pytest

pytest.importorskip("rest_framework", reason="the HTTP API needs djangorestframework (drf extra)")


@pytest.fixture
def importer(django_user_model):
    """A superuser: every permission (tests/drf/test_permissions.py narrows them)."""
    return django_user_model.objects.create_superuser("importer", "i@example.com", "pw")


@pytest.fixture
def api(importer):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(importer)
    return client


@pytest.fixture
def jobs_on(settings, tmp_path):
    """Import jobs in the background on the immediate backend (a step runs at its commit);
    more than 3 records make a job."""
    from admin_bulk_upsert.jobs.compat import DUMMY_BACKEND, IMMEDIATE_BACKEND

    settings.TASKS = {
        "default": {"BACKEND": IMMEDIATE_BACKEND},
        "dummy": {"BACKEND": DUMMY_BACKEND},
    }
    settings.ADMIN_BULK_UPSERT = {
        "STAGING_DIR": str(tmp_path / "jobs"),
        "BACKGROUND_IMPORTS": True,
        "API_SYNC_MAX_ROWS": 3,
        "BATCH_SIZE": 2,
    }
    return settings
