"""The import pauses Python's cyclic collector where it owns the process, and always gives it back.

Where it does not (a web request, a thread pool), the collector keeps running
for every other thread.
"""

import gc
import threading
import weakref
from contextlib import contextmanager

import pytest
from django.test import override_settings
from import_export.exceptions import ImportError as DieImportError

from admin_bulk_upsert.gc_pause import import_owns_process, paused_collection
from tests.engine.builders import transactions_file
from tests.engine.resources import TransactionResource
from tests.testapp.models import Account

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def account():
    return Account.objects.create(number="A1", name="First")


@pytest.fixture
def owned():
    """The test runs as the ``bulk_import`` command or a worker's step does."""
    with import_owns_process():
        yield


class SeesCollector(TransactionResource):
    """Records whether automatic collection was on while each row was imported."""

    seen: list[bool]

    def before_import_row(self, row, **kwargs):
        self.seen.append(gc.isenabled())


def test_collection_is_paused_during_the_import_and_enabled_after(owned):
    resource = SeesCollector()
    resource.seen = []
    resource.import_data(transactions_file(["A1", "2024-01-05 10:00:00", "1", "x"]))
    assert resource.seen == [False]
    assert gc.isenabled()


def test_an_import_that_does_not_own_the_process_leaves_the_collector_running():
    # A web request's import, or one on a thread pool.
    resource = SeesCollector()
    resource.seen = []
    resource.import_data(transactions_file(["A1", "2024-01-05 10:00:00", "1", "x"]))
    assert resource.seen == [True]


@override_settings(ADMIN_BULK_UPSERT={"PAUSE_GC": False})
def test_pause_gc_off_leaves_the_collector_running_where_the_import_owns_the_process(owned):
    resource = SeesCollector()
    resource.seen = []
    resource.import_data(transactions_file(["A1", "2024-01-05 10:00:00", "1", "x"]))
    assert resource.seen == [True]


def test_collection_is_enabled_again_after_a_failed_import(owned):
    file = transactions_file(["NOPE", "2024-01-05 10:00:00", "1", "x"])
    with pytest.raises(DieImportError):
        TransactionResource().import_data(file, raise_errors=True)
    assert gc.isenabled()


def test_a_caller_that_disabled_collection_keeps_it_disabled(owned):
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


def test_young_generations_are_collected_after_each_chunk_and_the_heap_never(owned):
    # Failing rows keep exceptions whose tracebacks form reference cycles;
    # they go with the chunk's collection. A full collection would walk every
    # row result kept so far.
    rows = [["NOPE", f"2024-01-05 10:{i:02d}:00", "1", "x"] for i in range(50)]
    with collections_while_paused() as collections:
        TransactionResource(batch_size=10).import_data(transactions_file(*rows))
    assert collections == [1] * 5


def test_young_generations_are_collected_once_per_written_chunk(owned):
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


def test_reading_a_file_pauses_collection_and_gives_it_back(owned):
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


class WaitsMidImport(TransactionResource):
    """Stops at its first row until ``go`` is set, having set ``inside``."""

    def before_import_row(self, row, **kwargs):
        self.inside.set()
        assert self.go.wait(60), "the test never let the import go on"


def test_another_threads_garbage_is_collected_while_an_import_runs():
    """An import in a web request: a thread beside it makes cycles, and they are collected.

    Each cycle holds an object with a finalizer, which runs when the
    collector frees the cycle (reference counting never can). Nobody calls
    ``gc.collect()``: only automatic collection can run them.
    """
    resource = WaitsMidImport()
    resource.inside, resource.go = threading.Event(), threading.Event()
    freed = threading.Event()
    made = []

    def make_and_drop_cycles():
        assert resource.inside.wait(60)
        for _ in range(100_000):
            node = {}
            node["self"] = node  # a reference cycle, unreachable once dropped
            holder = _Finalizable()
            node["holder"] = holder
            weakref.finalize(holder, freed.set)
            made.append(1)
            del node, holder
            if freed.is_set():
                break
        resource.go.set()

    other = threading.Thread(target=make_and_drop_cycles)
    other.start()
    resource.import_data(transactions_file(["A1", "2024-01-05 10:00:00", "1", "x"]))
    other.join()
    assert freed.is_set(), f"none of {len(made):,} cycles was collected during the import"


class _Finalizable:
    pass


def test_two_overlapping_pauses_do_not_switch_collection_back_on_under_each_other():
    first_in, second_out, first_may_leave = (threading.Event() for _ in range(3))
    seen = {}

    def first():
        with import_owns_process(), paused_collection():
            first_in.set()
            assert second_out.wait(60)
            seen["after the second ended"] = gc.isenabled()
            assert first_may_leave.wait(60)

    def second():
        assert first_in.wait(60)
        with import_owns_process(), paused_collection():
            seen["during the second"] = gc.isenabled()
        second_out.set()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert second_out.wait(60)
    seen["beside both"] = gc.isenabled()
    first_may_leave.set()
    for thread in threads:
        thread.join()
    assert seen == {
        "during the second": False,
        "after the second ended": False,
        "beside both": False,
    }
    assert gc.isenabled()


def test_a_workers_step_owns_its_process_but_not_under_the_immediate_backend(settings):
    from admin_bulk_upsert.gc_pause import owns_process
    from admin_bulk_upsert.jobs import tasks
    from admin_bulk_upsert.jobs.compat import DUMMY_BACKEND, IMMEDIATE_BACKEND

    settings.TASKS = {
        "default": {"BACKEND": IMMEDIATE_BACKEND},
        "worker": {"BACKEND": DUMMY_BACKEND},
    }
    with tasks._step_process():
        assert not owns_process()  # the step runs inside the request that queued it
    settings.ADMIN_BULK_UPSERT = {"TASK_BACKEND": "worker"}
    with tasks._step_process():
        assert owns_process()
    assert not owns_process()
