"""One row, one message: the admin's preview, its CSV and ``bulk_import``'s report agree.

The file's errors cover each way a row fails: a widget's (a number that is not
one, in a key-less column and as an error row), a foreign key's, a date's (with
the formats it accepts) and the database's (a blank cell in a NOT NULL column).
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.admin.conftest import csv_file, upload, url

PRODUCTS = [
    "code,sku,name,price,stock",
    "c1,S1,fine,1.50,3",
    "c2,S2,bad price,abc,3",
    "c4,S4,formula,2.00,=1+1",
]
TRANSACTIONS = [
    "account,datetime,amount,description",
    "A1,2024-01-01 10:00:00,1.000,fine",
    "SUP-999,2024-01-01 10:00:00,1.000,unknown account",
    "A1,31.01.2024,1.000,a date in another format",
    "A2,2024-01-02 10:00:00,,no amount",
]


def admin_errors(client, lines, model, name):
    response = upload(client, csv_file(lines[1:], name=name, header=lines[0]), model=model)
    preview = response.context["result"]
    return response, [(e.number, e.column, e.value, e.message) for e in preview.errors]


def cli_errors(tmp_path, lines, resource, name):
    """The failed rows report of ``bulk_import``, and the command's output."""
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stdout = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "bulk_import",
            resource,
            str(path),
            "--no-progress",
            stdout=stdout,
            stderr=io.StringIO(),
        )
    with (tmp_path / f"{name}.failed.csv").open(encoding="utf-8-sig", newline="") as stream:
        report = list(csv.reader(stream))[1:]
    return report, stdout.getvalue()


def test_products_read_the_same_in_the_admin_and_the_cli(importer_client, tmp_path):
    _response, shown = admin_errors(importer_client, PRODUCTS, "product", "products.csv")
    report, stdout = cli_errors(
        tmp_path, PRODUCTS, "tests.adminapp.resources.ProductResource", "p.csv"
    )

    assert shown == [
        (2, "price", "abc", "Enter a number."),
        (3, "stock", "=1+1", "Enter a whole number."),
    ]
    # The report is opened in a spreadsheet: the cell that would be a formula is text there.
    assert report == [
        ["2", "price", "abc", "Enter a number."],
        ["3", "stock", "'=1+1", "Enter a whole number."],
    ]
    assert "  row 2, column “price” ('abc'): Enter a number.\n" in stdout
    assert "  row 3, column “stock” ('=1+1'): Enter a whole number.\n" in stdout


def test_transactions_read_the_same_in_the_admin_and_the_cli(importer_client, accounts, tmp_path):
    _response, shown = admin_errors(importer_client, TRANSACTIONS, "transaction", "tx.csv")
    report, stdout = cli_errors(
        tmp_path, TRANSACTIONS, "tests.adminapp.resources.TransactionResource", "tx.csv"
    )

    assert [error[:3] for error in shown] == [
        (2, "account", "SUP-999"),
        (3, "datetime", "31.01.2024"),
        (4, "amount", ""),
    ]
    date_message = shown[1][3]
    assert [error[3] for error in shown] == [
        "No account has number “SUP-999”.",
        date_message,
        "This field cannot be blank.",
    ]
    # Django's DATETIME_INPUT_FORMATS, each written as an example.
    assert date_message == (
        "Enter a valid date/time. Formats accepted: 2024-01-31 14:30:00, "
        "2024-01-31 14:30:00.000000, 2024-01-31 14:30, 01/31/2024 14:30:00, "
        "01/31/2024 14:30:00.000000, 01/31/2024 14:30, 01/31/24 14:30:00, "
        "01/31/24 14:30:00.000000, 01/31/24 14:30."
    )
    assert report == [[str(number), *rest] for number, *rest in shown]
    assert "  row 2, column “account” ('SUP-999'): No account has number “SUP-999”.\n" in stdout
    assert "  row 4, column “amount”: This field cannot be blank.\n" in stdout


def test_the_preview_csv_gives_the_same_messages(importer_client):
    response, _shown = admin_errors(importer_client, PRODUCTS, "product", "products.csv")
    token = response.context["preview_token"]

    download = importer_client.get(url("product", "import_preview_csv"), {"token": token})

    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode())))
    assert rows[2] == ["2", "error", "", "price='abc': Enter a number."]
    assert rows[3] == ["3", "error", "", "stock='=1+1': Enter a whole number."]
