"""Imports, a job and a revert through a real PgBouncer in transaction pooling.

Behind ``pool_mode = transaction`` each transaction of a client runs on whichever server
connection is free, so nothing an import relies on may outlive a transaction: a session
advisory lock taken before the import's transaction and released after it would neither keep
the imports apart nor ever be released (measured before the lock became the transaction's:
imports failing on deadlocks and duplicate keys, and an advisory lock left in ``pg_locks``).

Each test starts its own PgBouncer (:mod:`tests.pgbouncer`) in front of the test database and
runs the work in separate processes that connect through it, with
``DISABLE_SERVER_SIDE_CURSORS = True``: eight ``bulk_import`` commands of overlapping files at
once, then a real ``db_worker`` running an import job and its revert. The test itself reads
the outcome on a direct connection, and checks that no advisory lock is held on the test
database while PgBouncer still holds its server connections open.

PostgreSQL only: PgBouncer is a PostgreSQL pooler.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection

from admin_bulk_upsert.jobs import transitions
from admin_bulk_upsert.jobs.models import ImportJob
from tests.jobs.workers import REPO_ROOT, WorkerBackend
from tests.pgbouncer import PgBouncer
from tests.testapp.models import Product

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.skipif(
        settings.TEST_DB != "postgresql",
        reason="PgBouncer is a PostgreSQL pooler: run on postgresql",
    ),
]

IMPORTS = 8
SHARED_KEYS = 600  # in every file
OWN_KEYS = 150  # in one file each
ALREADY_IN_TABLE = 200  # shared keys 0..199 exist before the imports start
UNRELATED_ROWS = 50  # in no file: the imports must leave them alone
BATCH_SIZE = 100
#: Seconds the imports may take together (they run one after the other) before they are killed.
DEADLINE = 600


@pytest.fixture
def pgbouncer(transactional_db):
    """PgBouncer for this test; stopped (closing its server connections) before the flush."""
    bouncer = PgBouncer(settings.DATABASES["default"])
    try:
        yield bouncer
    finally:
        bouncer.stop()


def _test_database() -> str:
    return str(connection.settings_dict["NAME"])


def _through(bouncer: PgBouncer) -> dict:
    """``DATABASES`` of a process connecting to the test database through ``bouncer``."""
    return {"default": bouncer.database(settings.DATABASES["default"], _test_database())}


def _advisory_locks() -> list[tuple]:
    """Advisory locks held or awaited on the test database, by any session."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, objid, granted FROM pg_locks WHERE locktype = 'advisory' "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        return cursor.fetchall()


def _sku(number: int) -> str:
    return f"S{number:05d}"


def _own_keys(index: int) -> range:
    start = SHARED_KEYS + UNRELATED_ROWS + index * OWN_KEYS
    return range(start, start + OWN_KEYS)


def _write_file(folder: Path, index: int) -> Path:
    """Import ``index``'s file: every shared key and its own, in an order of its own."""
    numbers = [*range(SHARED_KEYS), *_own_keys(index)]
    random.Random(index).shuffle(numbers)
    lines = ["sku,code,name,price"]
    lines += [f"{_sku(n)},c{n},import {index},{n % 90 + 1}.{index}0" for n in numbers]
    path = folder / f"import-{index}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def _command_env(bouncer: PgBouncer) -> dict[str, str]:
    """A ``manage.py`` process of the test's settings, connecting through ``bouncer``."""
    given = {
        "DATABASE_NAMES": {"default": _test_database()},
        "DATABASES": _through(bouncer),
        "ADMIN_BULK_UPSERT": {"LOCK_TIMEOUT": DEADLINE},
    }
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "ADMIN_BULK_UPSERT_WORKER_SETTINGS": json.dumps(given),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }


def _run_together(commands: list[list[str]], env: dict[str, str]) -> list[tuple[int, str]]:
    """Start every command at once; their exit statuses and outputs once all have ended."""
    processes = [
        subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for command in commands
    ]
    outcomes = []
    try:
        for process in processes:
            output, _ = process.communicate(timeout=DEADLINE)
            outcomes.append((process.returncode, output))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    return outcomes


def _counts(output: str) -> tuple[int, int]:
    """``(new, updated)`` from ``bulk_import``'s summary line."""
    found = re.search(r"([\d,]+) new, ([\d,]+) updated", output)
    assert found, output
    return int(found[1].replace(",", "")), int(found[2].replace(",", ""))


def test_eight_overlapping_imports_through_pgbouncer(pgbouncer, tmp_path):
    Product.objects.bulk_create(
        [Product(sku=_sku(n), code=f"c{n}", name="before") for n in range(ALREADY_IN_TABLE)]
        + [
            Product(sku=_sku(n), code=f"c{n}", name="unrelated", price="9.99")
            for n in range(SHARED_KEYS, SHARED_KEYS + UNRELATED_ROWS)
        ]
    )
    command = [sys.executable, "-m", "django", "bulk_import", "testapp.Product"]
    options = ["--unique-fields", "sku", "--batch-size", str(BATCH_SIZE), "--no-progress"]
    commands = [[*command, str(_write_file(tmp_path, index)), *options] for index in range(IMPORTS)]

    outcomes = _run_together(commands, _command_env(pgbouncer))

    failed = [f"import {i}: exit {code}\n{out}" for i, (code, out) in enumerate(outcomes) if code]
    assert failed == [], "\n".join(failed)
    # Every command really went through PgBouncer.
    assert pgbouncer.client_logins(_test_database()) >= IMPORTS
    # No lock left on a pooled server connection (PgBouncer still holds them open).
    assert _advisory_locks() == []
    # Every key once; the unrelated rows untouched; each row as one of its files wrote it.
    names = dict(Product.objects.values_list("sku", "name"))
    shared = {_sku(n) for n in range(SHARED_KEYS)}
    unrelated = {_sku(n) for n in range(SHARED_KEYS, SHARED_KEYS + UNRELATED_ROWS)}
    own = {index: {_sku(n) for n in _own_keys(index)} for index in range(IMPORTS)}
    assert Product.objects.count() == len(names)
    assert set(names) == shared | unrelated | set().union(*own.values())
    assert {names[sku] for sku in unrelated} == {"unrelated"}
    assert {names[sku] for sku in shared} <= {f"import {i}" for i in range(IMPORTS)}
    for index, skus in own.items():
        assert {names[sku] for sku in skus} == {f"import {index}"}
    # Each import saw the rows of those before it: a shared key missing from the table is
    # new in exactly one import, and an update in every other.
    counts = [_counts(output) for _, output in outcomes]
    assert all(new + updated == SHARED_KEYS + OWN_KEYS for new, updated in counts)
    assert sum(new for new, _ in counts) == SHARED_KEYS - ALREADY_IN_TABLE + IMPORTS * OWN_KEYS


def test_a_job_and_its_revert_on_a_worker_through_pgbouncer(pgbouncer, settings, tmp_path):
    backend = WorkerBackend(
        "db", settings, tmp_path, STAGING_DIR=str(tmp_path / "jobs"), BATCH_SIZE=50
    )
    backend.worker_databases = _through(pgbouncer)
    try:
        _import_and_revert(backend, pgbouncer)
    finally:
        backend.stop()


def _import_and_revert(backend: WorkerBackend, bouncer: PgBouncer) -> None:
    ann = User.objects.create_superuser("ann")
    Product.objects.bulk_create(
        Product(sku=_sku(n), code=f"c{n}", name="before", price="1.00") for n in range(100)
    )
    before = set(Product.objects.values_list("sku", "name", "price"))
    text = "sku,code,name,price\n" + "".join(
        f"{_sku(n)},c{n},job,{n % 90 + 1}.50\n" for n in range(50, 300)
    )
    backend.start()
    job = transitions.create_job(
        text.encode(),
        user=ann,
        model_label="testapp.Product",
        file_name="products.csv",
        input_format="csv",
        unique_fields=["sku"],
        preview=False,
    )

    job = _wait_for_state(backend, job, ImportJob.State.DONE)
    assert (job.new_rows, job.updated_rows) == (200, 50)
    assert Product.objects.filter(name="job").count() == 250
    assert bouncer.client_logins(_test_database()) >= 1
    assert _advisory_locks() == []

    transitions.request_revert(job, ann)
    job = _wait_for_state(backend, job, ImportJob.State.REVERTED)
    assert set(Product.objects.values_list("sku", "name", "price")) == before
    assert _advisory_locks() == []


def _wait_for_state(backend: WorkerBackend, job: ImportJob, state: str) -> ImportJob:
    """The job once no worker holds it nor is to pick it up; it must then be in ``state``."""
    busy = {*ImportJob.RUNNING_STATES, *ImportJob.WAITING_STATES}

    def settled_job():
        fresh = ImportJob.objects.get(pk=job.pk)
        return None if fresh.state in busy else fresh

    fresh = backend.wait_for(settled_job, f"job {job.pk} to be {state}")
    assert fresh.state == state, f"{fresh.state}: {fresh.failure}\n{backend.logs()}"
    return fresh
