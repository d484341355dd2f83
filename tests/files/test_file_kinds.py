"""A file that is not of its chosen format is told what it looks like; real CSV is untouched."""

import io

import pytest

from admin_bulk_upsert.files.file_kinds import is_binary, kind_of
from admin_bulk_upsert.files.reading import ReadError, read_dataset
from admin_bulk_upsert.files.streaming import open_dataset


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.4\n", "a PDF document"),
        (b"{\\rtf1\\ansi", "an RTF document"),
        (b"\x89PNG\r\n\x1a\n", "an image"),
        (b"\xff\xd8\xff\xe0", "an image"),
        (b"\xef\xbb\xbf<!DOCTYPE html><html>", "a web page (HTML)"),
        (b'<?xml version="1.0"?>', "an XML file"),
        (b' [{"sku": "S1"}]', "a JSON file"),
        (b"PK\x03\x04....[Content_Types].xml....word/document.xml", "a Word document"),
        (b"PK\x03\x04....xl/workbook.xml", "an Excel workbook"),
    ],
)
def test_what_the_first_bytes_show(head, kind):
    assert kind_of(head) == kind


@pytest.mark.parametrize(
    "head",
    [b"sku,name\nS1,Caf\xe9\n", b"[Name],[Date]\nA,2024-01-01\n", b"{id};name\n1;x\n", b""],
)
def test_a_table_s_text_shows_no_other_kind(head):
    assert kind_of(head) is None
    assert not is_binary(head)


def test_control_characters_make_a_file_binary():
    assert is_binary(bytes(range(1, 32)) * 10)
    assert not is_binary(b"a\tb\r\nc\x0cd\x1a")


@pytest.mark.parametrize("read", ["whole", "streamed"])
def test_a_pdf_chosen_as_csv_says_so(read):
    data = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"

    with pytest.raises(ReadError) as raised:
        if read == "whole":
            read_dataset(data, filename="prices.csv")
        else:
            open_dataset(io.BytesIO(data), filename="prices.csv")

    assert raised.value.message == (
        "The file is not a CSV file: it looks like a PDF document. "
        "Choose the format that matches it, or save it as CSV."
    )


def test_a_utf16_csv_is_still_read_as_text():
    data = "sku,name\nS1,Café\n".encode("utf-16")

    assert read_dataset(data, filename="t.csv", encoding="utf-16").dict == [
        {"sku": "S1", "name": "Café"}
    ]
