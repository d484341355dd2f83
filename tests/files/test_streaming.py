"""open_dataset(): the same rows and the same errors as read_dataset, read as a stream."""

from __future__ import annotations

import io

import pytest
import tablib
from django.test import override_settings

from admin_bulk_upsert.files import streaming
from admin_bulk_upsert.files.reading import ReadError, read_dataset
from admin_bulk_upsert.files.streaming import StreamedDataset, open_dataset

CSV_FILES = {
    "plain": b"a,b\n1,2\n3,4\n",
    "bom and spaced headers": b"\xef\xbb\xbf account , amount\nA1,1.5\n",
    "quoted line break, blank line, short rows": (
        b"account,datetime,amount,description\n"
        b'A1,2024-01-02 10:00:00,1.500,"two\nlines"\n'
        b"\n"
        b"A2,2024-01-03 10:00:00,2,short\n"
        b"A3,2024-01-04 10:00:00\n"
    ),
    "semicolons": b"account;amount\r\nA1;1,5\r\n",
    "comma in a semicolon header": b'"a;b",c\n1,2\n',
    "leading blank lines": b"\n\r\n a ,b\n1,2\n",
    "trailing empty columns": b"a,b,,\n1,2,,\n3,4, ,\n",
    "wide rows with blank extras": b"a,b\n1,2,,\n",
    "old Mac line ends": b"a,b\r1,2\r3,4\r",
    "no final line break": b"a,b\n1,2",
    "a header line longer than a block": b"a" * 70_000 + b",b\n1,2\n",
}

BAD_CSV_FILES = {
    "empty": b"",
    "whitespace only": b"\n\n  \r\n",
    "byte order mark only": b"\xef\xbb\xbf",
    "header only": b"account,amount\n",
    "blank header with data": b"a,,b\n1,2,3\n",
    "duplicate headers": b"a, a\n1,2\n",
    "empty header row": b",\n1,2\n",
    "an unnamed column with a value further down": b"a,\n1,\n2,x\n",
    "row wider than the header": b"a,b\n1,2\n1,2,3\n",
    "not UTF-8": b"a,b\n1,2\n3,caf\xe9\n",
    "not UTF-8 in a later block": b"a,b\n" + b"1,2\n" * 40_000 + b"3,caf\xe9\n",
    "not UTF-8 after a CSV error": b"a\n" + b'"' + b"x" * 200_000 + b'"\n\xff\n',
    "field over the CSV limit": b"a\n" + b'"' + b"x" * 200_000 + b'"\n',
    "binary": b"\x00\x01\x02\x03garbage\x00",
    "a spreadsheet": b"PK\x03\x04\x00\x00garbage",
}


def streamed(data, **kwargs):
    kwargs.setdefault("filename", "t.csv")
    return open_dataset(io.BytesIO(data), **kwargs)


def error_of(read, data, **kwargs):
    with pytest.raises(ReadError) as info:
        read(data, **kwargs)
    return info.value.message, info.value.code


@pytest.mark.parametrize("data", CSV_FILES.values(), ids=CSV_FILES.keys())
def test_same_rows_as_read_dataset(data):
    whole = read_dataset(data, filename="t.csv")

    dataset = streamed(data)

    assert isinstance(dataset, StreamedDataset)
    assert dataset.headers == whole.headers
    assert len(dataset) == dataset.height == whole.height
    assert list(dataset) == [list(row) for row in whole]
    assert list(dataset) == [list(row) for row in whole]  # a second pass reads it again


@pytest.mark.parametrize("data", BAD_CSV_FILES.values(), ids=BAD_CSV_FILES.keys())
def test_same_errors_as_read_dataset(data):
    # UTF-8 chosen: without a choice, a file that is not UTF-8 is read as Windows-1252.
    expected = error_of(read_dataset, data, filename="t.csv", encoding="utf-8")

    assert error_of(streamed, data, encoding="utf-8") == expected


@pytest.mark.parametrize(
    "data",
    [
        "name,city\ncafé,Zürich\n“quoted”,€\n".encode("cp1252"),
        b"name\nundefined \x81\x8d\x8f\x90\x9d bytes\n",
        "name,city\ncafé,Zürich\n".encode("utf-8-sig"),
    ],
    ids=["cp1252", "cp1252 undefined bytes", "utf-8 with BOM"],
)
def test_detects_the_encoding_as_read_dataset_does(data):
    whole = read_dataset(data, filename="t.csv")

    dataset = streamed(data)

    assert dataset.headers == whole.headers
    assert list(dataset) == [list(row) for row in whole]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("name,city\ncafé,Zürich\n".encode("cp1252"), "cp1252"),
        ("name\ncafé\n".encode("latin-1"), "latin-1"),
        ("name\ncafé\n".encode("utf-16"), "utf-16"),
        (b"\xef\xbb\xbfname\ncaf\xc3\xa9\n", "utf-8"),
    ],
)
def test_encodings(data, encoding):
    whole = read_dataset(data, filename="t.csv", encoding=encoding)

    dataset = streamed(data, encoding=encoding)

    assert dataset.headers == whole.headers
    assert list(dataset) == [list(row) for row in whole]


def test_unknown_encoding():
    expected = error_of(read_dataset, b"a\n1\n", filename="t.csv", encoding="klingon")

    assert error_of(streamed, b"a\n1\n", encoding="klingon") == expected


def test_tsv():
    dataset = streamed(b"a\tb\n1\t2,5\n", filename="t.tsv")

    assert list(dataset) == [["1", "2,5"]]


def test_a_file_that_cannot_seek_is_copied():
    class Pipe(io.RawIOBase):
        def __init__(self, data):
            self.source = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self.source.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    dataset = open_dataset(io.BufferedReader(Pipe(b"a,b\n1,2\n")), filename="t.csv")

    assert list(dataset) == [["1", "2"]]


def test_the_file_stays_open():
    file = io.BytesIO(b"a\n1\n")

    list(streamed_from(file))

    assert not file.closed


def streamed_from(file):
    return open_dataset(file, filename="t.csv")


def test_formats_without_a_stream_are_read_whole():
    dataset = open_dataset(io.BytesIO(b'[{"a": 1}]'), filename="t.json")

    assert isinstance(dataset, tablib.Dataset)
    assert dataset.dict == [{"a": 1}]


def test_to_dataset():
    dataset = streamed(b"a,b\n1,2\n").to_dataset()

    assert dataset.headers == ["a", "b"]
    assert dataset.dict == [{"a": "1", "b": "2"}]


# --- spreadsheets through a row source ----------------------------------------


@pytest.fixture
def sheet_source(monkeypatch):
    """A row source reading the test 'sheet' from Python literals, as calamine's gives rows."""

    def source(file):
        return eval(file.read().decode())  # noqa: S307 - the test's own bytes

    monkeypatch.setitem(streaming._ROW_SOURCES, "xlsx", source)
    return lambda *rows: io.BytesIO(repr(list(rows)).encode())


def test_sheet_rows_like_read_dataset(sheet_source):
    file = sheet_source(
        ["a", " b ", None],
        [1, None],
        [None, None, None],
        [2, "x", None, None],
        [None, None],
        [None],
    )

    dataset = open_dataset(file, filename="t.xlsx")

    assert dataset.headers == ["a", "b"]
    assert list(dataset) == [[1, None], [None, None], [2, "x"]]


@override_settings(IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES=True)
def test_sheet_blank_rows_dropped_under_die_setting(sheet_source):
    dataset = open_dataset(sheet_source(["a"], [None], [1], [None]), filename="t.xlsx")

    assert list(dataset) == [[1]]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([], "The file is empty."),
        ([["a"]], "The file has a header row but no data rows."),
        ([["a"], [None]], "The file has a header row but no data rows."),
        ([["a", "a"], [1, 2]], "Column “a” appears twice in the header row (columns 1 and 2)."),
    ],
)
def test_sheet_errors(sheet_source, rows, message):
    with pytest.raises(ReadError) as info:
        open_dataset(sheet_source(*rows), filename="t.xlsx")

    assert info.value.message == message
