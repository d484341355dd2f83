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
