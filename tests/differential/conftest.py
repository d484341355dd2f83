"""Fixtures of the differential suite."""

from __future__ import annotations

import pytest

from tests.differential.datasets import ACCOUNT_NUMBERS
from tests.testapp.models import Account


@pytest.fixture
def accounts(django_db_setup, request) -> dict[str, int]:
    """The accounts every file refers to, by number; stored once per test and never
    touched by the imports, so foreign key ids are equal in both runs."""
    if request.node.get_closest_marker("django_db") is None:
        raise AssertionError("tests using `accounts` need @pytest.mark.django_db")
    return {
        number: Account.objects.create(number=number, name=number).pk for number in ACCOUNT_NUMBERS
    }
