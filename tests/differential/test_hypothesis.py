"""Small files drawn by Hypothesis from a tiny universe, where every row collides.

The seeded generators cover breadth; these look for the shortest file that breaks
equivalence, and Hypothesis shrinks a failure to it. Derandomized, so that CI runs
the same examples every time and a failure reproduces.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from import_export.resources import ModelResource

from tests.differential.datasets import Scenario, product_spec, transaction_spec
from tests.differential.harness import assert_same, bulk_base, run_import
from tests.testapp.models import LooseTransaction, Transaction

EXAMPLES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

STORED_AT = datetime(2024, 1, 5, 9, 0, tzinfo=timezone.utc)
ACCOUNTS = st.sampled_from(["A001", "A002", "a001", "Z999", ""])
WHEN = st.sampled_from(
    ["2024-01-05 10:00:00", "2024-01-05T14:00:00+05:00", "2024-01-05 11:00", "nope", ""]
)
AMOUNTS = st.sampled_from(["12", "12.000", 12, "7.125", "7.1254", "abc", ""])
DESCRIPTIONS = st.sampled_from(["", "a", "b", "x" * 41])
TX_ROWS = st.lists(st.tuples(ACCOUNTS, WHEN, AMOUNTS, DESCRIPTIONS), max_size=8)
TX_STORED = st.lists(
    st.tuples(st.sampled_from(["A001", "A002"]), st.sampled_from(["12.000", "7.125"])),
    max_size=3,
)


@pytest.mark.django_db
@EXAMPLES
@given(
    rows=TX_ROWS,
    stored=TX_STORED,
    loose=st.booleans(),
    batch_size=st.sampled_from([1, 2, 1000]),
    skip_unchanged=st.booleans(),
)
def test_small_transaction_files(accounts, rows, stored, loose, batch_size, skip_unchanged):
    model = LooseTransaction if loose else Transaction
    if not loose:
        stored = list(dict.fromkeys(stored))  # the constraint forbids stored duplicates
    existing = tuple(
        {"account_id": accounts[n], "datetime": STORED_AT, "amount": Decimal(a)} for n, a in stored
    )
    spec = transaction_spec(model).with_meta(batch_size=batch_size, skip_unchanged=skip_unchanged)
    headers = ("account", "datetime", "amount", "description")
    scenario = Scenario("hypothesis", spec, existing, headers, tuple(rows))
    assert_same(
        run_import(ModelResource, scenario, use_transactions=True),
        run_import(bulk_base(), scenario, use_transactions=True),
        f"{scenario}",
    )


CODES = st.sampled_from(["ABC", "abc", "ABC ", "XYZ", "", "C" * 21])
SKUS = st.sampled_from(["S-1", "s-1", "S-2", "", None])
PRODUCT_ROWS = st.lists(
    st.tuples(
        CODES,
        SKUS,
        st.sampled_from(["", "n", "n" * 41]),
        st.sampled_from(["1.00", "", "abc", "123456789.00"]),
        st.sampled_from(["2024-01-05", "01/05/2024", "", "2024-02-30"]),
        st.sampled_from(["1", "", "x", "99999999999"]),
    ),
    max_size=8,
)


@pytest.mark.django_db
@EXAMPLES
@given(
    rows=PRODUCT_ROWS,
    key=st.sampled_from([("code",), ("sku",), ("code", "released")]),
    stored=st.lists(st.sampled_from(["ABC", "XYZ"]), max_size=3),
    batch_size=st.sampled_from([1, 2, 1000]),
)
def test_small_product_files(rows, key, stored, batch_size):
    existing = tuple({"code": code, "sku": f"S-{i + 1}"} for i, code in enumerate(stored))
    spec = product_spec(*key).with_meta(batch_size=batch_size)
    headers = ("code", "sku", "name", "price", "released", "stock")
    scenario = Scenario("hypothesis", spec, existing, headers, tuple(rows))
    assert_same(
        run_import(ModelResource, scenario, use_transactions=True),
        run_import(bulk_base(), scenario, use_transactions=True),
        f"{scenario}",
    )
