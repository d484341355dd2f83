"""The import pauses Python's cyclic collector, and must always give it back."""

import gc
from contextlib import contextmanager

import pytest
from import_export.exceptions import ImportError as DieImportError

from tests.engine.builders import transactions_file
from tests.engine.resources import TransactionResource
from tests.testapp.models import Account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def account():
    return Account.objects.create(number="A1", name="First")


class SeesCollector(TransactionResource):
    """Records whether automatic collection was on while each row was imported."""

    seen: list[bool]

    def before_import_row(self, row, **kwargs):
        self.seen.append(gc.isenabled())


def test_collection_is_paused_during_the_import_and_enabled_after():
    resource = SeesCollector()
    resource.seen = []
    resource.import_data(transactions_file(["A1", "2024-01-05 10:00:00", "1", "x"]))
    assert resource.seen == [False]
    assert gc.isenabled()


def test_collection_is_enabled_again_after_a_failed_import():
    file = transactions_file(["NOPE", "2024-01-05 10:00:00", "1", "x"])
    with pytest.raises(DieImportError):
        TransactionResource().import_data(file, raise_errors=True)
    assert gc.isenabled()


def test_a_caller_that_disabled_collection_keeps_it_disabled():
    gc.disable()
    try:
        TransactionResource().import_data(
            transactions_file(["A1", "2024-01-05 10:00:00", "1", "x"])
        )
        assert not gc.isenabled()
    finally:
        gc.enable()


@contextmanager
def collections_while_paused():
    """The generations of the collections run while automatic collection is off.

    Those are the import's own: an automatic collection (set off before the
    import pauses the collector, by the test's own allocations) is not counted.
    """
    generations = []

    def record(phase, info):
        if phase == "start" and not gc.isenabled():
            generations.append(info["generation"])

    gc.callbacks.append(record)
    try:
        yield generations
    finally:
        gc.callbacks.remove(record)


def test_young_generations_are_collected_after_each_chunk_and_the_heap_never():
    # Failing rows keep exceptions whose tracebacks form reference cycles;
    # they go with the chunk's collection. A full collection would walk every
    # row result kept so far.
    rows = [["NOPE", f"2024-01-05 10:{i:02d}:00", "1", "x"] for i in range(50)]
    with collections_while_paused() as collections:
        TransactionResource(batch_size=10).import_data(transactions_file(*rows))
    assert collections == [1] * 5


def test_young_generations_are_collected_once_per_written_chunk():
    # Also when the chunk is written (new records and updates) and, on
    # PostgreSQL, part of its work overlaps the write.
    from datetime import datetime

    from django.utils import timezone

    from tests.testapp.models import Transaction

    account = Account.objects.get(number="A1")
    Transaction.objects.bulk_create(
        Transaction(
            account=account,
            datetime=timezone.make_aware(datetime(2024, 1, 5, 10, i)),
            amount=1,
            description="old",
        )
        for i in range(0, 30, 2)
    )
    rows = [["A1", f"2024-01-05 10:{i:02d}:00", "1", "new"] for i in range(30)]
    with collections_while_paused() as collections:
        result = TransactionResource(batch_size=10).import_data(transactions_file(*rows))
    assert (result.totals["new"], result.totals["update"]) == (15, 15)
    assert collections == [1] * 3


def test_reading_a_file_pauses_collection_and_gives_it_back():
    from admin_bulk_upsert.files.reading import ReadError, read_dataset

    collections = []

    def record(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    data = "a,b\n" + "".join(f"{i},x\n" for i in range(5000))
    encoded = data.encode()
    gc.collect()
    gc.callbacks.append(record)
    try:
        dataset = read_dataset(encoded, filename="f.csv")
    finally:
        gc.callbacks.remove(record)
    # At most the one collection that follows the pause (over the young rows);
    # with the collector running, reading 5,000 rows sets off dozens.
    assert len(collections) <= 1 and 2 not in collections
    assert len(dataset) == 5000
    assert gc.isenabled()
    with pytest.raises(ReadError):
        read_dataset(b"a,a\n1,2\n", filename="f.csv")
    assert gc.isenabled()
