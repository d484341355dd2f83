"""A revert and an import (or two reverts) of one model at once, on real concurrent connections.

A revert reads the rows an import wrote and the undo data later imports recorded, then writes;
an import reads the table, then writes. Were both to run at once, either would write over what
the other had not committed yet (a lost update). Both take the model's import lock, so the
second waits until the first has committed, then sees its rows.

Each test holds the first party inside its transaction, with the lock held, at a gate (an
import's last chunk, a revert's first chunk); starts the second party on its own thread and
connection; waits until the database server shows that connection waiting for the lock; then
opens the gate. The lock's entries and exits are recorded in order (an exit is recorded just
before the holder's commit, which is what lets the other party in), and the end table is
compared whole with what the two parties must leave in that order. Every wait is bounded; a
thread still running at the deadline has its database session killed and fails the test.

SQLite is skipped: it has one writer at a time (the lock is a no-op there), and its in-memory
test database is one connection shared by every thread.
"""

from __future__ import annotations

import contextlib
import threading
import time
import traceback
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, connections

from admin_bulk_upsert import BulkUpsertResource
from admin_bulk_upsert.engine import import_lock
from admin_bulk_upsert.jobs import revert, transitions
from tests.test_concurrency import _backend_id
from tests.testapp.models import Product

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
        reason="SQLite has a single writer (the import lock is a no-op there), and its "
        "in-memory test database is one connection shared by every thread: run on "
        "postgresql or mariadb",
    ),
]

#: Seconds any one wait may last before the test gives up (a hang, not a slow machine).
WAIT = 60


class _Gate:
    """Holds the first thread that reaches it until the test opens it."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.opened = threading.Event()

    def hold(self) -> None:
        if self.reached.is_set():
            return
        self.reached.set()
        if not self.opened.wait(WAIT):
            raise RuntimeError("the test never opened the gate")


GATE = _Gate()


class GatedProductResource(BulkUpsertResource):
    """Products by sku; the import stops at :data:`GATE` after its last chunk's write.

    That is inside the import's transaction, with the model's lock held and every row of the
    file written but not committed.
    """

    class Meta:
        model = Product
        fields = ("sku", "code", "name", "price")
        import_id_fields = ("sku",)

    def import_data(self, dataset, *args, progress=None, **kwargs):
        report = progress

        def progress(done, total):
            if report is not None:
                report(done, total)
            if done == total:
                GATE.hold()

        return super().import_data(dataset, *args, progress=progress, **kwargs)


@pytest.fixture(autouse=True)
def lock_events(settings, tmp_path, monkeypatch):
    """Chunks of 2 rows, a fresh gate, and the lock's entries and exits recorded in order."""
    global GATE
    settings.ADMIN_BULK_UPSERT = {
        "STAGING_DIR": str(tmp_path / "jobs"),
        "BATCH_SIZE": 2,
        "LOCK_TIMEOUT": WAIT,
    }
    GATE = _Gate()
    events: list[tuple[str, str]] = []

    real_lock = import_lock.lock_in_transaction

    @contextlib.contextmanager
    def recorded_lock(model, using, timeout):
        # Entered inside the transaction (on MariaDB, once GET_LOCK is held around it):
        # "unlocking" is recorded before the commit that really lets the other party in.
        name = threading.current_thread().name
        with real_lock(model, using, timeout):
            events.append((name, "locked"))
            try:
                yield
            finally:
                events.append((name, "unlocking"))

    monkeypatch.setattr(import_lock, "lock_in_transaction", recorded_lock)
    return events


@pytest.fixture
def ann():
    return User.objects.create_superuser("ann")


def _products(*rows):
    return "sku,code,name,price\n" + "".join(f"{r}\n" for r in rows)


def _create_job(user, text, resource_path=""):
    """Create and run (on the immediate backend, in this thread) an import job of Products."""
    job = transitions.create_job(
        text.encode(),
        user=user,
        model_label="testapp.Product",
        file_name="file.csv",
        input_format="csv",
        unique_fields=["sku"],
        resource_path=resource_path,
        preview=False,
    )
    job.refresh_from_db()
    return job


def _import(user, *rows):
    job = _create_job(user, _products(*rows))
    assert job.state == "done", job.failure
    return job


def _table():
    return {
        sku: (name, price)
        for sku, name, price in Product.objects.values_list("sku", "name", "price")
    }


def _conflict_pks(outcome):
    return {entry["pk"] for entry in outcome.first["conflict"]}


def _pks(*skus):
    return {str(pk) for pk in Product.objects.filter(sku__in=skus).values_list("pk", flat=True)}


# -- threads ------------------------------------------------------------------------------


class _Party(threading.Thread):
    """Runs ``work`` on its own thread, hence its own connection, and keeps what it returned."""

    def __init__(self, name, work):
        super().__init__(name=name, daemon=True)
        self.work = work
        self.result = None
        self.error = None
        self.backend_id = None
        self.connected = threading.Event()

    def run(self):
        try:
            self.backend_id = _backend_id()
            self.connected.set()
            self.result = self.work()
        except BaseException:
            self.error = traceback.format_exc()
        finally:
            self.connected.set()
            connections.close_all()  # this thread's connections only


def _waits_for_lock(backend_id) -> bool:
    """Whether the server shows session ``backend_id`` asking for an import lock."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The lock is polled with pg_try_advisory_lock: its last statement says it is.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [backend_id])
            row = cursor.fetchone()
            return row is not None and "pg_try_advisory" in row[0]
        # GET_LOCK blocks in the server: the statement is shown while it waits.
        cursor.execute(
            "SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = %s", [backend_id]
        )
        row = cursor.fetchone()
        return row is not None and "GET_LOCK" in (row[0] or "")


def _run_in_turn(holder, second):
    """Run ``holder`` to the gate, then ``second`` until it waits for the lock; open the gate.

    Returns when both have ended; fails when either raised, or when ``second`` did not wait
    for the lock while ``holder`` held it.
    """
    try:
        holder.start()
        if not GATE.reached.wait(WAIT):
            pytest.fail(f"{holder.name} did not reach the gate: {holder.error}")
        second.start()
        if not second.connected.wait(WAIT):
            pytest.fail(f"{second.name} did not connect")
        deadline = time.monotonic() + WAIT
        while not _waits_for_lock(second.backend_id):
            if not second.is_alive():
                pytest.fail(f"{second.name} ended without waiting for the lock: {second.error}")
            if time.monotonic() > deadline:
                pytest.fail(f"{second.name} did not wait for the lock within {WAIT}s")
            time.sleep(0.01)
    finally:
        GATE.opened.set()
        _join([party for party in (holder, second) if party.ident is not None])
    errors = [f"{party.name}:\n{party.error}" for party in (holder, second) if party.error]
    assert errors == [], "\n".join(errors)


def _join(parties):
    """Wait for every party; one still running after WAIT is killed on the server."""
    for party in parties:
        party.join(WAIT)
    stuck = [party for party in parties if party.is_alive()]
    if not stuck:
        return
    # Or the table flush after the test would wait on their locks.
    with connection.cursor() as cursor:
        for party in stuck:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_terminate_backend(%s)", [party.backend_id])
            else:
                with contextlib.suppress(Exception):  # already gone
                    cursor.execute(f"KILL {int(party.backend_id)}")
    for party in stuck:
        party.join(WAIT)
    pytest.fail(f"still running after {WAIT}s, killed: {[p.name for p in stuck]}")


def _in_turn(first, second):
    """The lock's record when ``second`` got it only after ``first`` had committed."""
    return [(first, "locked"), (first, "unlocking"), (second, "locked"), (second, "unlocking")]


# -- the tests ----------------------------------------------------------------------------


def test_a_revert_waits_for_a_running_import_and_keeps_its_rows(ann, lock_events):
    Product.objects.create(sku="A", code="a", name="old a", price="1.00")
    Product.objects.create(sku="B", code="b", name="old b", price="2.00")
    Product.objects.create(sku="C", code="c", name="old c", price="3.00")
    first = _import(ann, "A,a,one,1.10", "B,b,one,2.10", "C,c,one,3.10", "E,e,one,5.10")
    lock_events.clear()
    # The second import updates A and E (which the first created) and creates F, G.
    path = f"{__name__}.GatedProductResource"
    text = _products("A,a,two,1.20", "E,e,two,5.20", "F,f,two,6.20", "G,g,two,7.20")
    importing = _Party("import", lambda: _create_job(ann, text, resource_path=path))
    reverting = _Party("revert", lambda: revert.revert(first))

    _run_in_turn(importing, reverting)

    assert lock_events == _in_turn("import", "revert")
    second = importing.result
    assert second.state == "done", second.failure
    assert (second.new_rows, second.updated_rows) == (2, 2)
    outcome = reverting.result
    totals = outcome.totals
    assert (totals["restore"], totals["delete"], totals["conflict"]) == (2, 0, 2)
    assert _conflict_pks(outcome) == _pks("A", "E")
    # What the second import wrote stays; the rest of the first import is undone.
    assert _table() == {
        "A": ("two", Decimal("1.20")),
        "B": ("old b", Decimal("2.00")),
        "C": ("old c", Decimal("3.00")),
        "E": ("two", Decimal("5.20")),
        "F": ("two", Decimal("6.20")),
        "G": ("two", Decimal("7.20")),
    }


@pytest.mark.parametrize("order", ["later first", "earlier first"])
def test_two_reverts_of_overlapping_jobs_run_in_turn(ann, lock_events, order):
    for sku in "PQRS":
        Product.objects.create(sku=sku, code=sku.lower(), name="old", price="1.00")
    before = _table()
    earlier = _import(
        ann, "P,p,one,2.00", "Q,q,one,2.00", "R,r,one,2.00", "S,s,one,2.00", "N,n,one,2.00"
    )
    later = _import(ann, "P,p,two,3.00", "Q,q,two,3.00", "N,n,two,3.00", "Z,z,two,3.00")
    lock_events.clear()
    jobs = {"earlier": earlier, "later": later}
    names = ["later", "earlier"] if order == "later first" else ["earlier", "later"]

    def reverting(name, gated):
        # A revert calls progress after each chunk, inside its transaction.
        progress = (lambda done, total: GATE.hold()) if gated else None
        return _Party(name, lambda: revert.revert(jobs[name], progress=progress))

    holder, waiting = reverting(names[0], True), reverting(names[1], False)
    _run_in_turn(holder, waiting)

    assert lock_events == _in_turn(*names)
    outcomes = {party.name: party.result for party in (holder, waiting)}
    totals = {name: outcome.totals for name, outcome in outcomes.items()}
    # The later revert always finds its rows as it left them.
    assert totals["later"] == {"delete": 1, "restore": 3, "conflict": 0, "gone": 0}
    if order == "later first":
        # Then the earlier import's rows are as it left them too: all of it is undone.
        assert totals["earlier"] == {"delete": 1, "restore": 4, "conflict": 0, "gone": 0}
        assert _table() == before
    else:
        # P and Q were changed since, and N updated by the later job: kept whole, listed;
        # then the later revert puts them back as the earlier import wrote them.
        assert totals["earlier"] == {"delete": 0, "restore": 2, "conflict": 3, "gone": 0}
        assert _conflict_pks(outcomes["earlier"]) == _pks("P", "Q", "N")
        assert _table() == {
            **before,
            "P": ("one", Decimal("2.00")),
            "Q": ("one", Decimal("2.00")),
            "N": ("one", Decimal("2.00")),
        }


def test_an_import_waits_for_a_running_revert_and_sees_its_outcome(ann, lock_events):
    Product.objects.create(sku="A", code="a", name="old a", price="1.00")
    Product.objects.create(sku="B", code="b", name="old b", price="2.00")
    first = _import(ann, "A,a,one,1.10", "B,b,one,2.10", "C,c,one,3.10", "D,d,one,4.10")
    lock_events.clear()
    text = _products("A,a,two,1.20", "C,c,two,3.20", "E,e,two,5.20")
    reverting = _Party("revert", lambda: revert.revert(first, progress=lambda *_: GATE.hold()))
    importing = _Party("import", lambda: _create_job(ann, text))

    _run_in_turn(reverting, importing)

    assert lock_events == _in_turn("revert", "import")
    totals = reverting.result.totals
    assert (totals["restore"], totals["delete"], totals["conflict"]) == (2, 2, 0)
    second = importing.result
    assert second.state == "done", second.failure
    # C was deleted by the revert before the import read the table: created again.
    assert (second.new_rows, second.updated_rows) == (2, 1)
    assert _table() == {
        "A": ("two", Decimal("1.20")),
        "B": ("old b", Decimal("2.00")),
        "C": ("two", Decimal("3.20")),
        "E": ("two", Decimal("5.20")),
    }
