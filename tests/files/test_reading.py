"""read_dataset(): the file formats, encodings and header problems users upload."""

from __future__ import annotations

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
import tablib
from django.test import override_settings
from import_export.formats.base_formats import CSV

from admin_bulk_upsert.files.reading import ReadError, read_dataset


def read_error(data, **kwargs):
    with pytest.raises(ReadError) as info:
        read_dataset(data, **kwargs)
    return info.value.message


def xlsx(*rows):
    dataset = tablib.Dataset(*rows[1:], headers=rows[0])
    return dataset.export("xlsx")


# --- CSV ---------------------------------------------------------------------


def test_csv_with_bom_and_spaced_headers():
    dataset = read_dataset(b"\xef\xbb\xbf account , amount\nA1,1.5\n", filename="t.csv")

    assert dataset.headers == ["account", "amount"]
    assert dataset.dict == [{"account": "A1", "amount": "1.5"}]


def test_csv_matches_die_reader():
    data = (
        b"account,datetime,amount,description\n"
        b'A1,2024-01-02 10:00:00,1.500,"two\nlines"\n'
        b"\n"
        b"A2,2024-01-03 10:00:00,2,short\n"
        b"A3,2024-01-04 10:00:00\n"
    )

    ours = read_dataset(data, filename="t.csv")
    die = CSV(encoding="utf-8-sig").create_dataset(data)

    assert ours.headers == die.headers
    assert ours.dict == die.dict
    assert ours.dict[0]["description"] == "two\nlines"
    assert ours.dict[2] == {
        "account": "A3",
        "datetime": "2024-01-04 10:00:00",
        "amount": "",
        "description": "",
    }


def test_bom_with_plain_utf8_encoding():
    dataset = read_dataset(b"\xef\xbb\xbfaccount\nA1\n", filename="t.csv", encoding="utf-8")

    assert dataset.headers == ["account"]


def test_semicolon_csv_from_excel():
    dataset = read_dataset(b"account;amount\r\nA1;1,5\r\n", filename="t.csv")

    assert dataset.dict == [{"account": "A1", "amount": "1,5"}]


def test_comma_in_a_semicolon_header_keeps_commas():
    dataset = read_dataset(b'"a;b",c\n1,2\n', filename="t.csv")

    assert dataset.headers == ["a;b", "c"]


def test_tsv():
    dataset = read_dataset(b"a\tb\n1\t2,5\n", filename="t.tsv")

    assert dataset.dict == [{"a": "1", "b": "2,5"}]


def test_not_utf8_names_line_and_byte():
    message = read_error(b"a,b\n1,2\n3,caf\xe9\n", filename="t.csv", encoding="utf-8")

    assert message == (
        "The file is not valid UTF-8 (line 3, byte 13). "
        "Choose the file’s encoding, or save it as “CSV UTF-8”."
    )


def test_other_encoding():
    dataset = read_dataset(b"name\ncaf\xe9\n", filename="t.csv", encoding="latin-1")

    assert dataset.dict == [{"name": "café"}]


def test_unknown_encoding():
    assert read_error(b"a\n1\n", filename="t.csv", encoding="klingon") == (
        "Unknown text encoding “klingon”."
    )


def test_binary_garbage_as_csv():
    assert read_error(b"\x00\x01\x02\x03garbage\x00", filename="t.csv") == (
        "The file is not a CSV file: it contains binary data."
    )


def test_spreadsheet_uploaded_as_csv():
    message = read_error(xlsx(["a"], [1]), filename="t.csv")

    assert message == (
        "The file is not a CSV file: it looks like an Excel workbook. "
        "Choose the format that matches it, or save it as CSV."
    )


def test_field_over_csv_limit():
    data = b"a\n" + b'"' + b"x" * 200_000 + b'"\n'

    message = read_error(data, filename="t.csv")

    assert message.startswith("The file is not valid CSV (line 2): field larger than field limit")


# --- empty files and headers -------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\n\n  \r\n", b"\xef\xbb\xbf"])
def test_empty_file(data):
    assert read_error(data, filename="t.csv") == "The file is empty."


def test_header_only():
    assert read_error(b"account,amount\n", filename="t.csv") == (
        "The file has a header row but no data rows."
    )


def test_header_only_xlsx():
    assert read_error(xlsx(["account", "amount"]), filename="t.xlsx") == (
        "The file has a header row but no data rows."
    )


def test_duplicate_headers_after_stripping():
    assert read_error(b"account,amount, account\n1,2,3\n", filename="t.csv") == (
        "Column “account” appears twice in the header row (columns 1 and 3)."
    )


def test_blank_header_with_data():
    assert read_error(b"account,,amount, \n1,2,3,4\n", filename="t.csv") == (
        "Columns 2, 4 have no name in the header row. Name them or delete them."
    )


def test_empty_header_row():
    assert read_error(b",,\n1,2,3\n", filename="t.csv") == (
        "The first row must hold the column names, but it is empty."
    )


def test_one_blank_header():
    assert read_error(b"a,,b\n1,2,3\n", filename="t.csv") == (
        "Column 2 has no name in the header row. Name it or delete it."
    )


def test_trailing_empty_columns_are_dropped():
    dataset = read_dataset(b"a,b,,\n1,2,,\n3,4\n", filename="t.csv")

    assert dataset.headers == ["a", "b"]
    assert dataset.dict == [{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]


def test_row_wider_than_header():
    assert read_error(b"a,b\n1,2\n3,4,5\n", filename="t.csv") == (
        "Row 2 has 3 values but the header has 2 columns. "
        "Check for an unquoted separator in a value."
    )


# --- XLSX --------------------------------------------------------------------


def test_xlsx_round_trip_keeps_python_values():
    when = datetime.datetime(2024, 1, 2, 10, 30)
    data = xlsx(
        [" account", "datetime", "amount", "day", "note"],
        ["A1", when, 1.5, datetime.date(2024, 3, 4), None],
        [None, None, None, None, None],
        [12, when, Decimal("2.25"), None, "x"],
        [None, None, None, None, None],
    )

    dataset = read_dataset(data, filename="upload.XLSX")

    assert dataset.headers == ["account", "datetime", "amount", "day", "note"]
    assert [list(row) for row in dataset] == [
        ["A1", when, 1.5, datetime.datetime(2024, 3, 4), None],
        [None, None, None, None, None],  # kept: DIE keeps blank rows, so numbers match
        [12, when, 2.25, None, "x"],
    ]


@override_settings(IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES=True)
def test_xlsx_blank_rows_dropped_under_die_setting():
    data = xlsx(["a"], [1], [None], [2])

    assert read_dataset(data, filename="t.xlsx").dict == [{"a": 1}, {"a": 2}]


def test_xlsx_recognised_without_a_name():
    assert read_dataset(xlsx(["a"], [1])).dict == [{"a": 1}]


def test_xlsx_that_is_not_a_zip():
    assert read_error(b"a,b\n1,2\n", filename="t.xlsx") == (
        "The file is not a valid XLSX workbook. "
        "It looks like a text (CSV) file: choose CSV as its format."
    )


def test_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "hello")

    assert read_error(buffer.getvalue(), filename="t.xlsx") == (
        "The file is not a valid XLSX workbook."
    )


def test_old_excel_file():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100

    assert read_error(ole, filename="t.xlsx") == (
        "The file is an old Excel (.xls) workbook or encrypted. Save it as .xlsx."
    )


# --- choosing the format -----------------------------------------------------


def test_input_format_wins_over_extension():
    assert read_dataset(b"a\n1\n", filename="t.xlsx", input_format="CSV").dict == [{"a": "1"}]


def test_unsupported_format():
    message = read_error(b"%PDF-1.4", filename="t.pdf")

    assert message.startswith("Unsupported file format “pdf”. Use one of: csv, ")


def test_json_through_die():
    dataset = read_dataset(b'[{"a": 1, " b": "x"}]', filename="t.json")

    assert dataset.dict == [{"a": 1, "b": "x"}]


def test_broken_json():
    assert read_error(b'[{"a": 1', filename="t.json") == "The file is not a valid JSON file."
