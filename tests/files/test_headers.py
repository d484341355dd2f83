"""read_header: the checks of read_dataset that the first rows answer, without the rest."""

from __future__ import annotations

import io

import pytest

from admin_bulk_upsert.files.headers import read_header
from admin_bulk_upsert.files.reading import ReadError, read_dataset


def test_reads_the_header_of_a_csv_whatever_its_rows_hold_further_down():
    rows = b"".join(b"%d,x\n" % i for i in range(50_000))
    data = b"sku,name\n" + rows + b"1,2,3,4\n\xff\xfe\n"  # too wide, then not UTF-8
    assert read_header(data, input_format="csv") == ["sku", "name"]
    with pytest.raises(ReadError):
        read_dataset(data, input_format="csv")


def test_a_quoted_cell_longer_than_the_first_bytes_is_read_whole():
    data = b'sku,note\n"' + b"line\n" * 20_000 + b'",1\n2,3\n'
    assert read_header(data, input_format="csv") == ["sku", "note"]


def test_a_character_cut_by_the_first_bytes_is_not_an_encoding_error():
    cell = "é" * 40_000  # 80,000 bytes: the first 64 KiB end inside a character or not
    data = f"sku,note\n1,{cell}\n".encode()
    for cut in (0, 1):
        assert read_header(b" " * cut + data, input_format="csv") == ["sku", "note"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"sku,name\n",
        b"sku,,name\n1,2,3\n",
        b"sku,sku\n1,2\n",
        b"sku,name\n\xff,2\n",
        b"PK\x03\x04 zipped",
    ],
    ids=["empty", "header only", "nameless column", "repeated name", "not utf-8", "binary"],
)
def test_refuses_with_the_full_reads_message(data):
    with pytest.raises(ReadError) as from_header:
        read_header(data, input_format="csv", encoding="utf-8")
    with pytest.raises(ReadError) as from_dataset:
        read_dataset(data, input_format="csv", encoding="utf-8")
    assert from_header.value.message == from_dataset.value.message


def test_semicolon_csv_and_trailing_separator():
    assert read_header(b"sku;name\n1;a\n", input_format="csv") == ["sku", "name"]
    assert read_header(b"sku,name,\n1,a,\n", input_format="csv") == ["sku", "name"]


def test_xlsx_reads_two_rows():
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["sku", "name"])
    workbook.active.append([None, None])
    workbook.active.append(["A", "a"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert read_header(buffer.getvalue(), input_format="xlsx") == ["sku", "name"]

    header_only = Workbook()
    header_only.active.append(["sku", "name"])
    buffer = io.BytesIO()
    header_only.save(buffer)
    with pytest.raises(ReadError, match="no data rows"):
        read_header(buffer.getvalue(), input_format="xlsx")
