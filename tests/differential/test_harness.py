"""The harness itself: stock against stock agrees, and a known divergence is caught."""

from __future__ import annotations

import pytest
from import_export.resources import ModelResource

from tests.differential.datasets import Scenario, transaction_scenario, transaction_spec
from tests.differential.harness import assert_same, differences, run_import
from tests.testapp.models import LooseTransaction, Transaction

pytestmark = pytest.mark.django_db


def test_stock_against_stock_agrees(accounts):
    scenario = transaction_scenario(1, model=Transaction, accounts=accounts)
    assert_same(run_import(ModelResource, scenario), run_import(ModelResource, scenario))


def _duplicate_key_file(accounts, model) -> Scenario:
    rows = (
        ("A001", "2024-01-05 10:00:00", "12", "first"),
        ("A001", "2024-01-05 10:00:00", "12.000", "second"),
    )
    return Scenario(
        "duplicates",
        transaction_spec(model),
        (),
        ("account", "datetime", "amount", "description"),
        rows,
    )


@pytest.mark.parametrize("model", [Transaction, LooseTransaction])
def test_use_bulk_is_not_row_by_row(accounts, model):
    """Why stock ``use_bulk`` is no answer: a later row with the key of an earlier new
    row is another insert (a duplicate, or an IntegrityError for the whole batch) where
    row by row it updates the row just created. The harness must see that."""
    scenario = _duplicate_key_file(accounts, model)
    row_by_row = run_import(ModelResource, scenario)
    assert row_by_row.aspects["totals"]["new"] == 1
    assert row_by_row.aspects["totals"]["update"] == 1
    bulk = run_import(ModelResource, scenario.with_spec(scenario.spec.with_meta(use_bulk=True)))
    found = differences(row_by_row, bulk)
    assert any(line.startswith("totals") for line in found), found
    if model is LooseTransaction:
        assert any(line.startswith("table") for line in found), found
    else:
        assert any(line.startswith("base_errors") for line in found), found
