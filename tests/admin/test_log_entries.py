"""Admin history is written in bulk: one INSERT per chunk of entries."""

from __future__ import annotations

import pytest
import tablib
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType

from admin_bulk_upsert.reports.log_entries import write_log_entries
from tests.admin.conftest import HEADER
from tests.adminapp.resources import TransactionResource
from tests.testapp.models import Transaction


def imported(accounts, count):
    dataset = tablib.Dataset(headers=HEADER.split(","))
    for i in range(count):
        dataset.append(["A1", f"2024-01-01 12:{i // 60:02d}:{i % 60:02d}", "1.000", f"row {i}"])
    result = TransactionResource().import_data(
        dataset, unique_fields=["account", "datetime", "amount"]
    )
    assert result.totals["new"] == count
    return result


@pytest.mark.parametrize("chunks", [1, 3])
def test_queries_grow_with_chunks_not_rows(django_assert_num_queries, importer, accounts, chunks):
    result = imported(accounts, 20 * chunks)
    ContentType.objects.get_for_model(Transaction)  # cached, as after the first import

    # One executemany per chunk of 20, inside a savepoint (the test itself runs in a transaction).
    with django_assert_num_queries(chunks + 2):
        written = write_log_entries(
            result, user_pk=importer.pk, model=Transaction, file_name="t.csv", batch_size=20
        )

    assert written == 20 * chunks
    entries = LogEntry.objects.all()
    assert {e.action_flag for e in entries} == {ADDITION}
    assert sorted(int(e.object_id) for e in entries) == sorted(
        Transaction.objects.values_list("pk", flat=True)
    )


def test_skip_admin_log_writes_none(settings, importer_client, accounts):
    from tests.admin.conftest import confirm, csv_file, token_from, transaction_line, upload

    settings.IMPORT_EXPORT_SKIP_ADMIN_LOG = True
    token = token_from(upload(importer_client, csv_file([transaction_line("A1", 1, "1.000")])))

    assert confirm(importer_client, token).status_code == 302
    assert Transaction.objects.count() == 1
    assert LogEntry.objects.count() == 0
