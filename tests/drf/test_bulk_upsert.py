"""POST <model>/bulk-upsert/: the same outcome as the same rows in a CSV file."""

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from admin_bulk_upsert.files.reading import read_dataset
from tests.engine.resources import TransactionResource
from tests.testapp.models import Account, Transaction

pytestmark = pytest.mark.django_db

URL = "transaction-bulk-upsert"


def _at(text):
    """An aware datetime in the current time zone, as DIE reads a naive cell."""
    return timezone.make_aware(datetime.fromisoformat(text))


def _seed():
    """Two accounts and two stored transactions, half of the records below."""
    first = Account.objects.create(number="A1")
    second = Account.objects.create(number="A2")
    Transaction.objects.create(
        account=first,
        datetime=_at("2024-01-01 10:00:00"),
        amount=Decimal("10.500"),
        description="old",
    )
    Transaction.objects.create(
        account=second, datetime=_at("2024-01-02 10:00:00"), amount=Decimal("7"), description="same"
    )


RECORDS = [
    # an update (description changes), a skip-or-update, two new rows
    {
        "account_number": "A1",
        "datetime": "2024-01-01 10:00:00",
        "amount": 10.5,
        "description": "new text",
    },
    {"account_number": "A2", "datetime": "2024-01-02 10:00:00", "amount": 7, "description": "same"},
    {
        "account_number": "A1",
        "datetime": "2024-01-03 10:00:00",
        "amount": "1.250",
        "description": None,
    },
    {"account_number": "A2", "datetime": "2024-01-04 10:00:00", "amount": 3e2, "description": "x"},
]
#: The same records as a CSV file holds them.
CSV_ROWS = [
    ["A1", "2024-01-01 10:00:00", "10.5", "new text"],
    ["A2", "2024-01-02 10:00:00", "7", "same"],
    ["A1", "2024-01-03 10:00:00", "1.250", ""],
    ["A2", "2024-01-04 10:00:00", "300.0", "x"],
]
HEADERS = ["account_number", "datetime", "amount", "description"]


def _csv_bytes(rows, headers=HEADERS):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows(rows)
    return out.getvalue().encode()


def _table():
    return sorted(
        Transaction.objects.values_list("account__number", "datetime", "amount", "description")
    )


def _through_csv(rows):
    dataset = read_dataset(_csv_bytes(rows), filename="rows.csv")
    return TransactionResource().import_data(
        dataset, use_transactions=True, rollback_on_validation_errors=True
    )


def test_records_give_the_table_and_totals_of_the_same_rows_in_a_csv(api):
    _seed()
    expected = _through_csv(CSV_ROWS)
    expected_table = _table()
    Transaction.objects.all().delete()
    Account.objects.all().delete()
    _seed()

    response = api.post(reverse(URL), RECORDS, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert _table() == expected_table
    assert {k: v for k, v in body["totals"].items() if v} == {
        k: v for k, v in expected.totals.items() if v
    }
    assert body["committed"] is True
    assert body["errors"] == []
    outcomes = [(r["index"], r["outcome"]) for r in body["records"]]
    assert outcomes == [
        (0, "update"),
        (1, "skip" if expected.totals["skip"] else "update"),
        (2, "new"),
        (3, "new"),
    ]


def test_each_record_gets_the_pk_of_its_stored_row(api):
    _seed()
    body = api.post(reverse(URL), RECORDS, format="json").json()
    for record, sent in zip(body["records"], RECORDS, strict=True):
        stored = Transaction.objects.get(pk=record["pk"])
        assert stored.account.number == sent["account_number"]
        assert stored.datetime == _at(sent["datetime"])


def test_a_number_keeps_its_digits(api):
    _seed()
    api.post(reverse(URL), [{**RECORDS[2], "amount": 0.1}], format="json")
    # 0.1 read as a binary float would be 0.1000000000000000055...; the cell is "0.1".
    assert Transaction.objects.filter(amount=Decimal("0.100")).count() == 1


def test_a_failed_record_rolls_back_all_and_names_index_field_and_message(api):
    _seed()
    before = _table()
    records = [RECORDS[2], {**RECORDS[3], "amount": "abc"}, {**RECORDS[3], "account_number": "ZZ"}]
    csv_rows = [CSV_ROWS[2], [*CSV_ROWS[3][:2], "abc", "x"], ["ZZ", *CSV_ROWS[3][1:]]]

    response = api.post(reverse(URL), records, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["committed"] is False
    assert _table() == before
    assert body["records"][0] == {"index": 0, "outcome": "new", "pk": None}
    by_index = {error["index"]: error for error in body["errors"]}
    assert set(by_index) == {1, 2}
    assert by_index[1]["field"] == "amount"
    assert by_index[1]["value"] == "abc"
    assert by_index[2]["field"] == "account_number"
    assert by_index[2]["message"] == "No account has number “ZZ”."
    # The CSV import fails the same rows.
    result = _through_csv(csv_rows)
    assert [row.import_type for row in result.rows] == [r["outcome"] for r in body["records"]]
    assert _table() == before


def test_dry_run_writes_nothing_and_gives_the_totals(api):
    _seed()
    before = _table()
    response = api.post(reverse(URL) + "?dry_run=true", RECORDS, format="json")
    assert response.status_code == 200
    body = response.json()
    assert _table() == before
    assert body["dry_run"] is True and body["committed"] is False
    assert body["totals"]["new"] == 2
    assert [r["pk"] for r in body["records"] if r["outcome"] == "new"] == [None, None]


def test_unique_fields_chooses_the_key(api):
    _seed()
    # Keyed on datetime alone, the first record's amount changes instead of a new row.
    record = {**RECORDS[0], "amount": 99}
    response = api.post(reverse(URL) + "?unique_fields=datetime", [record], format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["totals"]["update"] == 1
    assert Transaction.objects.filter(amount=99).count() == 1


def test_an_uploaded_csv_is_read_as_the_admin_reads_it(api):
    _seed()
    expected = _through_csv(CSV_ROWS)
    expected_table = _table()
    Transaction.objects.all().delete()
    Account.objects.all().delete()
    _seed()
    upload = io.BytesIO(_csv_bytes(CSV_ROWS))
    upload.name = "rows.csv"

    response = api.post(reverse(URL), {"file": upload}, format="multipart")

    assert response.status_code == 200, response.json()
    assert _table() == expected_table
    assert response.json()["totals"]["new"] == expected.totals["new"]


def test_an_uploaded_xlsx_is_imported(api):
    import tablib

    _seed()
    sheet = tablib.Dataset(*CSV_ROWS, headers=HEADERS)
    upload = io.BytesIO(sheet.export("xlsx"))
    upload.name = "rows.xlsx"
    response = api.post(reverse(URL), {"file": upload}, format="multipart")
    assert response.status_code == 200, response.json()
    assert response.json()["totals"]["new"] == 2
