"""Undo data from every write path, and its cost in queries: constant per chunk."""

from __future__ import annotations

import pytest
import tablib
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from admin_bulk_upsert.engine.chunk_changes import ChunkWritten
from admin_bulk_upsert.jobs import revert, transitions
from admin_bulk_upsert.jobs.undo import UndoChunk, UndoRecorder
from admin_bulk_upsert.resources import BulkUpsertResource, bulk_resource_factory
from tests.testapp.models import Product, Tag, WideRecord

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "jobs"), "BATCH_SIZE": 2}


class SkippingWideResource(BulkUpsertResource):
    """Skips unchanged rows: a repeated key with m2m cells replays its chunk the stock way."""

    class Meta:
        model = WideRecord
        import_id_fields = ["code"]
        fields = ["code", "label", "tags"]
        skip_unchanged = True


def _rows(*tables):
    found = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")
            found[table] = cursor.fetchall()
    return found


def test_a_chunk_replayed_row_by_row_is_recorded_and_reverted():
    user = User.objects.create_superuser("ann")
    red, blue = Tag.objects.create(name="red"), Tag.objects.create(name="blue")
    record = WideRecord.objects.create(code="A", label="a")
    record.tags.set([red])
    tables = (WideRecord._meta.db_table, WideRecord.tags.through._meta.db_table)
    before = _rows(*tables)
    data = f'code,label,tags\nA,b,{blue.pk}\nA,c,"{red.pk},{blue.pk}"\n'.encode()
    job = transitions.create_job(
        data,
        user=user,
        model_label="testapp.WideRecord",
        file_name="f.csv",
        input_format="csv",
        unique_fields=["code"],
        resource_path=f"{__name__}.SkippingWideResource",
        preview=False,
    )
    job.refresh_from_db()
    assert job.state == "done", job.failure
    assert WideRecord.objects.get().label == "c"
    outcome = revert.revert(job)
    assert outcome.totals["restore"] == 1
    assert _rows(*tables) == before


def _product_rows(chunks):
    """Per chunk (BATCH_SIZE 2): one existing product updated, one created."""
    for number in range(chunks):
        Product.objects.create(sku=f"old{number}", code="c", name="before")
    rows = []
    for number in range(chunks):
        rows += [(f"old{number}", "c", "after"), (f"new{number}", "c", "new")]
    return tablib.Dataset(*rows, headers=["sku", "code", "name"])


def _import_queries(chunks, record):
    dataset = _product_rows(chunks)
    resource = bulk_resource_factory(Product, unique_fields=["sku"])()
    recorder = UndoRecorder(job_pk=chunks, model_label="testapp.Product") if record else None
    with CaptureQueriesContext(connection) as queries:
        result = resource.import_data(dataset, use_transactions=True, on_chunk_written=recorder)
    assert not result.has_errors()
    Product.objects.all().delete()
    return len(queries)


def test_recording_costs_one_insert_per_chunk():
    """Plus one delete per job: of undo data left under the job's id (next test)."""
    _import_queries(1, record=False)  # per-process caches (MariaDB's collations) filled
    for chunks in (1, 3):
        assert _import_queries(chunks, record=True) - _import_queries(chunks, record=False) == (
            chunks + 1
        )
    assert UndoChunk.objects.filter(job_id=3).count() == 3


def _product_job(data, user, *, preview):
    """A job of products keyed on sku, run by the immediate backend, as it ended."""
    job = transitions.create_job(
        data,
        user=user,
        model_label="testapp.Product",
        file_name="f.csv",
        input_format="csv",
        unique_fields=["sku"],
        preview=preview,
    )
    job.refresh_from_db()
    return job


def test_undo_data_left_under_the_jobs_id_is_replaced():
    """A job id can come back (SQLite reuses the highest rowid once its job is deleted), and a
    run without one transaction leaves its chunks: the job imports, and its revert undoes its
    own run only."""
    user = User.objects.create_superuser("ann")
    Product.objects.create(sku="old0", code="c", name="before")
    job = _product_job(b"sku,code,name\nold0,c,after\nnew0,c,new\n", user, preview=True)
    assert job.state == "previewed", job.failure
    stranger = Product.objects.create(sku="stranger", code="c", name="another run's")
    UndoRecorder(job.pk, "testapp.Product")(
        ChunkWritten(Product, "default", created=[stranger.pk], updated=[], links={})
    )
    assert UndoChunk.objects.filter(job_id=job.pk).count() == 1
    transitions.confirm(job, transitions.confirm_token(job), user)
    job.refresh_from_db()
    assert job.state == "done", job.failure
    assert UndoChunk.objects.filter(job_id=job.pk).count() == 1
    revert.revert(job)
    assert sorted(Product.objects.values_list("sku", "name")) == [
        ("old0", "before"),
        ("stranger", "another run's"),
    ]


def _revert_queries(chunks):
    user = User.objects.create_superuser(f"u{chunks}")
    dataset = _product_rows(chunks)
    job = _product_job(dataset.export("csv").encode(), user, preview=False)
    assert job.state == "done", job.failure
    ContentType.objects.get_for_model(Product)  # cached, as in a running server
    with CaptureQueriesContext(connection) as queries:
        outcome = revert.revert(job)
    assert (outcome.totals["delete"], outcome.totals["restore"]) == (chunks, chunks)
    assert set(Product.objects.values_list("name", flat=True)) == {"before"}
    Product.objects.all().delete()
    return len(queries)


def test_revert_queries_are_constant_per_chunk():
    one, three = _revert_queries(1), _revert_queries(3)
    # Per chunk: its undo data, the records (FOR UPDATE), the PROTECT relation,
    # a savepoint around the delete (its collector's two reads, the delete), the bulk
    # update, the admin log entries.
    assert three - one == 2 * 10
