"""Spreadsheets read as a stream give, cell by cell, what the whole-file reader gives.

``open_dataset`` reads XLSX, XLS and ODS through calamine's row iterator
(:func:`~admin_bulk_upsert.files.spreadsheets.open_sheet`), converting a chunk
of rows at a time and restoring error cells as the rows pass. Each workbook of
:mod:`.test_spreadsheets` must come out as ``read_dataset`` reads it, on every
pass, and each bad file with the same error.
"""

from __future__ import annotations

import datetime
import io
import re

import pytest
import tablib
from django.core.files import File
from django.test import override_settings
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from admin_bulk_upsert.files import spreadsheets, streaming, xlsx_parts
from admin_bulk_upsert.files.reading import ReadError, read_dataset
from admin_bulk_upsert.files.spreadsheets import open_sheet, read_sheet
from admin_bulk_upsert.files.streaming import StreamedDataset, open_dataset
from tests.files.test_spreadsheets import (
    SHEET_CHOICES,
    SIMPLE,
    assert_same_cells,
    corrupt_sheet_workbook,
    every_kind_workbook,
    formulas_and_errors_workbook,
    integral_floats_workbook,
    merged_cells_workbook,
    not_at_a1_workbook,
    rewrite,
    several_sheets_workbook,
    trailing_formatting_workbook,
    truncated_workbook,
    workbook_bytes,
    xls_bytes,
    zip_bomb,
)

#: More rows than two chunks of SheetRows.
LONG_ROWS = 2600
#: Data rows (from 0) with an error cell in column D: around the chunk boundaries.
ERROR_ROWS = [5, 998, 999, 1000, 1998, 1999, 2000, 2500]


def long_workbook(first_row=1, first_column=1):
    """Numbers, dates, blanks, a blank row now and then, and error cells at ERROR_ROWS."""

    def build(workbook):
        sheet = workbook.active
        for offset, name in enumerate(("key", "when", "note", "more")):
            sheet.cell(first_row, first_column + offset, name)
        for number in range(LONG_ROWS):
            if number % 997 == 0:
                continue  # a blank row
            row = first_row + 1 + number
            sheet.cell(row, first_column, number)
            when = datetime.datetime(2024, 1, 1) + datetime.timedelta(hours=number)
            sheet.cell(row, first_column + 1, when)
            sheet.cell(row, first_column + 2, "x" * 40 if number % 7 == 0 else None)
            sheet.cell(row, first_column + 3, number * 0.5)

    def add_errors(xml):
        column = chr(ord("A") + first_column)  # the "when" column, before "note"
        for number in ERROR_ROWS:
            row = first_row + 1 + number
            xml, found = re.subn(
                rf'(<c r="{column}{row}"[^>]*>.*?</c>)',
                rf'\1<c r="{chr(ord(column) + 1)}{row}" t="e"><v>#REF!</v></c>',
                xml,
                count=1,
            )
            assert found == 1
        return xml

    return rewrite(workbook_bytes(build), "xl/worksheets/sheet1.xml", add_errors)


WORKBOOKS = {
    "every kind": lambda: (every_kind_workbook(), "xlsx"),
    "every kind, 1904": lambda: (every_kind_workbook(CALENDAR_MAC_1904), "xlsx"),
    "integral floats": lambda: (integral_floats_workbook(), "xlsx"),
    "formulas and error cells": lambda: (formulas_and_errors_workbook(), "xlsx"),
    "merged cells": lambda: (merged_cells_workbook(), "xlsx"),
    "trailing formatting and a gap": lambda: (trailing_formatting_workbook(), "xlsx"),
    "xlsm": lambda: (every_kind_workbook(), "xlsm"),
    "long, errors across chunks": lambda: (long_workbook(), "xlsx"),
    "xls": lambda: (xls_bytes(SIMPLE), "xls"),
    "ods": lambda: (tablib.Dataset(*SIMPLE[1:], headers=SIMPLE[0]).export("ods"), "ods"),
    **{
        f"active sheet: {name}": (lambda args=args: (several_sheets_workbook(*args), "xlsx"))
        for name, args in SHEET_CHOICES.items()
    },
}
#: Sheets whose data does not start at A1: read_dataset refuses them (the first
#: row or column has no name), but the sheet's rows must still be the same.
SHEETS = {
    **WORKBOOKS,
    "data from B2": lambda: (not_at_a1_workbook(), "xlsx"),
    "long, from C4": lambda: (long_workbook(4, 3), "xlsx"),
}


def as_rows(dataset):
    return [list(row) for row in dataset]


def to_width(rows, width):
    """Rows padded with blank cells to ``width``: a sheet read in windows gives each row to
    its last cell, the whole sheet to the sheet's last column."""
    return [list(row) + [None] * (width - len(row)) for row in rows]


@pytest.mark.parametrize("build", SHEETS.values(), ids=SHEETS.keys())
def test_sheet_rows_as_read_sheet_gives_them(build):
    data, fmt = build()
    whole = read_sheet(data, fmt)
    width = len(whole[0])

    sheet = open_sheet(io.BytesIO(data), fmt)

    assert_same_cells(to_width(sheet, width), whole)
    assert_same_cells(to_width(sheet, width), whole)  # a second pass, from the parsed sheet


@pytest.mark.parametrize("build", WORKBOOKS.values(), ids=WORKBOOKS.keys())
@pytest.mark.parametrize("ignore_blank_lines", [False, True])
def test_streamed_dataset_as_read_dataset_gives_it(build, ignore_blank_lines):
    data, fmt = build()
    with override_settings(IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES=ignore_blank_lines):
        whole = read_dataset(data, filename=f"t.{fmt}")

        dataset = open_dataset(io.BytesIO(data), filename=f"t.{fmt}")

        assert isinstance(dataset, StreamedDataset)
        assert dataset.headers == whole.headers
        assert len(dataset) == len(whole)
        assert_same_cells(as_rows(dataset), as_rows(whole))
        assert_same_cells(as_rows(dataset), as_rows(whole))


def test_the_long_sheet_has_what_it_is_meant_to_test():
    data, _fmt = WORKBOOKS["long, errors across chunks"]()
    rows = as_rows(read_dataset(data, filename="t.xlsx"))

    assert len(rows) > 2 * spreadsheets._CHUNK_ROWS
    notes = [row[2] for row in rows]
    assert [index for index, note in enumerate(notes) if note == "#REF!"] == ERROR_ROWS
    assert [None] * 4 in rows  # blank rows


def test_error_cells_split_across_blocks_of_the_xml(monkeypatch):
    data, _fmt = WORKBOOKS["long, errors across chunks"]()
    whole = read_sheet(data, "xlsx")
    monkeypatch.setattr(xlsx_parts, "_XML_BLOCK", 37)  # cuts inside every cell and tag

    assert_same_cells(to_width(open_sheet(io.BytesIO(data), "xlsx"), len(whole[0])), whole)
    assert_same_cells(read_sheet(data, "xlsx"), whole)


def test_the_file_is_parsed_once_for_both_passes(monkeypatch):
    opened = []

    def counting(file):
        opened.append(file)
        return open_sheet(file, "xlsx")

    monkeypatch.setitem(streaming._ROW_SOURCES, "xlsx", counting)

    dataset = open_dataset(io.BytesIO(every_kind_workbook()), filename="t.xlsx")
    list(dataset)
    list(dataset)

    assert len(opened) == 1


def test_a_self_closing_error_cell_takes_no_value_from_the_next_cell():
    def build(workbook):
        workbook.active.append(["a", "b"])
        workbook.active.append([None, 5])

    data = rewrite(
        workbook_bytes(build),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace('<c r="B2"', '<c r="A2" t="e"/><c r="B2"', 1),
    )

    assert read_sheet(data, "xlsx")[1] == [None, 5]
    assert as_rows(open_dataset(io.BytesIO(data), filename="t.xlsx")) == [[None, 5]]


# --- bad files ----------------------------------------------------------------


def old_excel_named_xlsx():
    return xls_bytes(SIMPLE)


BAD_FILES = {
    "truncated": (truncated_workbook, "t.xlsx"),
    "corrupt sheet": (corrupt_sheet_workbook, "t.xlsx"),
    "old Excel named .xlsx": (old_excel_named_xlsx, "t.xlsx"),
    "CSV named .xlsx": (lambda: b"a,b\n1,2\n", "t.xlsx"),
    "CSV named .ods": (lambda: b"a,b\n1,2\n", "t.ods"),
    "CSV named .xls": (lambda: b"a,b\n1,2\n", "t.xls"),
    "XLSX named .xls": (every_kind_workbook, "t.xls"),
    "data from B2": (not_at_a1_workbook, "t.xlsx"),
    "header only": (lambda: workbook_bytes(lambda wb: wb.active.append(["a"])), "t.xlsx"),
    "no cell at all": (lambda: workbook_bytes(lambda wb: None), "t.xlsx"),
    "duplicate headers": (
        lambda: workbook_bytes(lambda wb: (wb.active.append(["a", "a"]), wb.active.append([1]))),
        "t.xlsx",
    ),
}


def error_of(read, data, filename):
    with pytest.raises(ReadError) as info:
        read(data, filename)
    return info.value.message, info.value.code


def read_whole(data, filename):
    return read_dataset(data, filename=filename)


def read_streamed(data, filename):
    return open_dataset(io.BytesIO(data), filename=filename)


@pytest.mark.parametrize(("build", "filename"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_bad_files_give_the_same_error(build, filename):
    data = build()

    assert error_of(read_streamed, data, filename) == error_of(read_whole, data, filename)


def test_zip_bomb_gives_the_same_error(monkeypatch):
    monkeypatch.setattr(spreadsheets, "_RATIO_FLOOR", 1024**2)
    data = zip_bomb()

    message = error_of(read_streamed, data, "t.xlsx")

    assert message == error_of(read_whole, data, "t.xlsx")
    assert message[0].startswith("The workbook would unpack to 20 MB")


def test_a_workbook_on_disk_is_read_from_its_path(tmp_path):
    data, _fmt = WORKBOOKS["formulas and error cells"]()
    path = tmp_path / "t.xlsx"
    path.write_bytes(data)

    with path.open("rb") as file:
        assert spreadsheets._path_of(file) == str(path)
        dataset = open_dataset(file, filename="t.xlsx")

        assert_same_cells(as_rows(dataset), as_rows(read_dataset(data, filename="t.xlsx")))


@pytest.mark.parametrize("name", ["other.xlsx", "upload/t.xlsx"], ids=["another file", "none"])
def test_a_django_file_is_read_from_the_path_of_the_file_it_wraps(tmp_path, name):
    data = every_kind_workbook()
    (tmp_path / "other.xlsx").write_bytes(formulas_and_errors_workbook())
    (tmp_path / "t.xlsx").write_bytes(data)

    with (tmp_path / "t.xlsx").open("rb") as opened:
        file = File(opened, name=str(tmp_path / name))  # a storage name, or another file's

        assert spreadsheets._path_of(file) == str(tmp_path / "t.xlsx")
        dataset = open_dataset(file, filename="t.xlsx")

        assert_same_cells(as_rows(dataset), as_rows(read_dataset(data, filename="t.xlsx")))
