"""What a user of BulkUpsertResource relies on, on every database of the suite."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
import tablib
from django.db import DatabaseError, connection
from django.utils import timezone

from tests.engine.builders import errors_of, helper_threads, stored, transactions_file
from tests.engine.resources import LooseTransactionResource, ProductResource, TransactionResource
from tests.testapp.models import Account, LooseTransaction, Product, Transaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return Account.objects.create(number="A1", name="First")


def paris(*args):
    return timezone.make_aware(dt.datetime(*args))


def test_new_rows_then_updates(account):
    result = TransactionResource().import_data(
        transactions_file(
            ["A1", "2024-01-05 10:00:00", "12.5", "one"],
            ["A1", "2024-01-06 10:00:00", "3", "two"],
        )
    )
    assert dict(result.totals) == {
        "new": 2,
        "update": 0,
        "delete": 0,
        "skip": 0,
        "error": 0,
        "invalid": 0,
    }
    result = TransactionResource().import_data(
        transactions_file(["A1", "2024-01-05 10:00:00", "12.500", "changed"])
    )
    assert result.totals["update"] == 1 and result.totals["new"] == 0
    assert stored(Transaction, "account__number", "datetime", "amount", "description") == [
        ("A1", paris(2024, 1, 5, 10), Decimal("12.500"), "changed"),
        ("A1", paris(2024, 1, 6, 10), Decimal("3.000"), "two"),
    ]


def test_new_rows_get_their_primary_keys(account):
    result = TransactionResource().import_data(
        transactions_file(
            ["A1", "2024-01-05 10:00:00", "1", "x"], ["A1", "2024-01-05 11:00:00", "1", "y"]
        )
    )
    ids = [int(row.object_id) for row in result.rows]
    assert sorted(ids) == sorted(Transaction.objects.values_list("pk", flat=True))


def test_duplicate_keys_in_one_file_update_what_the_earlier_row_created(account):
    result = TransactionResource(batch_size=None).import_data(
        transactions_file(
            ["A1", "2024-01-05 10:00:00", "12", "first"],
            ["A1", "2024-01-05 10:00:00", "12.000", "second"],
            ["A1", "2024-01-05 10:00:00", "12.0", "third"],
        )
    )
    assert [row.import_type for row in result.rows] == ["new", "update", "update"]
    assert stored(Transaction, "description") == [("third",)]
    assert len({row.object_id for row in result.rows}) == 1


def test_duplicates_without_a_database_constraint_stay_single(account):
    rows = [["A1", "2024-01-05 10:00:00", "7", f"v{i}"] for i in range(5)]
    resource = LooseTransactionResource()
    resource.import_data(transactions_file(*rows))
    resource.import_data(transactions_file(*rows))
    assert stored(LooseTransaction, "description") == [("v4",)]


def test_unknown_account_fails_its_row_and_writes_nothing(account):
    result = TransactionResource().import_data(
        transactions_file(
            ["A1", "2024-01-05 10:00:00", "1", "ok"],
            ["NOPE", "2024-01-05 10:00:00", "1", "bad"],
        )
    )
    assert errors_of(result) == [(2, "Account matching query does not exist.")]
    assert result.totals["error"] == 1
    assert Transaction.objects.count() == 0


def test_dry_run_reports_the_same_and_changes_nothing(account):
    file = transactions_file(
        ["A1", "2024-01-05 10:00:00", "1", "x"], ["A1", "2024-01-05 10:00:00", "1", "y"]
    )
    dry = TransactionResource().import_data(file, dry_run=True)
    assert Transaction.objects.count() == 0
    real = TransactionResource().import_data(file)
    assert dict(dry.totals) == dict(real.totals)
    assert Transaction.objects.count() == 1


def test_unique_fields_chosen_per_import():
    Product.objects.create(code="OLD", sku="S1", name="before")
    file = transactions_file(["NEW", "S1", "after"], headers=["code", "sku", "name"])
    result = ProductResource().import_data(file, unique_fields=["sku"])
    assert result.totals["update"] == 1
    assert stored(Product, "code", "sku", "name") == [("NEW", "S1", "after")]
    with pytest.raises(ValueError, match="unique_fields"):
        ProductResource(unique_fields=["nonexistent"])


def test_a_refused_bulk_write_is_reported_on_the_row_that_caused_it():
    # Two new products claim the same sku: the database refuses the chunk,
    # and stock's row-by-row replay names row 3, as stock DIE would.
    file = transactions_file(
        ["P1", "S1", "a"], ["P2", "S2", "b"], ["P3", "S1", "c"], headers=["code", "sku", "name"]
    )
    result = ProductResource().import_data(file)
    assert [number for number, _ in errors_of(result)] == [3]
    assert result.totals["new"] == 2 and result.totals["error"] == 1
    assert Product.objects.count() == 0


def test_progress_is_reported_after_each_chunk(account):
    rows = [["A1", f"2024-01-05 10:{i:02d}:00", "1", "x"] for i in range(25)]
    seen = []
    TransactionResource().import_data(
        transactions_file(*rows), progress=lambda done, total: seen.append((done, total))
    )
    assert seen == [(10, 25), (20, 25), (25, 25)]


def lock_queries():
    """SQLite needs no lock; PostgreSQL takes a transaction lock inside the
    test's transaction (1 query); MariaDB takes and releases GET_LOCK (2)."""
    return {"sqlite": 0, "postgresql": 1, "mysql": 2}[connection.vendor]


def write_queries():
    """The chunk's write: savepoint and release (2), insert (1), upsert (1); on PostgreSQL
    also the temporary table's CREATE IF NOT EXISTS + TRUNCATE (1, one statement) and the
    COPY that fills it (1: sent on the driver's cursor, logged in connection.queries so
    counted here, though not by connection.execute_wrapper)."""
    return 4 + (2 if connection.vendor == "postgresql" else 0)


def lookup_queries():
    """The chunk's stored rows: one query, or on PostgreSQL two (the keys in two halves, the
    first looked up while the second half's cells are cleaned)."""
    return 2 if connection.vendor == "postgresql" else 1


def half_new_file(chunks, size=10):
    """``chunks * size`` rows, the odd ones already stored."""
    account = Account.objects.get(number="A1")
    rows = []
    for i in range(chunks * size):
        when = paris(2024, 1, 1) + dt.timedelta(minutes=i)
        if i % 2:
            Transaction.objects.create(account=account, datetime=when, amount=1, description="old")
        rows.append(["A1", timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S"), "1", f"new {i}"])
    return transactions_file(*rows)


@pytest.mark.parametrize("chunks", [1, 3])
def test_queries_per_chunk_are_constant(account, chunks, django_assert_num_queries):
    # Per chunk: account numbers (1), stored rows (lookup_queries()), the write (write_queries()).
    # Per import: the lock, savepoints around the import, before_import and
    # after_import (6, as stock), PostgreSQL's sequence reset (1).
    file = half_new_file(chunks)
    per_import = lock_queries() + 6 + (1 if connection.vendor == "postgresql" else 0)
    with django_assert_num_queries(per_import + (1 + lookup_queries() + write_queries()) * chunks):
        result = TransactionResource().import_data(file)
    assert result.totals["new"] == result.totals["update"] == 5 * chunks


def test_retaining_instances_for_one_import_does_not_stick(account):
    file = transactions_file(["A1", "2024-01-05 10:00:00", "1", "x"])
    retained = TransactionResource().import_data(file, retain_instance_in_row_result=True)
    assert retained.rows[0].instance.description == "x"
    later = TransactionResource().import_data(file)
    assert later.rows[0].instance is None


class CleaningTransactionResource(TransactionResource):
    class Meta(TransactionResource.Meta):
        clean_model_instances = True


def test_clean_model_instances_adds_no_query_per_row(account, django_assert_num_queries):
    # full_clean() would check the unique constraint and the account's
    # existence with a query per row; the database enforces both at write time.
    file = half_new_file(3)
    per_import = lock_queries() + 6 + (1 if connection.vendor == "postgresql" else 0)
    with django_assert_num_queries(per_import + (1 + lookup_queries() + write_queries()) * 3):
        result = CleaningTransactionResource().import_data(file)
    assert result.totals["new"] == result.totals["update"] == 15


def test_stored_rows_in_both_halves_of_a_chunk_are_found(account):
    # On PostgreSQL a chunk's keys are looked up in two halves; rows of either
    # half that update stored records, and a later row repeating a key of the
    # other half, are found as stock finds them.
    stored_keys = [["A1", f"2024-01-05 10:0{i}:00", "1", "old"] for i in range(0, 10, 3)]
    TransactionResource().import_data(transactions_file(*stored_keys))
    rows = [["A1", f"2024-01-05 10:0{i}:00", "1", f"row {i}"] for i in range(9)]
    rows.append(["A1", "2024-01-05 10:01:00", "1.000", "repeats row 1"])
    result = TransactionResource().import_data(transactions_file(*rows))
    assert [row.import_type for row in result.rows] == [
        "update" if i in (0, 3, 6) else "new" for i in range(9)
    ] + ["update"]
    assert result.rows[9].object_id == result.rows[1].object_id
    assert len(stored(Transaction, "datetime")) == 10


class FailingLookupResource(TransactionResource):
    def get_queryset(self):
        # Division by zero for every stored row the lookup reads.
        return Transaction.objects.extra(
            where=["1 / (testapp_transaction.id - testapp_transaction.id) = 1"]
        )


@pytest.fixture
def owns_process():
    """Run as the ``bulk_import`` command and a worker's step do: with helper threads."""
    with helper_threads():
        yield


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the lookups' helper threads")
def test_a_failing_lookup_leaves_no_helper_thread_behind(account, owns_process):
    TransactionResource().import_data(transactions_file(["A1", "2024-01-05 10:00:00", "1", "x"]))
    rows = [["A1", f"2024-01-05 10:0{i}:00", "1", "y"] for i in range(6)]
    with pytest.raises(DatabaseError, match="division by zero"):
        FailingLookupResource().import_data(transactions_file(*rows))
    assert [t for t in threading.enumerate() if t.name.startswith("admin_bulk_upsert")] == []
    assert stored(Transaction, "description") == [("x",)]
    # The connection serves the next import as usual.
    result = TransactionResource().import_data(transactions_file(*rows))
    assert (result.totals["update"], result.totals["new"]) == (1, 5)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the lookups' helper threads")
def test_a_helper_thread_that_cannot_start_fails_the_import_and_closes_its_cursor(
    account, monkeypatch, owns_process
):

    def cannot_start(*args, **kwargs):
        raise RuntimeError("can't start new thread")

    made = []
    make_cursor = connection.cursor

    def recording_cursor(*args, **kwargs):
        made.append(make_cursor(*args, **kwargs))
        return made[-1]

    from admin_bulk_upsert.engine import lookup

    monkeypatch.setattr(lookup, "in_background", cannot_start)
    monkeypatch.setattr(connection, "cursor", recording_cursor)
    rows = [["A1", f"2024-01-05 10:0{i}:00", "1", "y"] for i in range(6)]
    with pytest.raises(RuntimeError, match="can't start new thread"):
        TransactionResource().import_data(transactions_file(*rows))
    assert made
    assert all(cursor.closed for cursor in made)
    assert stored(Transaction, "description") == []


@pytest.mark.parametrize("blank", ["", None])
def test_rows_with_a_blank_id_each_create_a_record(blank):
    """Stock looks a blank id up as ``id IS NULL``, which no saved row matches (the
    database gives it an id): each row is a new record (DIE's test_float_field, #433)."""

    class ByIdResource(ProductResource):
        class Meta:
            model = Product
            fields = ("id", "code", "name")
            import_id_fields = ("id",)

    dataset = tablib.Dataset(headers=["id", "code", "name"])
    for code in "ABC":
        dataset.append([blank, code, code.lower()])

    result = ByIdResource().import_data(dataset, raise_errors=True)

    assert result.totals["new"] == 3
    assert sorted(Product.objects.values_list("code", flat=True)) == ["A", "B", "C"]
