"""How JSON values reach the widgets: as the cells of a CSV file would."""

import pytest
from django.urls import reverse

from tests.testapp.models import Account, FidelityArticle, FidelityTag

pytestmark = pytest.mark.django_db


def test_booleans_and_nulls(api):
    response = api.post(
        reverse("account-bulk-upsert"),
        [
            {"number": "A1", "name": None, "active": False},
            {"number": "A2", "name": "Two", "active": True},
        ],
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert sorted(Account.objects.values_list("number", "name", "active")) == [
        ("A1", "", False),
        ("A2", "Two", True),
    ]


def test_a_list_fills_a_many_to_many_field(api):
    FidelityTag.objects.create(name="red")
    FidelityTag.objects.create(name="blue")
    response = api.post(
        reverse("article-bulk-upsert"),
        [
            {"code": "P1", "title": "One", "tags": ["red", "blue"]},
            {"code": "P2", "title": "", "tags": []},
        ],
        format="json",
    )
    assert response.status_code == 200, response.json()
    first = FidelityArticle.objects.get(code="P1")
    assert sorted(first.tags.values_list("name", flat=True)) == ["blue", "red"]
    assert not FidelityArticle.objects.get(code="P2").tags.exists()


def test_a_list_for_a_plain_field_is_refused(api):
    response = api.post(
        reverse("account-bulk-upsert"), [{"number": ["A1"], "name": "x"}], format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_value"
    assert response.json()["field"] == "number"
    assert not Account.objects.exists()
