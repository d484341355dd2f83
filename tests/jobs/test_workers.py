"""Import jobs run by real worker processes: ``db_worker``, an RQ worker and a Celery worker.

Each test runs once per backend (the ``worker_backend`` fixture; Celery only
where django-tasks-celery installs, Python >= 3.12 with Django >= 6): the test
process queues and steers jobs through ``admin_bulk_upsert.jobs.transitions``,
as the admin does, and watches the job's row and the model's table, while
the workers, separate processes on the same test database, do the work.
What a user relies on:

- preview, confirm and import end with the file's rows in the table, once;
- the job's progress moves while the import runs (it is written outside the
  import's transaction);
- a worker killed mid-import (SIGKILL) leaves the table as it was, the job
  reads failed once its heartbeat is stale, and "run again" on another worker
  imports everything once;
- two jobs of one model with overlapping keys on two workers both finish, and
  no key is lost or doubled (``LooseTransaction`` has no constraint: only the
  per-model import lock keeps the second import from inserting the shared keys);
- a cancelled running import writes nothing.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from admin_bulk_upsert.jobs import expiry, transitions
from admin_bulk_upsert.jobs.models import ImportJob
from tests.testapp.models import Account, LooseTransaction, Product

pytestmark = pytest.mark.django_db(transaction=True, databases="__all__")

RESOURCE = "tests.jobs.worker_resources.LooseTransactionResource"
ACCOUNTS = ("ACC-1", "ACC-2", "ACC-3")
BASE = datetime(2024, 1, 8, 9, 0)


@pytest.fixture(autouse=True)
def accounts(transactional_db):
    return {number: Account.objects.create(number=number) for number in ACCOUNTS}


def _key(number):
    """The ``number``-th transaction key: (account, naive datetime, amount)."""
    return (
        ACCOUNTS[number % len(ACCOUNTS)],
        BASE + timedelta(minutes=number),
        Decimal(number % 997) + Decimal("0.125"),
    )


def _csv(numbers, description):
    lines = ["account,datetime,amount,description"]
    for number in numbers:
        account, moment, amount = _key(number)
        lines.append(f"{account},{moment:%Y-%m-%d %H:%M:%S},{amount},{description} {number}")
    return ("\n".join(lines) + "\n").encode()


def _existing(numbers, description="before"):
    accounts = {account.number: account for account in Account.objects.all()}
    LooseTransaction.objects.bulk_create(
        LooseTransaction(
            account=accounts[account],
            datetime=timezone.make_aware(moment),
            amount=amount,
            description=f"{description} {number}",
        )
        for number in numbers
        for account, moment, amount in [_key(number)]
    )


def _table():
    """The table's rows as a sorted list: what 'the table holds exactly what it held' compares."""
    return sorted(
        LooseTransaction.objects.values_list("account__number", "datetime", "amount", "description")
    )


def _keys_in_table():
    return Counter(LooseTransaction.objects.values_list("account__number", "datetime", "amount"))


def _start(data, *, preview, pause=0.0, user=None):
    return transitions.create_job(
        data,
        user=user or User.objects.get_or_create(username="ann")[0],
        model_label="testapp.LooseTransaction",
        file_name="transactions.csv",
        input_format="csv",
        unique_fields=["account", "datetime", "amount"],
        resource_path=RESOURCE,
        resource_kwargs={"pause_per_chunk": pause} if pause else {},
        preview=preview,
    )


def _job(job):
    return ImportJob.objects.get(pk=job.pk)


def _reaches(backend, job, *states):
    return backend.wait_for(
        lambda: (found := _job(job)).state in states and found,
        f"job {job.pk} to reach {' or '.join(states)}",
    )


def _importing_mid_way(backend, job):
    """Wait until the worker has written some rows' progress of the import (not all)."""
    return backend.wait_for(
        lambda: (
            (found := _job(job)).state == "importing"
            and 0 < found.rows_done < (found.rows_total or 0)
            and found
        ),
        f"job {job.pk} to be importing, some rows done",
    )


def test_preview_then_confirm_imports_every_row_once(worker_backend):
    ann = User.objects.create_user("ann")
    Product.objects.create(code="a", sku="A", name="old", price="1.00")
    rows = "".join(f"{sku},{sku.lower()},name {sku},2.50\n" for sku in ["A", "B", "C", "D"])
    job = transitions.create_job(
        ("sku,code,name,price\n" + rows).encode(),
        user=ann,
        model_label="testapp.Product",
        file_name="products.csv",
        input_format="csv",
        unique_fields=["sku"],
    )
    worker_backend.start()

    job = _reaches(worker_backend, job, "previewed", "failed")
    assert job.state == "previewed", job.failure
    assert (job.new_rows, job.updated_rows, job.rows_done, job.rows_total) == (3, 1, 4, 4)
    assert list(Product.objects.values_list("sku", "name")) == [("A", "old")]  # a dry run

    transitions.confirm(job, transitions.confirm_token(job), ann)
    job = _reaches(worker_backend, job, "done", "failed")
    assert job.state == "done", job.failure
    assert (job.new_rows, job.updated_rows) == (3, 1)
    assert sorted(Product.objects.values_list("sku", "name", "price")) == [
        (sku, f"name {sku}", Decimal("2.50")) for sku in ["A", "B", "C", "D"]
    ]
    assert job.worker and job.task_id
    assert job.file.name == ""  # the upload is deleted once the job ended
    assert job.report.name


def test_progress_moves_while_the_worker_imports(worker_backend):
    job = _start(_csv(range(2_000), "new"), preview=False, pause=0.05)
    worker_backend.start()

    first = _importing_mid_way(worker_backend, job)
    later = worker_backend.wait_for(
        lambda: (found := _job(job)).rows_done > first.rows_done and found,
        "the rows done to grow",
    )
    assert later.state in ("importing", "done")
    assert first.progress()["percent"] < 100
    assert first.heartbeat_at is not None

    job = _reaches(worker_backend, job, "done", "failed")
    assert job.state == "done", job.failure
    assert (job.rows_done, job.new_rows) == (2_000, 2_000)
    assert LooseTransaction.objects.count() == 2_000


def test_killed_worker_writes_nothing_then_run_again_imports_once(worker_backend):
    _existing(range(0, 1_000, 2))  # the even half of the file's keys, and some others
    _existing(range(5_000, 5_100), description="untouched")
    before = _table()
    numbers = list(range(1_000))
    random.Random(15).shuffle(numbers)
    ann = User.objects.create_user("ann")
    job = _start(_csv(numbers, "after"), preview=True, pause=0.05, user=ann)
    worker = worker_backend.start()
    job = _reaches(worker_backend, job, "previewed", "failed")
    assert job.state == "previewed", job.failure
    transitions.confirm(job, transitions.confirm_token(job), ann)

    _importing_mid_way(worker_backend, job)
    worker.kill()  # SIGKILL to the worker and anything it forked

    assert _table() == before
    job = _job(job)
    assert job.state == "importing"  # nobody has told the job yet
    job = worker_backend.wait_for(
        lambda: expiry.fail_if_stale(found := _job(job)) and found,
        "the killed worker's heartbeat to go stale",
    )
    assert job.state == "failed"
    assert "stopped responding" in job.failure
    assert _table() == before

    transitions.run_again(job)
    worker_backend.start()
    job = _reaches(worker_backend, job, "done", "failed")
    assert job.state == "done", job.failure
    assert (job.new_rows, job.updated_rows) == (500, 500)
    keys = _keys_in_table()
    assert set(keys.values()) == {1}
    assert len(keys) == 1_100
    table = _table()
    assert sum(description.startswith("after ") for *_, description in table) == 1_000
    assert sum(description.startswith("untouched ") for *_, description in table) == 100


def test_two_jobs_of_one_model_on_two_workers_lose_and_double_no_key(worker_backend):
    _existing(range(5_000, 5_050), description="untouched")
    first_worker, second_worker = worker_backend.start(), worker_backend.start()
    # Both workers wait for work before the jobs arrive, so that each takes one.
    for worker in (first_worker, second_worker):
        worker_backend.wait_for(lambda w=worker: w.is_ready(), f"{worker.name} to start")
    # Both files start with the shared keys, and both imports last a second or more: without
    # the lock, each would look the shared keys up before the other commits, and insert them.
    shared = list(range(500, 1_000))
    first = _start(_csv([*shared, *range(500)], "first"), preview=False, pause=0.05)
    second = _start(
        _csv([*reversed(shared), *range(1_000, 1_500)], "second"), preview=False, pause=0.05
    )

    first = _reaches(worker_backend, first, "done", "failed")
    second = _reaches(worker_backend, second, "done", "failed")
    assert (first.state, second.state) == ("done", "done"), (first.failure, second.failure)
    assert first.worker != second.worker
    keys = _keys_in_table()
    assert len(keys) == 1_550
    assert set(keys.values()) == {1}
    # Whichever import went second found the shared keys and updated them.
    assert first.new_rows + second.new_rows == 1_500
    assert first.updated_rows + second.updated_rows == 500


def test_cancelled_running_import_writes_nothing(worker_backend):
    _existing(range(0, 600, 3))
    before = _table()
    job = _start(_csv(range(2_000), "after"), preview=False, pause=0.05)
    worker = worker_backend.start()

    _importing_mid_way(worker_backend, job)
    transitions.cancel(job)
    job = _reaches(worker_backend, job, "cancelled", "done", "failed")
    assert job.state == "cancelled", job.failure
    assert _table() == before
    assert worker.is_alive()  # the worker lives on for the next job
