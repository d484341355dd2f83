"""Uploading a file shows a dry-run preview: totals, changes old -> new, nothing written."""

from __future__ import annotations

import csv
import io

from tests.admin.conftest import (
    add_transaction,
    csv_file,
    token_from,
    transaction_line,
    upload,
    url,
    when,
)
from tests.testapp.models import Transaction


def test_preview_counts_each_outcome_and_writes_nothing(importer_client, accounts):
    add_transaction(accounts["A1"], 1, "10.000", "rent")  # updated by the file
    add_transaction(accounts["A1"], 2, "20.000", "same")  # unchanged
    lines = [
        transaction_line("A1", 1, "10.000", "rent corrected"),
        transaction_line("A1", 2, "20.000", "same"),
        transaction_line("A2", 3, "30.500", "new one"),
        transaction_line("A2", 4, "40.000", "new two"),
    ]
    response = upload(importer_client, csv_file(lines))

    assert response.status_code == 200
    totals = response.context["result"].totals
    assert (
        totals["new"],
        totals["update"],
        totals["skip"],
        totals["invalid"],
        totals["error"],
    ) == (
        2,
        1,
        1,
        0,
        0,
    )
    assert Transaction.objects.count() == 2
    assert Transaction.objects.get(datetime=when(1)).description == "rent"
    page = response.content.decode()
    assert '<td class="total-new">2</td>' in page
    assert '<td class="total-update">1</td>' in page
    assert '<td class="total-skip">1</td>' in page
    assert 'name="token"' in page


def test_preview_shows_old_and_new_value_of_changed_columns_only(importer_client, accounts):
    add_transaction(accounts["A1"], 1, "10.000", "rent")
    response = upload(
        importer_client,
        csv_file(
            [
                transaction_line("A1", 1, "10.000", "rent corrected"),
                transaction_line("A2", 3, "30.500", "new one"),
            ]
        ),
    )

    rows = response.context["result"].rows
    assert [(row.number, row.import_type) for row in rows] == [(1, "update"), (2, "new")]
    assert [(c.column, c.old, c.new) for c in rows[0].changed_cells] == [
        ("description", "rent", "rent corrected")
    ]
    # Every column has its cell; the unchanged ones show the stored value.
    assert [(c.column, c.new, c.changed) for c in rows[0].cells][0] == ("account", "A1", False)
    new_cells = {c.column: c.new for c in rows[1].cells}
    assert new_cells["account"] == "A2"
    assert new_cells["description"] == "new one"
    page = response.content.decode()
    assert '<td class="cell-changed"><del>rent</del> → <ins>rent corrected</ins></td>' in page
    assert '<td class="cell-same">A1</td>' in page
    assert '<td class="cell-new">new one</td>' in page


def test_preview_lists_only_the_first_rows_and_counts_the_rest(settings, importer_client, accounts):
    settings.ADMIN_BULK_UPSERT = {**settings.ADMIN_BULK_UPSERT, "PREVIEW_ROWS": 3}
    lines = [transaction_line("A1", 1 + i % 28, f"{i}.000", f"row {i}") for i in range(10)]
    response = upload(importer_client, csv_file(lines))

    preview = response.context["result"]
    assert [row.number for row in preview.rows] == [1, 2, 3]
    assert preview.hidden_rows == 7
    page = response.content.decode()
    assert page.count('<tr class="new">') == 3
    assert "Showing the first 3 of 10 rows that change something or fail;" in page


def test_preview_csv_has_one_line_per_row(importer_client, accounts):
    add_transaction(accounts["A1"], 1, "10.000", "rent")
    lines = [
        transaction_line("A1", 1, "10.000", "rent corrected"),
        transaction_line("A1", 2, "not a number", "broken"),
        transaction_line("A2", 3, "30.500", "new one"),
    ]
    response = upload(importer_client, csv_file(lines))
    token = response.context["preview_token"]

    download = importer_client.get(url("transaction", "import_preview_csv"), {"token": token})

    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv"
    assert 'filename="transactions-preview.csv"' in download["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[0] == ["row", "outcome", "changed_columns", "error"]
    assert rows[1] == ["1", "update", "description", ""]
    assert rows[2] == ["2", "error", "", "amount='not a number': Enter a number."]
    assert rows[3] == ["3", "new", "account;datetime;amount;description", ""]


def test_confirm_form_carries_only_a_signed_token(importer_client, accounts, admin_site_urls):
    response = upload(importer_client, csv_file([transaction_line("A1", 1, "1.000")]))

    token_from(response)
    form = response.content.decode().split('action="' + url("transaction", "process_import"))[1]
    form = form.split("</form>")[0]
    assert form.count("<input") == 3  # csrf, token, submit
    staged_ids = {p.name.split(".")[0] for p in admin_site_urls.iterdir()}
    assert len(staged_ids) == 1
    assert staged_ids.pop() not in form


def test_xlsx_upload_previews_like_csv(importer_client, accounts):
    import tablib
    from django.core.files.uploadedfile import SimpleUploadedFile
    from import_export.formats.base_formats import DEFAULT_FORMATS

    dataset = tablib.Dataset(headers=["account", "datetime", "amount", "description"])
    dataset.append(["A1", "2024-01-01 12:00:00", "1.500", "from excel"])
    titles = [f().get_title() for f in DEFAULT_FORMATS if f().can_import()]

    response = upload(
        importer_client,
        SimpleUploadedFile("t.xlsx", dataset.export("xlsx")),
        format=str(titles.index("xlsx")),
    )

    assert response.context["result"].totals["new"] == 1
    assert f"{url('transaction', 'import_preview_csv')}?token=" in response.content.decode()
    token_from(response)
