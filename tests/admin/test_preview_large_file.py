"""A big file gets a small preview page: totals, the first changes, capped errors."""

from __future__ import annotations

import re

from tests.admin.conftest import csv_file, upload

ROWS = 5000


def line(i, amount=None):
    day, minute = 1 + i // 1440, i % 1440
    return f"A1,2024-01-{day:02d} {minute // 60:02d}:{minute % 60:02d}:00,{amount or i},row {i}"


def test_page_size_does_not_grow_with_the_file(importer_client, accounts):
    response = upload(importer_client, csv_file([line(i) for i in range(ROWS)]))

    page = response.content.decode()
    assert response.context["result"].totals["new"] == ROWS
    assert len(page.encode()) < 100_000
    assert len(re.findall(r'<tr class="new">', page)) == 100
    assert f"Showing the first 100 of {ROWS} rows that change something or fail;" in page


def test_errors_are_listed_up_to_the_cap_then_counted(settings, importer_client, accounts):
    settings.ADMIN_BULK_UPSERT = {**settings.ADMIN_BULK_UPSERT, "PREVIEW_ERRORS": 50}
    lines = [line(i, amount="oops" if i % 10 == 0 else None) for i in range(1000)]

    response = upload(importer_client, csv_file(lines))

    preview = response.context["result"]
    assert preview.totals["error"] == 100
    assert [e.number for e in preview.errors] == list(range(1, 500, 10))
    assert {(e.column, e.value, e.message) for e in preview.errors} == {
        ("amount", "oops", "Enter a number.")
    }
    assert preview.hidden_errors == 50
    assert "… and 50 more errors, listed in the CSV." in response.content.decode()
    assert "confirm_form" not in response.context
