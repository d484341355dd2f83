"""Importing over the API needs what the admin's import needs: add and change."""

import pytest
from django.urls import reverse
from rest_framework.authentication import BasicAuthentication
from rest_framework.permissions import IsAdminUser
from rest_framework.test import APIClient

from tests.drf.api import AccountViewSet
from tests.drf.clients import client_with
from tests.testapp.models import Account

pytestmark = pytest.mark.django_db

URL = "account-bulk-upsert"
RECORDS = [{"number": "A1", "name": "One"}]


def test_an_anonymous_client_is_refused():
    response = APIClient().post(reverse(URL), RECORDS, format="json")
    # DRF answers 403 (session authentication) or 401 (a scheme with a challenge).
    assert response.status_code in (401, 403)
    assert not Account.objects.exists()


def test_a_view_only_user_is_refused(django_user_model):
    client = client_with(django_user_model, "clerk", "view_account")
    response = client.post(reverse(URL), RECORDS, format="json")
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Importing needs the permissions to add and to change these records."
    )
    assert not Account.objects.exists()


def test_add_without_change_is_refused(django_user_model):
    client = client_with(django_user_model, "clerk", "add_account")
    assert client.post(reverse(URL), RECORDS, format="json").status_code == 403


def test_add_and_change_may_import(django_user_model):
    client = client_with(django_user_model, "clerk", "add_account", "change_account")
    response = client.post(reverse(URL), RECORDS, format="json")
    assert response.status_code == 200, response.json()
    assert Account.objects.get().name == "One"


def test_the_viewsets_permission_classes_apply(django_user_model, monkeypatch):
    # The view's own classes (by default the project's DEFAULT_PERMISSION_CLASSES) come
    # first: IsAdminUser refuses a non-staff importer who has the model's permissions.
    monkeypatch.setattr(AccountViewSet, "permission_classes", [IsAdminUser])
    client = client_with(django_user_model, "clerk", "add_account", "change_account")
    assert client.post(reverse(URL), RECORDS, format="json").status_code == 403
    assert not Account.objects.exists()


def test_an_anonymous_client_with_basic_authentication_is_challenged(monkeypatch):
    monkeypatch.setattr(AccountViewSet, "authentication_classes", [BasicAuthentication])
    response = APIClient().post(reverse(URL), RECORDS, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
