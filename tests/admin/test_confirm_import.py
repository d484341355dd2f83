"""Confirming a preview imports exactly the staged file, logs it and says what happened."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.messages import get_messages

from tests.admin.conftest import (
    add_transaction,
    confirm,
    csv_file,
    token_from,
    transaction_line,
    upload,
    url,
)
from tests.testapp.models import Transaction


def test_confirm_writes_the_previewed_rows_and_reports_counts(
    importer_client, importer, accounts, admin_site_urls
):
    existing = add_transaction(accounts["A1"], 1, "10.000", "rent")
    add_transaction(accounts["A1"], 2, "20.000", "same")
    lines = [
        transaction_line("A1", 1, "10.000", "rent corrected"),
        transaction_line("A1", 2, "20.000", "same"),
        transaction_line("A2", 3, "30.500", "new one"),
    ]
    token = token_from(upload(importer_client, csv_file(lines)))

    response = confirm(importer_client, token)

    assert response.status_code == 302
    assert response["Location"] == url("transaction", "changelist")
    existing.refresh_from_db()
    assert existing.description == "rent corrected"
    new = Transaction.objects.get(account=accounts["A2"])
    assert (new.amount, new.description) == (Decimal("30.500"), "new one")
    assert Transaction.objects.count() == 3
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Import finished: 1 new, 1 updated, 0 deleted and 1 skipped transactions."
    ]
    assert list(admin_site_urls.iterdir()) == []  # staged file and preview CSV removed


def test_confirm_writes_one_log_entry_per_created_or_updated_object(
    importer_client, importer, accounts
):
    existing = add_transaction(accounts["A1"], 1, "10.000", "rent")
    lines = [
        transaction_line("A1", 1, "10.000", "rent corrected"),
        transaction_line("A2", 3, "30.500", "new one"),
    ]
    confirm(importer_client, token_from(upload(importer_client, csv_file(lines))))

    new = Transaction.objects.get(account=accounts["A2"])
    entries = LogEntry.objects.order_by("action_flag")
    assert [(e.user_id, e.object_id, e.action_flag, e.get_change_message()) for e in entries] == [
        (importer.pk, str(new.pk), ADDITION, "Added by bulk import of “transactions.csv”."),
        (importer.pk, str(existing.pk), CHANGE, "Changed by bulk import of “transactions.csv”."),
    ]
    assert entries[0].get_edited_object() == new


def test_confirming_twice_imports_once(importer_client, accounts):
    token = token_from(upload(importer_client, csv_file([transaction_line("A1", 1, "1.000")])))
    assert confirm(importer_client, token).status_code == 302

    again = confirm(importer_client, token)

    assert again.status_code == 400
    assert "it was imported already or it expired" in again.content.decode()
    assert Transaction.objects.count() == 1
    assert LogEntry.objects.count() == 1


def test_confirm_uses_the_previewed_file_not_a_newer_upload(importer_client, accounts):
    first = token_from(upload(importer_client, csv_file([transaction_line("A1", 1, "1.000")])))
    upload(importer_client, csv_file([transaction_line("A2", 2, "2.000")]))

    confirm(importer_client, first)

    assert list(Transaction.objects.values_list("account__number", "amount")) == [
        ("A1", Decimal("1.000"))
    ]
