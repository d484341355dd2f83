"""Generated files: the engine's outcome equals stock DIE's, row by row.

Each test imports a seeded file once with stock ``ModelResource`` and once with
``BulkUpsertResource`` (same class body, ``batch_size=7`` so that duplicates and
collisions fall in other chunks), from the same stored rows, and compares
everything observable (see :mod:`tests.differential.harness`). With transactions
the dry runs of both are compared too, and must leave the table as it was.
"""

from __future__ import annotations

import pytest
from import_export.resources import ModelResource

from tests.differential.datasets import (
    ACCOUNT_SHAPES,
    Scenario,
    product_scenario,
    transaction_scenario,
)
from tests.differential.harness import assert_equivalent, assert_same, bulk_base, run_import
from tests.testapp.models import LooseTransaction, Transaction

SEEDS = range(4)
PRODUCT_KEYS = [("code",), ("sku",), ("code", "released"), ("released",)]


KINDS = ("Transaction", "LooseTransaction", "Product")


def _scenario(accounts, kind: str, seed: int) -> Scenario:
    """One generated file of ``kind`` for ``seed``, chunked in sevens."""
    shape = ACCOUNT_SHAPES[seed % len(ACCOUNT_SHAPES)]
    if kind == "Transaction":
        scenario = transaction_scenario(
            seed,
            model=Transaction,
            accounts=accounts,
            account_shape=shape,
            with_description=seed % 4 != 3,
        )
    elif kind == "LooseTransaction":
        scenario = transaction_scenario(
            seed + 100,
            model=LooseTransaction,
            accounts=accounts,
            account_shape=shape,
            stored_duplicates=seed % 2 == 0,
        )
    else:
        scenario = product_scenario(seed, key=PRODUCT_KEYS[seed % len(PRODUCT_KEYS)])
    return scenario.with_spec(scenario.spec.with_meta(batch_size=7))


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_generated_files_with_transactions(accounts, seed, kind):
    assert_equivalent(_scenario(accounts, kind, seed), use_transactions=True)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", SEEDS)
def test_generated_files_without_transactions(accounts, seed, kind):
    """Without a transaction every good row stays, whatever failed around it: the
    engine must find the row that broke a chunk and keep the others."""
    scenario = _scenario(accounts, kind, seed)
    assert_equivalent(scenario, use_transactions=False, dry_run_too=False)


@pytest.mark.django_db
@pytest.mark.parametrize("key", PRODUCT_KEYS, ids="+".join)
def test_every_product_key(key):
    for seed in (10, 11):
        scenario = product_scenario(seed, key=key)
        assert_equivalent(scenario.with_spec(scenario.spec.with_meta(batch_size=7)))


OPTIONS = {
    "skip_unchanged": ({"skip_unchanged": True, "report_skipped": True}, {}),
    "skip_unchanged_unreported": ({"skip_unchanged": True, "report_skipped": False}, {}),
    "clean_model_instances": ({"clean_model_instances": True}, {}),
    "store_instance": ({"store_instance": True}, {}),
    "force_init_instance": ({"force_init_instance": True}, {}),
    "collect_failed_rows": ({}, {"collect_failed_rows": True}),
    "rollback_on_validation_errors": (
        {"clean_model_instances": True},
        {"rollback_on_validation_errors": True},
    ),
    "raise_errors": ({}, {"raise_errors": True}),
    "retain_instance_in_row_result": ({}, {"retain_instance_in_row_result": True}),
}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("option", OPTIONS)
def test_options(accounts, option, kind):
    meta, import_kwargs = OPTIONS[option]
    scenario = _scenario(accounts, kind, 20)
    scenario = scenario.with_spec(scenario.spec.with_meta(**meta))
    assert_equivalent(scenario, use_transactions=True, **import_kwargs)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("option", ["skip_unchanged", "clean_model_instances", "raise_errors"])
def test_options_without_transactions(accounts, option, kind):
    """``raise_errors`` without a transaction: rows before the failing one stay."""
    meta, import_kwargs = OPTIONS[option]
    scenario = _scenario(accounts, kind, 30)
    scenario = scenario.with_spec(scenario.spec.with_meta(**meta))
    assert_equivalent(scenario, use_transactions=False, dry_run_too=False, **import_kwargs)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_chunk_boundaries_do_not_matter(accounts, batch_size, kind):
    """Batch sizes 1, 3 and 1000 reach stock's outcome, so each other's."""
    scenario = _scenario(accounts, kind, 40)
    sized = scenario.with_spec(scenario.spec.with_meta(batch_size=batch_size))
    assert_equivalent(sized, use_transactions=False, dry_run_too=False)


@pytest.mark.django_db
def test_key_chosen_per_import():
    """``unique_fields=`` given to the constructor or to ``import_data`` overrides the
    declared key: the outcome is stock's with that key in ``Meta.import_id_fields``."""
    scenario = product_scenario(50, key=("code", "released"))
    scenario = scenario.with_spec(scenario.spec.with_meta(batch_size=7))
    declared_elsewhere = scenario.with_spec(scenario.spec.with_key("sku"))
    stock = run_import(ModelResource, scenario)
    chosen_at_init = run_import(
        bulk_base(), declared_elsewhere, resource_kwargs={"unique_fields": ["code", "released"]}
    )
    assert_same(stock, chosen_at_init, "unique_fields given to the constructor")
    chosen_per_import = run_import(
        bulk_base(), declared_elsewhere, unique_fields=["code", "released"]
    )
    assert_same(stock, chosen_per_import, "unique_fields given to import_data")
