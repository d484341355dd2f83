"""The PostgreSQL COPY write path: same outcome as bulk_create, and its fallbacks.

Most tests run on every database (elsewhere they check bulk_create's path does
the same); the ones about COPY itself only on PostgreSQL.
"""

import datetime as dt
import logging
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, models
from django.db.models import Value
from django.test.utils import CaptureQueriesContext, isolate_apps
from django.utils import timezone
from ledger.benchmark.measuring import counting_queries

from admin_bulk_upsert.engine import postgres_copy
from admin_bulk_upsert.engine.bulk_write import _update_fields
from tests.engine.builders import errors_of, helper_threads, stored, transactions_file
from tests.engine.resources import ProductResource, TransactionResource
from tests.testapp.models import Account, Product, Transaction

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's"
)


@pytest.fixture
def account():
    return Account.objects.create(number="A1", name="First")


def minute_rows(count, start=0, description="row {}"):
    """``count`` transaction rows a minute apart, each with its own description."""
    first = dt.datetime(2024, 1, 5, 10)
    return [
        ["A1", (first + dt.timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S"), "1", description]
        for i in range(start, start + count)
    ]


def described(rows):
    return [row[:3] + [row[3].format(number)] for number, row in enumerate(rows, 1)]


def copies(queries):
    return [q["sql"] for q in queries if q["sql"].startswith("COPY ")]


def test_created_records_get_their_own_pks_in_file_order(account):
    rows = described(minute_rows(25))
    with CaptureQueriesContext(connection) as queries:
        result = TransactionResource().import_data(
            transactions_file(*rows), retain_instance_in_row_result=True
        )
    assert result.totals["new"] == 25
    by_pk = dict(Transaction.objects.values_list("pk", "description"))
    assert [by_pk[int(row.object_id)] for row in result.rows] == [r[3] for r in rows]
    assert [row.instance.pk for row in result.rows] == [int(row.object_id) for row in result.rows]
    assert all(not row.instance._state.adding for row in result.rows)
    if connection.vendor == "postgresql":
        assert len(copies(queries.captured_queries)) == 3  # one per chunk of 10


def test_updates_and_a_vanished_record_are_written_by_pk(account):
    first = TransactionResource().import_data(transactions_file(*described(minute_rows(12))))
    assert first.totals["new"] == 12
    later = described(minute_rows(12, description="changed {}")) + described(
        minute_rows(3, start=12, description="new {}")
    )
    result = TransactionResource().import_data(transactions_file(*later))
    assert result.totals["update"] == 12 and result.totals["new"] == 3
    assert [d for (d,) in stored(Transaction, "description")] == sorted(
        [f"changed {i}" for i in range(1, 13)] + [f"new {i}" for i in range(1, 4)]
    )


def test_a_repeated_key_writes_every_state_in_order(account):
    rows = [
        ["A1", "2024-01-05 10:00:00", "1", "first"],
        ["A1", "2024-01-05 11:00:00", "2", "other"],
        ["A1", "2024-01-05 10:00:00", "1.000", "second"],
    ]
    result = TransactionResource().import_data(transactions_file(*rows))
    assert result.totals["new"] == 2 and result.totals["update"] == 1
    assert stored(Transaction, "amount", "description") == [
        (Decimal("1.000"), "second"),
        (Decimal("2.000"), "other"),
    ]
    assert result.rows[0].object_id == result.rows[2].object_id


def test_a_refused_create_is_replayed_and_reported_on_its_row():
    Product.objects.create(code="OLD", sku="S9", name="stored")
    file = transactions_file(
        ["P1", "S1", "a"], ["P2", "S9", "b"], ["P3", "S3", "c"], headers=["code", "sku", "name"]
    )
    result = ProductResource().import_data(file)
    assert [number for number, _ in errors_of(result)] == [2]
    assert result.totals["new"] == 2 and result.totals["error"] == 1
    assert stored(Product, "code") == [("OLD",)]


@on_postgresql
def test_a_value_the_column_refuses_during_the_copy_is_reported_on_its_row(account):
    # description is varchar(40): the COPY into the temporary table refuses
    # row 2, as the INSERT would; the chunk is replayed the stock way.
    rows = described(minute_rows(3))
    rows[1][3] = "x" * 41
    result = TransactionResource().import_data(transactions_file(*rows))
    assert [number for number, _ in errors_of(result)] == [2]
    assert "too long" in errors_of(result)[0][1]
    assert Transaction.objects.count() == 0


@pytest.fixture
def overlaps():
    """The statements that ran on the write's helper thread (while this one did other work).

    The import runs as the ``bulk_import`` command and a worker's step do, where
    helper threads are used.
    """
    ran = []

    def record(execute, sql, params, many, context):
        if threading.current_thread().name == "admin_bulk_upsert-write":
            ran.append(sql)
        return execute(sql, params, many, context)

    with helper_threads(), connection.execute_wrapper(record):
        yield ran


def kinds(statements):
    return ["upsert" if "ON CONFLICT" in sql else "insert" for sql in statements]


@on_postgresql
def test_a_refused_update_is_replayed_although_its_rows_were_finished_meanwhile(overlaps):
    # Row 2 updates P1 to a sku another product holds: the chunk's update
    # statement, run beside the rows' finishing, is refused; the chunk is
    # replayed the stock way and reported as stock reports it.
    Product.objects.create(code="P1", sku="S1", name="stored")
    Product.objects.create(code="OLD", sku="TAKEN", name="stored")
    file = transactions_file(
        ["P0", "S0", "a"], ["P1", "TAKEN", "b"], ["P2", "S2", "c"], headers=["code", "sku", "name"]
    )
    result = ProductResource().import_data(file, use_transactions=True)
    assert kinds(overlaps) == ["insert", "upsert"]
    assert [number for number, _ in errors_of(result)] == [2]
    assert "duplicate key" in errors_of(result)[0][1]
    assert (result.totals["new"], result.totals["update"], result.totals["error"]) == (2, 0, 1)
    assert [row.object_repr for row in result.rows if row.errors == []] == ["P0", "P2"]
    assert stored(Product, "code", "sku") == [("OLD", "TAKEN"), ("P1", "S1")]


@on_postgresql
def test_a_refused_insert_is_replayed_although_the_next_chunk_was_read_meanwhile(overlaps):
    # Row 12 (in the second chunk of ten) creates a product with a sku
    # another product holds: that chunk's insert, run while the third chunk
    # is read, is refused; the chunk is replayed the stock way.
    Product.objects.create(code="OLD", sku="TAKEN", name="stored")
    rows = [[f"P{n}", f"S{n}", "x"] for n in range(1, 26)]
    rows[11][1] = "TAKEN"
    file = transactions_file(*rows, headers=["code", "sku", "name"])
    result = SmallChunkProductResource().import_data(file, use_transactions=True)
    assert kinds(overlaps) == ["insert", "insert", "insert"]
    assert [number for number, _ in errors_of(result)] == [12]
    assert "duplicate key" in errors_of(result)[0][1]
    assert (result.totals["new"], result.totals["error"]) == (24, 1)
    assert [row.object_repr for row in result.rows if row.errors == []] == [
        f"P{n}" for n in range(1, 26) if n != 12
    ]
    # As stock does, an import with errors is rolled back as a whole.
    assert stored(Product, "code") == [("OLD",)]


@on_postgresql
@pytest.mark.parametrize("send_delay", [0, 0.2], ids=["prompt", "slow-helper"])
def test_a_str_that_queries_while_the_update_runs_sees_the_written_rows(
    account, overlaps, monkeypatch, send_delay
):
    TransactionResource().import_data(transactions_file(*described(minute_rows(4))))
    # Each row's repr reads its record back: stock calls str() after the
    # save, so it shows the new description; here the read waits for the
    # update statement the helper thread runs.
    monkeypatch.setattr(
        Transaction, "__str__", lambda self: Transaction.objects.get(pk=self.pk).description
    )
    rows = described(minute_rows(4, description="changed {}")) + described(
        minute_rows(1, start=4, description="new {}")
    )

    def slow_helper(execute, sql, params, many, context):
        # A helper thread slow to send its statement: the rows are finished
        # only once it is sent, so their queries still come after it.
        if threading.current_thread().name == "admin_bulk_upsert-write":
            time.sleep(send_delay)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(slow_helper):
        result = TransactionResource().import_data(transactions_file(*rows))
    assert "upsert" in kinds(overlaps)
    assert [row.object_repr for row in result.rows] == [row[3] for row in rows]


class SmallChunkProductResource(ProductResource):
    class Meta(ProductResource.Meta):
        batch_size = 10


def sku_file(taken_at):
    """30 new products; row ``taken_at`` claims the sku a stored product has."""
    Product.objects.create(code="OLD", sku="TAKEN", name="stored")
    rows = [[f"P{i:02}", f"S{i:02}", f"name {i}"] for i in range(1, 31)]
    rows[taken_at - 1][1] = "TAKEN"
    return rows, transactions_file(*rows, headers=["code", "sku", "name"])


def test_a_refused_chunk_leaves_nothing_for_the_next_chunks(caplog):
    # Chunk 2 of 3 is refused (row 15 takes a stored sku) and rolled back to its
    # savepoint; on PostgreSQL that also restores chunk 1's rows in the
    # temporary table, which chunk 3 must not write again: only chunk 2 is
    # replayed.
    rows, file = sku_file(taken_at=15)
    with caplog.at_level(logging.INFO, logger="admin_bulk_upsert.engine.chunks"):
        result = SmallChunkProductResource().import_data(file)
    assert [number for number, _ in errors_of(result)] == [15]
    assert result.totals["new"] == 29 and result.totals["error"] == 1
    assert len([r for r in caplog.records if "replaying" in r.getMessage()]) == 1
    assert stored(Product, "code") == [("OLD",)]  # an error row rolls the import back


@pytest.mark.django_db(transaction=True)
def test_without_transactions_the_good_chunks_are_kept_with_their_pks():
    # Autocommit: each chunk's savepoint is a transaction of its own, which
    # drops the temporary table on commit; the next chunk creates it again.
    rows, file = sku_file(taken_at=15)
    result = SmallChunkProductResource().import_data(file, use_transactions=False)
    assert [number for number, _ in errors_of(result)] == [15]
    kept = [r[2] for number, r in enumerate(rows, 1) if number != 15]
    by_pk = dict(Product.objects.values_list("pk", "name"))
    assert [by_pk[int(row.object_id)] for row in result.rows if row.object_id] == kept
    assert Product.objects.count() == 30


def test_a_dry_run_then_the_import_in_one_transaction(account):
    # The dry run's savepoints roll back the temporary table with the rows;
    # the import after it creates it again.
    file = transactions_file(*described(minute_rows(15)))
    dry = TransactionResource().import_data(file, dry_run=True)
    assert Transaction.objects.count() == 0
    real = TransactionResource().import_data(file)
    assert dict(dry.totals) == dict(real.totals)
    assert Transaction.objects.count() == 15


@on_postgresql
def test_the_benchmark_counter_leaves_the_copy_out(account):
    # QueryCounter counts through connection.execute_wrapper, which COPY does
    # not pass through; assertNumQueries sees it in connection.queries.
    file = transactions_file(*described(minute_rows(25)))
    with counting_queries("default") as counter, CaptureQueriesContext(connection) as queries:
        TransactionResource().import_data(file)
    assert len(copies(queries.captured_queries)) == 3
    assert counter.count == len(queries.captured_queries) - 3


def fields_to_update(model):
    return tuple(_update_fields(model))


@on_postgresql
def test_an_expression_value_falls_back_to_bulk_create_before_any_query():
    new = Product(code="X", name=Value("from an expression"))
    with CaptureQueriesContext(connection) as queries:
        assert not postgres_copy.write_round(
            Product, [new], [], "default", fields_to_update(Product)
        )
    assert queries.captured_queries == []


@on_postgresql
def test_new_records_mixing_set_and_unset_pks_fall_back():
    mixed = [Product(pk=10_000, code="A"), Product(code="B")]
    with CaptureQueriesContext(connection) as queries:
        assert not postgres_copy.write_round(
            Product, mixed, [], "default", fields_to_update(Product)
        )
    assert queries.captured_queries == []


@on_postgresql
def test_copy_round_sets_pks_and_state_like_bulk_create():
    stored_product = Product.objects.create(code="OLD", name="before", stock=1)
    stored_product.name = "after"
    new = [Product(code=f"N{i}", name=f"new {i}", price=Decimal("1.5")) for i in range(3)]
    assert postgres_copy.write_round(
        Product, new, [stored_product], "default", fields_to_update(Product)
    )
    assert [p.pk for p in new] == list(
        Product.objects.filter(code__startswith="N").order_by("code").values_list("pk", flat=True)
    )
    assert all(not p._state.adding and p._state.db == "default" for p in new)
    assert Product.objects.get(pk=stored_product.pk).name == "after"
    assert Product.objects.get(pk=new[0].pk).price == Decimal("1.50")


def test_other_databases_never_copy():
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL copies")
    assert postgres_copy._layout(Product, "default", fields_to_update(Product)) is None


@on_postgresql
@isolate_apps("tests.testapp")
def test_models_copy_cannot_mirror_fall_back():
    class WithDbDefault(models.Model):  # noqa: DJ008
        n = models.IntegerField(db_default=1)

        class Meta:
            app_label = "testapp"

    class WithGenerated(models.Model):  # noqa: DJ008
        n = models.IntegerField()
        twice = models.GeneratedField(
            expression=models.F("n") * 2, output_field=models.IntegerField(), db_persist=True
        )

        class Meta:
            app_label = "testapp"

    class WithJsonArray(models.Model):  # noqa: DJ008
        tags = models.JSONField()

        class Meta:
            app_label = "testapp"

    class OwnBulkCreate(models.QuerySet):
        def bulk_create(self, objs, *args, **kwargs):
            return super().bulk_create(objs, *args, **kwargs)

    class WithOwnManager(models.Model):  # noqa: DJ008
        n = models.IntegerField()
        objects = OwnBulkCreate.as_manager()

        class Meta:
            app_label = "testapp"

    class Plain(models.Model):  # noqa: DJ008
        n = models.IntegerField()
        when = models.DateTimeField(auto_now=True)
        created = models.DateTimeField(auto_now_add=True)

        class Meta:
            app_label = "testapp"

    for model in (WithDbDefault, WithGenerated, WithOwnManager):
        assert postgres_copy._layout(model, "default", fields_to_update(model)) is None, model
    json_fields = WithJsonArray._meta.concrete_fields
    # JSON values are left to bulk_create value by value (Jsonb is not a plain scalar).
    assert postgres_copy._layout(WithJsonArray, "default", fields_to_update(WithJsonArray))
    with pytest.raises(postgres_copy._NotPlain):
        postgres_copy._rows([WithJsonArray(tags=["a"])], json_fields, connection, 0)
    # Every column is prepared with pre_save(add=True), as bulk_create does:
    # auto_now and auto_now_add are set on the instance, even for an update.
    layout = postgres_copy._layout(Plain, "default", fields_to_update(Plain))
    assert layout is not None and '"created" = EXCLUDED' not in layout.upsert_sql
    instance = Plain(pk=3, n=1)
    postgres_copy._rows([instance], layout.fields, connection, 0)
    assert instance.when is not None and instance.created is not None


@on_postgresql
def test_a_copied_row_holds_what_bulk_create_would_send():
    product = Product(code="C", name="n", price=Decimal("2.5"), released=timezone.now().date())
    fields = Product._meta.concrete_fields
    (row,) = postgres_copy._rows([product], fields, connection, 7, blank_auto=True)
    assert row[0] is None and row[-1] == 7  # the auto pk left to the database; the ordinal
    sent = tuple(f.get_db_prep_save(f.pre_save(product, True), connection) for f in fields[1:])
    assert row[1:-1] == sent


@on_postgresql
@pytest.mark.parametrize("server_side_binding", [False, True])
def test_helper_threads_only_with_client_side_binding(account, monkeypatch, server_side_binding):
    # With server-side binding, Django's query logging opens a cursor of its
    # own, which a helper thread may not: every statement then runs here.
    monkeypatch.setitem(
        connection.features.__dict__, "uses_server_side_binding", server_side_binding
    )
    started = []
    real_start = threading.Thread.start

    def start(thread):
        started.append(thread.name)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", start)
    TransactionResource().import_data(transactions_file(*described(minute_rows(4))))
    rows = described(minute_rows(6, description="changed {}"))
    with helper_threads(), CaptureQueriesContext(connection):
        result = TransactionResource().import_data(transactions_file(*rows))
    assert (result.totals["update"], result.totals["new"]) == (4, 2)
    helpers = {name for name in started if name.startswith("admin_bulk_upsert")}
    assert helpers == (
        set() if server_side_binding else {"admin_bulk_upsert-lookup", "admin_bulk_upsert-write"}
    )
