"""Data that no longer validates at confirm time writes nothing, and the page says why."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry

from tests.admin.conftest import confirm, csv_file, token_from, transaction_line, upload
from tests.testapp.models import Transaction


def test_rows_broken_since_the_preview_roll_back_the_whole_import(
    importer_client, accounts, admin_site_urls
):
    lines = [transaction_line("A1", 1, "1.000", "fine"), transaction_line("A2", 2, "2.000", "gone")]
    token = token_from(upload(importer_client, csv_file(lines)))
    accounts["A2"].delete()  # someone removes the account before the import is confirmed

    response = confirm(importer_client, token)

    assert response.status_code == 200
    assert Transaction.objects.count() == 0
    assert LogEntry.objects.count() == 0
    page = response.content.decode()
    assert "Nothing was imported: the data no longer passes validation." in page
    [error] = response.context["result"].errors
    assert (error.number, error.column, error.value) == (2, "account", "A2")
    assert error.message == "No account has number “A2”."
    assert "confirm_form" not in response.context
    assert not response.context["form"].is_bound  # a fresh upload form, without errors
    assert list(admin_site_urls.iterdir()) == []
