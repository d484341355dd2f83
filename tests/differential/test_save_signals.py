"""Bulk writes with ``pre_save``/``post_save`` sent per row around them, against stock DIE.

Stock saves each row with ``instance.save()``; the engine, for a model with
receivers and no ``save()`` doing real work, sends each row's ``pre_save``
before its chunk is written and each ``post_save`` after. Each test compares
the outcome (table, totals, rows, diffs, a dry run) and what the receivers were
called with: per signal, the calls in order, each as its row's argument tuple
(the one documented difference being that within a chunk every ``pre_save``
comes before every ``post_save``). ``save()`` overrides that only pass through
(django-model-utils' ``TimeStampedModel``, a save declared ``bulk_safe_save``)
write in bulk too; a ``save()`` doing real work, or a ``FieldTracker``, keeps
``save()`` per row.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time
from import_export.resources import ModelResource

from admin_bulk_upsert import BulkUpsertResource
from admin_bulk_upsert.engine.write_mode import BULK, BULK_WITH_SIGNALS, SAVE_PER_ROW, write_path
from tests.differential import harness
from tests.differential.datasets import ResourceSpec, Scenario
from tests.differential.harness import assert_same, build_resource_class, run_import
from tests.testapp.models import (
    Account,
    BulkSafeProduct,
    SavingProduct,
    SignalledProduct,
    StampedProduct,
    TrackedProduct,
)


class Calls:
    """Every receiver call for one model, as a tuple equal between two runs."""

    def __init__(self, model: type) -> None:
        self.model = model
        self.calls: list[tuple[Any, ...]] = []

    def pre(self, sender: type, instance: Any, **kwargs: Any) -> None:
        self._record("pre_save", sender, instance, kwargs)

    def post(self, sender: type, instance: Any, **kwargs: Any) -> None:
        self._record("post_save", sender, instance, kwargs)

    def _record(self, name: str, sender: type, instance: Any, kwargs: dict[str, Any]) -> None:
        if sender is not self.model:
            return
        self.calls.append(
            (
                name,
                sender.__name__,
                instance.code,
                instance.name,
                instance.pk is None,
                instance._state.adding,
                kwargs.get("created"),
                kwargs["raw"],
                kwargs["using"],
                kwargs["update_fields"],
                tuple(kwargs),  # the keyword arguments in Signal.send's order
            )
        )

    def by_signal(self) -> tuple[list[Any], list[Any]]:
        return (
            [call for call in self.calls if call[0] == "pre_save"],
            [call for call in self.calls if call[0] == "post_save"],
        )


@contextlib.contextmanager
def connected(*pairs: tuple[Any, Any, Any]) -> Iterator[None]:
    """Connect ``(signal, receiver, sender)`` triples for the block."""
    for signal, receiver, sender in pairs:
        signal.connect(receiver, sender=sender, weak=False)
    try:
        yield
    finally:
        for signal, receiver, sender in pairs:
            signal.disconnect(receiver, sender=sender)


def recorded_run(base: type, scenario: Scenario, extra=(), **import_kwargs: Any):
    """Import with ``base``, recording the model's receiver calls; the outcome and the calls."""
    calls = Calls(scenario.spec.model)
    receivers = [(pre_save, calls.pre, None), (post_save, calls.post, None), *extra]
    reset_table = harness.reset_table

    def reset_then_forget(scenario: Scenario) -> Any:
        origins = reset_table(scenario)
        calls.calls.clear()  # the starting rows' saves are not the import's
        return origins

    with connected(*receivers), mock.patch.object(harness, "reset_table", reset_then_forget):
        outcome = run_import(base, scenario, **import_kwargs)
    return outcome, calls


def assert_same_with_calls(scenario: Scenario, extra=(), interleaved=False, **import_kwargs):
    """Stock and the engine: the same outcome and receiver calls, dry run included."""
    for dry_run in (False, True):
        kwargs = {"use_transactions": True, **import_kwargs, "dry_run": dry_run}
        stock, stock_calls = recorded_run(ModelResource, scenario, extra, **kwargs)
        ours, our_calls = recorded_run(BulkUpsertResource, scenario, extra, **kwargs)
        assert_same(stock, ours, f"{scenario.name} {kwargs}")
        assert stock_calls.calls, "stock sent no signal"
        assert our_calls.by_signal() == stock_calls.by_signal()
        if interleaved:
            assert our_calls.calls == stock_calls.calls
    return stock_calls


STORED = (
    {"code": "A", "name": "apple"},
    {"code": "B", "name": "banana"},
    {"code": "C", "name": "cherry"},
)
ROWS = (
    ("D", "date"),
    ("A", "apricot"),
    ("E", "elder"),
    ("B", "banana"),
    ("F", "fig"),
    ("C", "cranberry"),
    ("G", "grape"),
)


def products(model=SignalledProduct, rows=ROWS, stored=STORED, **meta: Any) -> Scenario:
    spec = ResourceSpec(model, ("code", "name"), ("code",), meta={"batch_size": 3, **meta})
    return Scenario(model.__name__, spec, stored, ("code", "name"), rows)


def upper_name(sender, instance, **kwargs):
    """A per-sender pre_save receiver that sets a value: the write and the diff show it."""
    instance.name = instance.name.upper()


def boom(sender, instance, **kwargs):
    if instance.name == "boom":
        raise ValueError(f"{instance.code} refused by a receiver")


def for_accounts_only(sender, **kwargs):
    """An all-sender receiver doing nothing for other models (Wagtail, search indexes, ...)."""
    if sender is not Account:
        return


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_a_pre_save_receiver_that_sets_a_value(batch_size):
    scenario = products(batch_size=batch_size, skip_unchanged=True, report_skipped=True)
    assert_same_with_calls(scenario, extra=[(pre_save, upper_name, SignalledProduct)])


@pytest.mark.django_db
def test_post_save_calls_in_order_with_stocks_arguments():
    stock_calls = assert_same_with_calls(products())
    created = [call[6] for call in stock_calls.by_signal()[1]]
    assert created == [True, False, True, False, True, False, True]


@pytest.mark.django_db
def test_an_all_sender_receiver_doing_nothing_for_the_model():
    scenario = products()
    resource = build_resource_class(BulkUpsertResource, scenario.spec)
    with connected((post_save, for_accounts_only, None), (pre_save, for_accounts_only, None)):
        assert write_path(resource, SignalledProduct).how == BULK_WITH_SIGNALS
        stock = run_import(ModelResource, scenario, use_transactions=True)
        ours = run_import(BulkUpsertResource, scenario, use_transactions=True)
    assert_same(stock, ours, "all-sender receiver")


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_a_receiver_that_raises_for_one_row(batch_size):
    """The chunk is rolled back and replayed the stock way: the row fails with stock's
    message, the others import. Receivers of the rolled-back attempt ran once more."""
    rows = (*ROWS[:3], ("H", "boom"), *ROWS[3:])
    scenario = products(rows=rows, batch_size=batch_size)
    for dry_run in (False, True):
        kwargs = {"use_transactions": True, "dry_run": dry_run}
        extra = [(pre_save, boom, SignalledProduct)]
        stock, _ = recorded_run(ModelResource, scenario, extra, **kwargs)
        ours, _ = recorded_run(BulkUpsertResource, scenario, extra, **kwargs)
        assert_same(stock, ours, f"raising receiver {kwargs}")
        assert stock.aspects["row_errors"], "stock reported no error"


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [3, 1000])
def test_a_repeated_key_in_a_chunk_is_replayed_as_stock(batch_size):
    rows = (("A", "one"), ("D", "dog"), ("A", "two"), ("D", "dig"), ("E", "eel"))
    scenario = products(rows=rows, batch_size=batch_size)
    assert_same_with_calls(scenario, extra=[(pre_save, upper_name, SignalledProduct)])


@pytest.mark.django_db
def test_a_real_save_keeps_save_per_row_and_stocks_interleaving():
    scenario = Scenario(
        "SavingProduct",
        ResourceSpec(SavingProduct, ("code", "name"), ("code",), meta={"batch_size": 3}),
        STORED,
        ("code", "name"),
        ROWS,
    )
    assert write_path(build_resource_class(BulkUpsertResource, scenario.spec), SavingProduct).how
    assert_same_with_calls(scenario, interleaved=True)


@pytest.mark.django_db
def test_a_field_tracker_keeps_save_per_row():
    scenario = products(TrackedProduct)
    resource = build_resource_class(BulkUpsertResource, scenario.spec)
    assert write_path(resource, TrackedProduct).how == SAVE_PER_ROW
    assert_same_with_calls(scenario, interleaved=True)


@pytest.mark.django_db
def test_a_save_declared_bulk_safe():
    scenario = products(BulkSafeProduct)
    resource = build_resource_class(BulkUpsertResource, scenario.spec)
    assert write_path(resource, BulkSafeProduct).how == BULK
    stock = run_import(ModelResource, scenario, use_transactions=True)
    assert_same(stock, run_import(BulkUpsertResource, scenario, use_transactions=True), "safe")
    assert_same_with_calls(scenario)


# --- django-model-utils' TimeStampedModel: created, modified -----------------------------

BEFORE = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
NOW = "2026-02-03 04:05:06"


@pytest.fixture(autouse=True)
def modified_default() -> None:
    """``AutoLastModifiedField`` keeps, on ``pre_save(add=True)``, a value other than its
    default, which it computes once per process (the time of its first use): read it before
    the clock is frozen, or it would be the frozen time itself, as it never is outside tests."""
    StampedProduct._meta.get_field("modified").get_default()


def stamped(**meta: Any) -> Scenario:
    stored = tuple({**values, "created": BEFORE, "modified": BEFORE} for values in STORED)
    return products(StampedProduct, stored=stored, **meta)


@pytest.mark.django_db
@pytest.mark.parametrize("skip_unchanged", [False, True])
def test_time_stamped_model(skip_unchanged):
    """Written in bulk, with stock's values: ``modified`` set on updates (``pre_save`` with
    ``add=False``), ``created`` kept; new records get both."""
    scenario = stamped(skip_unchanged=skip_unchanged, report_skipped=True)
    resource = build_resource_class(BulkUpsertResource, scenario.spec)
    assert write_path(resource, StampedProduct).how == BULK
    for dry_run in (False, True):
        kwargs = {"use_transactions": True, "dry_run": dry_run}
        with freeze_time(NOW):
            stock = run_import(ModelResource, scenario, **kwargs)
            ours = run_import(BulkUpsertResource, scenario, **kwargs)
        assert_same(stock, ours, f"TimeStampedModel {kwargs}")
    with freeze_time(NOW):
        run_import(BulkUpsertResource, scenario, use_transactions=True)
    now = datetime.fromisoformat(NOW).replace(tzinfo=timezone.utc)
    apricot = StampedProduct.objects.get(code="A")
    assert (apricot.created, apricot.modified) == (BEFORE, now)
    banana = StampedProduct.objects.get(code="B")  # unchanged
    assert banana.modified == (BEFORE if skip_unchanged else now)


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [("code", "name"), ("code", "name", "created", "modified")])
@pytest.mark.parametrize("skip_unchanged", [False, True])
def test_time_stamped_model_key_repeated_in_a_chunk(fields, skip_unchanged):
    """A later row of a key repeated in the chunk starts from the record as the earlier
    row's save left it, as stock reads it back: ``modified`` set by its ``pre_save``, not
    the default the instance was built with (computed once per process, so hours old)."""
    rows = (("A", "apple"), ("A", "apple"), ("D", "date"), ("D", "dog"), ("B", "banana"))
    scenario = stamped(skip_unchanged=skip_unchanged, report_skipped=True, batch_size=1000)
    spec = ResourceSpec(StampedProduct, fields, ("code",), meta=scenario.spec.meta)
    scenario = Scenario("StampedProduct", spec, scenario.existing, ("code", "name"), rows)
    for dry_run in (False, True):
        kwargs = {"use_transactions": True, "dry_run": dry_run}
        with freeze_time(NOW):
            stock = run_import(ModelResource, scenario, **kwargs)
            ours = run_import(BulkUpsertResource, scenario, **kwargs)
        assert_same(stock, ours, f"TimeStampedModel, repeated key {kwargs}")


@pytest.mark.django_db
def test_time_stamped_model_with_receivers():
    scenario = stamped()
    with freeze_time(NOW):
        assert_same_with_calls(scenario, extra=[(pre_save, upper_name, StampedProduct)])


# --- statements --------------------------------------------------------------------------


def statements(model: type, rows: int) -> int:
    """Statements an import of ``rows`` new records sends, in one chunk."""
    model._base_manager.all().delete()
    spec = ResourceSpec(model, ("code", "name"), ("code",), meta={"batch_size": 100})
    scenario = Scenario("n", spec, (), ("code", "name"), tuple((f"P{n}", "x") for n in range(rows)))
    resource_class = build_resource_class(BulkUpsertResource, spec)
    with CaptureQueriesContext(connection) as queries:
        resource_class().import_data(scenario.dataset())
    return len(queries.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("model", [SignalledProduct, StampedProduct, BulkSafeProduct])
def test_statements_do_not_grow_with_rows(model):
    with connected((pre_save, for_accounts_only, None), (post_save, for_accounts_only, None)):
        assert statements(model, 20) == statements(model, 10)
        with_signals = statements(SignalledProduct, 10)
    # One savepoint covers the signals and the write: as many statements as plain bulk writes.
    assert with_signals == statements(SignalledProduct, 10)


@pytest.mark.django_db
def test_the_path_is_logged_once_per_import(caplog):
    scenario = products()
    resource_class = build_resource_class(BulkUpsertResource, scenario.spec)
    with (
        connected((post_save, for_accounts_only, None)),
        caplog.at_level(logging.INFO, logger="admin_bulk_upsert.resources"),
    ):
        resource_class().import_data(scenario.dataset())
    assert [r.getMessage() for r in caplog.records if r.name == "admin_bulk_upsert.resources"] == [
        "Importing SignalledProduct with bulk writes, pre_save/post_save sent per row around "
        "them (receivers: tests.differential.test_save_signals.for_accounts_only)"
    ]
