"""Fixtures of the differential suite."""

from __future__ import annotations

import pytest

from tests.differential.datasets import ACCOUNT_NUMBERS
from tests.differential.wide import TAG_NAMES
from tests.testapp.models import Account, Tag


@pytest.fixture
def accounts(django_db_setup, request) -> dict[str, int]:
    """The accounts every file refers to, by number; stored once per test and never
    touched by the imports, so foreign key ids are equal in both runs."""
    if request.node.get_closest_marker("django_db") is None:
        raise AssertionError("tests using `accounts` need @pytest.mark.django_db")
    return {
        number: Account.objects.create(number=number, name=number).pk for number in ACCOUNT_NUMBERS
    }


@pytest.fixture
def tags(django_db_setup) -> dict[str, int]:
    """The tags the wide files' m2m column names, by name; never touched by the imports."""
    return {name: Tag.objects.create(name=name).pk for name in TAG_NAMES}
