"""Imports of a model with its own ``save()`` or save receivers end as stock's do.

Stock DIE saves every row with ``instance.save()``: an overridden ``save()`` and
the ``pre_save``/``post_save`` receivers run once per saved row, in file order.
Each test runs stock and the engine on the same rows and compares.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from import_export.resources import ModelResource

from admin_bulk_upsert import BulkUpsertResource
from tests.differential.datasets import (
    ACCOUNT_NUMBERS,
    ResourceSpec,
    Scenario,
    product_scenario,
    transaction_scenario,
)
from tests.differential.harness import assert_equivalent, build_resource_class, reset_table
from tests.testapp.models import (
    Account,
    LooseTransaction,
    Product,
    SavingProduct,
    SignalledProduct,
    Transaction,
)

SAVING_FIELDS = ("code", "name", "quantity", "unit_price", "total", "slug")
HEADERS = ("code", "name", "quantity", "unit_price")
STORED = (
    {"code": "A", "name": "Apple", "quantity": 2, "unit_price": Decimal("1.50")},
    {"code": "B", "name": "Banana", "quantity": 1, "unit_price": Decimal("0.25")},
)


def saving(*rows, stored=STORED, **meta):
    spec = ResourceSpec(SavingProduct, SAVING_FIELDS, ("code",), meta={"batch_size": 3, **meta})
    return Scenario("SavingProduct", spec, stored, HEADERS, rows)


@pytest.mark.django_db
class TestOverriddenSave:
    def test_new_rows_and_updates_are_saved_by_save(self):
        assert_equivalent(
            saving(
                ("A", "Apple", "3", "1.50"),
                ("C", "Cherry pie", "4", "2.25"),
                ("B", "Banana", "1", "0.25"),
                ("D", "Date", "10", "0.10"),
                ("E", "", "0", "0"),
            ),
            use_transactions=True,
        )

    def test_a_repeated_key_in_one_chunk_sees_what_the_earlier_save_stored(self):
        # The slug is filled on the first save only: the later rows keep it.
        assert_equivalent(
            saving(
                ("N", "New one", "1", "1"),
                ("N", "Renamed", "2", "1"),
                ("A", "Apple tart", "1", "3"),
                ("A", "Apple", "5", "3"),
                ("N", "Renamed again", "3", "1"),
            ),
            use_transactions=True,
        )

    def test_a_repeated_key_with_skip_unchanged(self):
        assert_equivalent(
            saving(("N", "New", "1", "1"), ("N", "New", "1", "1"), skip_unchanged=True),
            use_transactions=True,
        )

    def test_a_save_that_raises_fails_its_row_with_stocks_message(self):
        scenario = saving(
            ("C", "Cherry", "1", "1"),
            ("X", "explode", "1", "1"),
            ("A", "Apple", "7", "1.50"),
        )
        outcome, _ = assert_equivalent(scenario, use_transactions=True)
        assert outcome.aspects["row_errors"][0][2:4] == (
            "ValueError",
            "X cannot be saved: it would explode",
        )
        assert_equivalent(scenario, use_transactions=True, collect_failed_rows=True)

    @pytest.mark.django_db(transaction=True)
    def test_without_transactions_the_other_rows_stay_saved(self):
        scenario = saving(
            ("C", "Cherry", "1", "1"),
            ("X", "explode", "1", "1"),
            ("A", "Apple", "7", "1.50"),
        )
        stock, _ = assert_equivalent(scenario, use_transactions=False, dry_run_too=False)
        assert len(stock.aspects["table"]) == 3

    def test_raise_errors_stops_at_the_row_whose_save_raises(self):
        assert_equivalent(
            saving(("C", "Cherry", "1", "1"), ("X", "explode", "1", "1")),
            use_transactions=True,
            raise_errors=True,
        )

    @pytest.mark.parametrize("hook", ["after_save_instance", "after_import_row"])
    def test_a_post_save_hook_keeps_save_per_row(self, hook):
        # With transactions, a chunk whose rows call post-save hooks is written and
        # finished in one savepoint: it must still be written through save().
        def nothing(self, *args, **kwargs):
            return None

        other = type("WithHook", (BulkUpsertResource,), {hook: nothing})
        assert_equivalent(
            saving(("A", "Apple", "3", "1.50"), ("C", "Cherry pie", "4", "2.25")),
            other_base=other,
            use_transactions=True,
        )

    def test_bulk_writes_always_writes_in_bulk_without_save(self):
        resource = build_resource_class(
            BulkUpsertResource, saving().spec.with_meta(bulk_writes="always")
        )()
        reset_table(saving())
        resource.import_data(saving(("C", "Cherry", "2", "1.50")).dataset())
        assert SavingProduct.objects.values_list("code", "total", "slug").get(code="C") == (
            "C",
            Decimal("0"),
            "",
        )


def _statements(resource_class, rows):
    """Statements an import of ``rows`` new products sends, in one chunk."""
    SavingProduct.objects.all().delete()
    file = saving(*[(f"P{n}", f"Product {n}", "1", "1") for n in range(rows)]).dataset()
    with CaptureQueriesContext(connection) as queries:
        resource_class().import_data(file)
    return len(queries.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize(("bulk_writes", "per_row"), [("auto", 1), ("never", 1), ("always", 0)])
def test_statements_per_row(bulk_writes, per_row):
    spec = saving().spec.with_meta(bulk_writes=bulk_writes, batch_size=100)
    resource_class = build_resource_class(BulkUpsertResource, spec)
    assert _statements(resource_class, 20) - _statements(resource_class, 10) == 10 * per_row


@pytest.mark.django_db
def test_the_reason_is_logged_once_per_import(caplog):
    resource_class = build_resource_class(BulkUpsertResource, saving().spec)
    rows = [(f"P{n}", "x", "1", "1") for n in range(7)]  # three chunks
    with caplog.at_level(logging.INFO, logger="admin_bulk_upsert.resources"):
        resource_class().import_data(saving(*rows).dataset())
    assert [r.getMessage() for r in caplog.records if "save() per row" in r.getMessage()] == [
        "Importing SavingProduct with save() per row: "
        "tests.testapp.models.SavingBase overrides save()"
    ]


# --- receivers --------------------------------------------------------------------------

SIGNALLED = ResourceSpec(SignalledProduct, ("code", "name"), ("code",), meta={"batch_size": 2})
SIGNALLED_STORED = ({"code": "A", "name": "Apple"}, {"code": "B", "name": "Banana"})


class Recorder:
    """Every call of the receivers, as something equal between two runs."""

    def __init__(self, origins):
        self.origins = origins
        self.calls = []

    def pre(self, sender, instance, **kwargs):
        self._record("pre_save", sender, instance, kwargs)

    def post(self, sender, instance, **kwargs):
        self._record("post_save", sender, instance, kwargs)

    def _record(self, name, sender, instance, kwargs):
        stored = self.origins.get(instance.pk, "new" if instance.pk is not None else None)
        self.calls.append(
            (
                name,
                sender.__name__,
                instance.code,
                instance.name,
                stored,
                instance._state.adding,
                kwargs.get("created"),
                kwargs["update_fields"],
                kwargs["raw"],
                kwargs["using"],
            )
        )


def by_signal(outcome):
    """The calls of each signal in their order, and the rows' results: what bulk writes with
    signals keep of stock (within a chunk every pre_save comes before every post_save)."""
    calls, results = outcome
    return (
        [c for c in calls if c[0] == "pre_save"],
        [c for c in calls if c[0] == "post_save"],
        results,
    )


def receiver_calls(base, rows, sender, dry_run=False, spec=SIGNALLED):
    """The receivers' calls while ``base`` imports ``rows`` (connected for the import only)."""
    scenario = Scenario("SignalledProduct", spec, SIGNALLED_STORED, ("code", "name"), rows)
    origins = reset_table(scenario)
    recorder = Recorder(origins)
    pre_save.connect(recorder.pre, sender=sender, weak=False)
    post_save.connect(recorder.post, sender=sender, weak=False)
    try:
        result = build_resource_class(base, spec)().import_data(scenario.dataset(), dry_run=dry_run)
    finally:
        pre_save.disconnect(recorder.pre, sender=sender)
        post_save.disconnect(recorder.post, sender=sender)
    calls = [call for call in recorder.calls if call[1] == "SignalledProduct"]
    return calls, [(row.import_type, row.object_repr) for row in result.rows]


@pytest.mark.django_db
@pytest.mark.parametrize("sender", [SignalledProduct, None], ids=["per-model", "all-senders"])
@pytest.mark.parametrize("dry_run", [False, True], ids=["import", "dry-run"])
def test_receivers_get_the_calls_stock_makes(sender, dry_run):
    rows = (("C", "Cherry"), ("A", "Apricot"), ("D", "Date"), ("B", "Banana"), ("E", "Elder"))
    stock = receiver_calls(ModelResource, rows, sender, dry_run)
    assert stock[0], "stock sent no signal"
    assert by_signal(receiver_calls(BulkUpsertResource, rows, sender, dry_run)) == by_signal(stock)
    # With save() per row, the interleaving too.
    never = SIGNALLED.with_meta(bulk_writes="never")
    assert receiver_calls(BulkUpsertResource, rows, sender, dry_run, never) == stock


@pytest.mark.django_db
def test_receivers_see_a_repeated_key_as_stock_does():
    rows = (("C", "Cherry"), ("C", "Cherry pie"), ("A", "Apricot"), ("A", "Apple"))
    stock = receiver_calls(ModelResource, rows, SignalledProduct)
    assert receiver_calls(BulkUpsertResource, rows, SignalledProduct) == stock


@pytest.mark.django_db
def test_a_receiver_for_another_model_keeps_the_bulk_path():
    calls = []

    def other(sender, **kwargs):
        calls.append(sender)

    post_save.connect(other, sender=Product, weak=False)
    try:
        spec = SIGNALLED.with_meta(batch_size=100)
        resource_class = build_resource_class(BulkUpsertResource, spec)
        counts = []
        for size in (10, 20):
            SignalledProduct.objects.all().delete()
            file = Scenario(
                "s", spec, (), ("code", "name"), tuple((f"P{n}", "x") for n in range(size))
            ).dataset()
            with CaptureQueriesContext(connection) as queries:
                resource_class().import_data(file)
            counts.append(len(queries.captured_queries))
    finally:
        post_save.disconnect(other, sender=Product)
    assert counts[0] == counts[1]
    assert calls == []


# --- save() per row on generated files ------------------------------------------------


@pytest.fixture
def accounts():
    return {
        number: Account.objects.create(number=number, name=number).pk for number in ACCOUNT_NUMBERS
    }


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kind", ["Transaction", "LooseTransaction", "Product"])
def test_generated_files_saved_per_row_end_as_stocks(accounts, kind, seed):
    """``bulk_writes = "never"`` on the differential suite's files: duplicates, broken
    cells, refused values and collisions, all through ``save()`` per row."""
    if kind == "Product":
        scenario = product_scenario(seed, key=("code", "released")[: 1 + seed % 2])
    else:
        model = Transaction if kind == "Transaction" else LooseTransaction
        scenario = transaction_scenario(
            seed, model=model, accounts=accounts, stored_duplicates=kind != "Transaction"
        )
    spec = scenario.spec.with_meta(batch_size=7, bulk_writes="never")
    assert_equivalent(scenario.with_spec(spec), use_transactions=True)
