"""Imports of overlapping files running at the same time, on real concurrent connections.

Two (or four) imports start together, each a file of 2,000 rows: 1,000 keys shared by every
file (300 of them already in the table) and 1,000 keys of its own, in a different order per
file, written in chunks of 200. Stock DIE fails this: on MariaDB the imports deadlock and are
rolled back, on PostgreSQL they wait on each other's row locks, and without a database
constraint (``LooseTransaction``) both insert the shared keys (see MEASUREMENTS.md).

What must hold afterwards:

- every key of every file is in the table exactly once, and no other row was lost or touched;
- no import failed or reported an error;
- each import reports what it did: its ``new`` + ``update`` equal its rows, its own keys are
  ``new``, and each shared key that was not in the table is ``new`` in exactly one import and
  ``update`` in the others, so the ``new`` totals add up to the rows really created.

Each import runs in its own thread, hence on its own database connection (Django's
connections are per thread), and closes it at the end. SQLite is skipped: it has one writer
at a time, and its in-memory test database is one connection shared by every thread.
"""

from __future__ import annotations

import contextlib
import random
import threading
import traceback
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import tablib
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone
from import_export.fields import Field
from import_export.results import RowResult
from import_export.widgets import ForeignKeyWidget

from admin_bulk_upsert import BulkUpsertResource
from tests.testapp.models import Account, LooseTransaction, Transaction

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.skipif(
        settings.TEST_DB == "sqlite",
        reason="SQLite has a single writer, and its in-memory test database is one connection "
        "shared by every thread: run on postgresql or mariadb",
    ),
]

SHARED_KEYS = 1_000
OWN_KEYS = 1_000
ALREADY_IN_TABLE = 300  # shared keys 0..299 exist before the imports start
UNRELATED_ROWS = 100  # rows in no file, which the imports must leave alone
ACCOUNTS = 7
BATCH_SIZE = 200
# Seconds the imports may take together before the test cancels them on the server.
IMPORT_DEADLINE = 600
BASE_DATETIME = datetime(2024, 1, 8, 9, 0)  # January: no DST gap in Europe/Paris
HEADERS = ["account", "datetime", "amount", "description"]


class _TransactionFields(BulkUpsertResource):
    account = Field(
        attribute="account", column_name="account", widget=ForeignKeyWidget(Account, "number")
    )


class TransactionResource(_TransactionFields):
    class Meta:
        model = Transaction
        fields = ("account", "datetime", "amount", "description")
        import_id_fields = ("account", "datetime", "amount")
        batch_size = BATCH_SIZE


class LooseTransactionResource(_TransactionFields):
    class Meta:
        model = LooseTransaction
        fields = ("account", "datetime", "amount", "description")
        import_id_fields = ("account", "datetime", "amount")
        batch_size = BATCH_SIZE


RESOURCES = {Transaction: TransactionResource, LooseTransaction: LooseTransactionResource}


def _key(number: int) -> tuple[str, datetime, Decimal]:
    """The natural key of row ``number``: account number, naive local datetime, amount."""
    return (
        f"ACC-{number % ACCOUNTS}",
        BASE_DATETIME + timedelta(minutes=number),
        Decimal(f"{number % 50 + 1}.125"),
    )


def _own_keys(import_index: int) -> range:
    start = SHARED_KEYS + UNRELATED_ROWS + import_index * OWN_KEYS
    return range(start, start + OWN_KEYS)


def _description(import_index: int) -> str:
    return f"import {import_index}"


def _dataset(import_index: int) -> tuple[tablib.Dataset, list[int]]:
    """The file of one import, and the key number of each of its rows, in file order."""
    numbers = [*range(SHARED_KEYS), *_own_keys(import_index)]
    random.Random(import_index).shuffle(numbers)
    dataset = tablib.Dataset(headers=HEADERS)
    for number in numbers:
        account, when, amount = _key(number)
        dataset.append(
            [account, when.strftime("%Y-%m-%d %H:%M:%S"), str(amount), _description(import_index)]
        )
    return dataset, numbers


def _create_table_contents(model) -> None:
    accounts = {
        account.number: account
        for account in Account.objects.bulk_create(
            Account(number=f"ACC-{i}", name=f"Account {i}") for i in range(ACCOUNTS)
        )
    }
    if not all(account.pk for account in accounts.values()):  # MariaDB returns no pks
        accounts = {account.number: account for account in Account.objects.all()}
    numbers = [*range(ALREADY_IN_TABLE), *range(SHARED_KEYS, SHARED_KEYS + UNRELATED_ROWS)]
    rows = []
    for number in numbers:
        account, when, amount = _key(number)
        rows.append(
            model(
                account=accounts[account],
                datetime=timezone.make_aware(when),
                amount=amount,
                description="before" if number < SHARED_KEYS else "unrelated",
            )
        )
    model.objects.bulk_create(rows)


def _backend_id() -> int:
    """The server's id of this thread's connection, to cancel a stuck import."""
    sql = (
        "SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT CONNECTION_ID()"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def _kill_backends(backend_ids: list[int | None]) -> None:
    with connection.cursor() as cursor:
        for backend_id in filter(None, backend_ids):
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_terminate_backend(%s)", [backend_id])
            else:
                with contextlib.suppress(Exception):  # already gone
                    cursor.execute(f"KILL {int(backend_id)}")


def _run_at_once(resource_class, datasets: list[tablib.Dataset]) -> list[object]:
    """Runs one import per dataset, each on its own thread and connection, started together.

    Returns, per import, its ``Result`` or the formatted traceback of what it raised.
    """
    count = len(datasets)
    barrier = threading.Barrier(count)
    outcomes: list[object] = [None] * count
    backend_ids: list[int | None] = [None] * count

    def work(index: int) -> None:
        try:
            # Connect before the barrier, so that the imports themselves start together.
            backend_ids[index] = _backend_id()
            barrier.wait(timeout=60)
            outcomes[index] = resource_class().import_data(
                datasets[index], dry_run=False, raise_errors=False, use_transactions=True
            )
        except BaseException:
            outcomes[index] = traceback.format_exc()
        finally:
            connections.close_all()  # this thread's connections only

    threads = [
        threading.Thread(target=work, args=(i,), name=f"import-{i}", daemon=True)
        for i in range(count)
    ]
    for thread in threads:
        thread.start()
    deadline = threading.Event()
    for thread in threads:
        thread.join(timeout=IMPORT_DEADLINE)
        if thread.is_alive():
            deadline.set()
            break
    if deadline.is_set():
        # Cancel the imports on the server, or the table flush after the test would wait on
        # their locks forever.
        _kill_backends(backend_ids)
        for thread in threads:
            thread.join(timeout=30)
        stuck = [thread.name for thread in threads if thread.is_alive()]
        pytest.fail(f"imports still running after {IMPORT_DEADLINE}s, cancelled: {stuck}")
    return outcomes


def _describe_problems(index: int, outcome: object) -> list[str]:
    if isinstance(outcome, str):
        return [f"import {index} raised:\n{outcome}"]
    problems = [f"import {index}: {error.error!r}" for error in outcome.base_errors]
    for number, errors in outcome.row_errors()[:5]:
        problems += [f"import {index} row {number}: {error.error!r}" for error in errors[:1]]
    for invalid in outcome.invalid_rows[:5]:
        problems.append(f"import {index} row {invalid.number}: {invalid.error_dict}")
    return problems


def _assert_table(model, import_count: int) -> None:
    rows = list(model.objects.values_list("account__number", "datetime", "amount", "description"))
    keys = Counter(
        (account, timezone.make_naive(when), amount) for account, when, amount, _ in rows
    )
    duplicated = [key for key, seen in keys.items() if seen > 1]
    assert duplicated == [], f"{len(duplicated)} keys twice or more, e.g. {duplicated[:3]}"

    description_by_key = {
        (account, timezone.make_naive(when), amount): description
        for account, when, amount, description in rows
    }
    expected_numbers = [
        *range(SHARED_KEYS),
        *range(SHARED_KEYS, SHARED_KEYS + UNRELATED_ROWS),
        *(number for i in range(import_count) for number in _own_keys(i)),
    ]
    missing = [n for n in expected_numbers if _key(n) not in description_by_key]
    assert missing == [], f"{len(missing)} keys lost, e.g. row numbers {missing[:5]}"
    assert len(rows) == len(expected_numbers)

    every_import = {_description(i) for i in range(import_count)}
    for number in range(SHARED_KEYS):
        assert description_by_key[_key(number)] in every_import, number
    for number in range(SHARED_KEYS, SHARED_KEYS + UNRELATED_ROWS):
        assert description_by_key[_key(number)] == "unrelated", number
    for i in range(import_count):
        for number in _own_keys(i):
            assert description_by_key[_key(number)] == _description(i), number


def _assert_reports(results, numbers_per_import: list[list[int]]) -> None:
    new_in = Counter()  # shared key number -> imports that report it new
    for index, (result, numbers) in enumerate(zip(results, numbers_per_import, strict=True)):
        totals = result.totals
        assert result.total_rows == len(numbers), index
        assert totals[RowResult.IMPORT_TYPE_NEW] + totals[RowResult.IMPORT_TYPE_UPDATE] == len(
            numbers
        ), (index, dict(totals))
        assert len(result.rows) == len(numbers), index
        for row_result, number in zip(result.rows, numbers, strict=True):
            if number >= SHARED_KEYS:
                assert row_result.import_type == RowResult.IMPORT_TYPE_NEW, (index, number)
            elif number < ALREADY_IN_TABLE:
                assert row_result.import_type == RowResult.IMPORT_TYPE_UPDATE, (index, number)
            elif row_result.import_type == RowResult.IMPORT_TYPE_NEW:
                new_in[number] += 1
    created_by_none = [n for n in range(ALREADY_IN_TABLE, SHARED_KEYS) if new_in[n] == 0]
    created_twice = [n for n, seen in new_in.items() if seen > 1]
    assert created_by_none == [], f"{len(created_by_none)} created keys reported new by none"
    assert created_twice == [], f"{len(created_twice)} keys reported new by several imports"

    created = SHARED_KEYS - ALREADY_IN_TABLE + OWN_KEYS * len(results)
    assert sum(result.totals[RowResult.IMPORT_TYPE_NEW] for result in results) == created


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("import_count", [2, 4])
@pytest.mark.parametrize("model", [Transaction, LooseTransaction], ids=lambda m: m.__name__)
def test_overlapping_imports_at_once(model, import_count):
    _create_table_contents(model)
    files = [_dataset(i) for i in range(import_count)]

    outcomes = _run_at_once(RESOURCES[model], [dataset for dataset, _ in files])

    problems = [p for i, outcome in enumerate(outcomes) for p in _describe_problems(i, outcome)]
    assert problems == [], "\n".join(problems[:20])
    _assert_table(model, import_count)
    _assert_reports(outcomes, [numbers for _, numbers in files])
