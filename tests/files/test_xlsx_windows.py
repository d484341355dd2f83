"""An XLSX sheet read a window of rows at a time gives what the whole sheet gives.

:class:`~admin_bulk_upsert.files.xlsx_windows.SheetWindows` cuts the sheet's
XML between rows and has calamine parse each piece; here the windows are made
tiny (a block of 64 bytes, a window as soon as one row is read) so that every
workbook of :mod:`.test_spreadsheets` is cut between nearly every two rows, and
each must come out cell for cell as the whole sheet does. Sheets that must not
be cut (rows without numbers, rows out of order, a comment) and broken ones
are built by rewriting a sheet's XML.
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.test import override_settings

from admin_bulk_upsert.files import large_sheets, xlsx_windows
from admin_bulk_upsert.files.reading import ReadError, read_dataset
from admin_bulk_upsert.files.spreadsheets import WindowedSheetRows, open_sheet, read_sheet
from admin_bulk_upsert.files.streaming import open_dataset
from admin_bulk_upsert.files.xlsx_parts import xlsx_parts
from admin_bulk_upsert.files.xlsx_windows import SheetWindows
from tests.files.test_sheet_streaming import LONG_ROWS, SHEETS, WORKBOOKS, as_rows, to_width
from tests.files.test_spreadsheets import (
    assert_same_cells,
    every_kind_workbook,
    rewrite,
    workbook_bytes,
)

XLSX_SHEETS = {name: build for name, build in SHEETS.items() if build()[1] in {"xlsx", "xlsm"}}
XLSX_WORKBOOKS = {name: build for name, build in WORKBOOKS.items() if name in XLSX_SHEETS}
SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture(autouse=True)
def cut_any_sheet(monkeypatch):
    """Sheets of any size cut, into any number of windows (the defaults read small ones whole)."""
    monkeypatch.setattr(xlsx_windows, "MIN_SHEET_BYTES", 0)
    monkeypatch.setattr(xlsx_windows, "MIN_WINDOWS", 0)


@pytest.fixture(params=["in one list", "a chunk at a time"])
def tiny_windows(request, monkeypatch):
    """Windows of about one row: the XML is inflated 64 bytes at a time, cut at once.

    Each window's rows are taken from calamine in one list, or a chunk at a
    time after skipping the rows above (as a large window's are).
    """
    monkeypatch.setattr(xlsx_windows, "_BLOCK", 64)
    monkeypatch.setattr(xlsx_windows, "WINDOW_BYTES", 1)
    monkeypatch.setattr(xlsx_windows, "PARTS_FACTOR", 0)
    iterated = 10**9 if request.param == "in one list" else 0
    monkeypatch.setattr(large_sheets, "_ITERATED_WINDOW_BYTES", iterated)
    monkeypatch.setattr(large_sheets, "_CHUNK_ROWS", 7)


def windows_of(data):
    sheet = open_sheet(io.BytesIO(data), "xlsx")
    assert isinstance(sheet, WindowedSheetRows)
    return list(sheet._windows)


@pytest.mark.parametrize("build", XLSX_SHEETS.values(), ids=XLSX_SHEETS.keys())
def test_each_sheet_read_in_windows_as_read_whole(build, tiny_windows):
    data, fmt = build()
    whole = read_sheet(data, fmt)
    width = len(whole[0])

    sheet = open_sheet(io.BytesIO(data), fmt)

    assert isinstance(sheet, WindowedSheetRows)
    assert_same_cells(to_width(sheet, width), whole)
    assert_same_cells(to_width(sheet, width), whole)  # the second pass


@pytest.mark.parametrize("build", XLSX_WORKBOOKS.values(), ids=XLSX_WORKBOOKS.keys())
@pytest.mark.parametrize("ignore_blank_lines", [False, True])
def test_streamed_dataset_in_windows_as_read_dataset(build, ignore_blank_lines, tiny_windows):
    data, fmt = build()
    with override_settings(IMPORT_EXPORT_IMPORT_IGNORE_BLANK_LINES=ignore_blank_lines):
        whole = read_dataset(data, filename=f"t.{fmt}")

        dataset = open_dataset(io.BytesIO(data), filename=f"t.{fmt}")

        assert dataset.headers == whole.headers
        assert len(dataset) == len(whole)
        assert_same_cells(as_rows(dataset), as_rows(whole))


def test_the_sheet_is_parsed_on_the_first_pass_only(tiny_windows, monkeypatch):
    """The first complete pass spills its rows to a temporary file; the next read them back."""
    data, _fmt = WORKBOOKS["long, errors across chunks"]()
    whole = read_sheet(data, "xlsx")
    parsed = []
    parse = WindowedSheetRows._parse
    monkeypatch.setattr(
        WindowedSheetRows, "_parse", lambda self, xml: parsed.append(xml) or parse(self, xml)
    )
    sheet = open_sheet(io.BytesIO(data), "xlsx")

    stopped = iter(sheet)
    first_rows = [next(stopped) for _ in range(100)]
    stopped.close()  # a pass stopped early spills nothing
    assert_same_cells(to_width(first_rows, 4), whole[:100])
    assert_same_cells(to_width(sheet, 4), whole)
    parses = len(parsed)
    assert_same_cells(to_width(sheet, 4), whole)
    assert_same_cells(to_width(sheet, 4), whole)

    assert parses > LONG_ROWS / 2
    assert len(parsed) == parses


def test_the_long_sheet_is_cut_between_nearly_all_rows(tiny_windows):
    data, _fmt = WORKBOOKS["long, errors across chunks"]()

    windows = windows_of(data)

    assert len(windows) > LONG_ROWS / 2
    assert all(window.startswith(b"<row ") and window.endswith(b"</row>") for window in windows)


def test_no_window_holds_much_more_than_the_window_size(monkeypatch):
    monkeypatch.setattr(xlsx_windows, "_BLOCK", 1000)
    monkeypatch.setattr(xlsx_windows, "WINDOW_BYTES", 5000)
    monkeypatch.setattr(xlsx_windows, "PARTS_FACTOR", 0)
    data, _fmt = WORKBOOKS["long, errors across chunks"]()

    sizes = [len(window) for window in windows_of(data)]

    assert len(sizes) > 20
    assert max(sizes) < 5000 + 1000 + 500  # a window, a block and a row


def with_shared_strings(data):
    """The workbook with its inline strings moved to ``xl/sharedStrings.xml``, as Excel
    writes them (openpyxl writes inline strings)."""
    strings: dict[str, int] = {}

    def shared(match):
        index = strings.setdefault(match.group(2), len(strings))
        return f'<c{match.group(1)} t="s"><v>{index}</v></c>'

    source = zipfile.ZipFile(io.BytesIO(data))
    sheet = re.sub(
        r'<c([^>]*?) t="inlineStr"><is><t>([^<]*)</t></is></c>',
        shared,
        source.read(SHEET).decode(),
    )
    items = "".join(f"<si><t>{text}</t></si>" for text in strings)
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            content = source.read(member.filename)
            if member.filename == SHEET:
                content = sheet.encode()
            target.writestr(member, content)
        target.writestr("xl/sharedStrings.xml", f'<sst xmlns="{main}">{items}</sst>')
    return buffer.getvalue()


def test_windows_are_twice_the_shared_strings_parsed_with_each(monkeypatch):
    """calamine parses the shared strings again for each window: fewer, larger windows."""
    monkeypatch.setattr(xlsx_windows, "_BLOCK", 1000)
    monkeypatch.setattr(xlsx_windows, "WINDOW_BYTES", 1)

    def build(workbook):
        workbook.active.append(["key", "text"])
        for number in range(3000):
            workbook.active.append([number, f"unique text {number}"])

    data = with_shared_strings(workbook_bytes(build))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        shared_strings = archive.getinfo("xl/sharedStrings.xml").file_size

    sizes = [len(window) for window in windows_of(data)]

    assert shared_strings > 50_000
    assert len(sizes) > 1
    assert min(sizes[:-1]) >= 2 * shared_strings
    whole = read_sheet(data, "xlsx")
    assert whole[-1] == [2999, "unique text 2999"]
    assert_same_cells(to_width(open_sheet(io.BytesIO(data), "xlsx"), 2), whole)


@pytest.mark.parametrize("build", XLSX_WORKBOOKS.values(), ids=XLSX_WORKBOOKS.keys())
def test_shared_strings_read_in_windows_as_read_whole(build, tiny_windows):
    data = with_shared_strings(build()[0])
    whole = read_sheet(data, "xlsx")

    assert_same_cells(to_width(open_sheet(io.BytesIO(data), "xlsx"), len(whole[0])), whole)


def test_small_sheets_and_few_windows_are_read_whole(monkeypatch):
    monkeypatch.setattr(xlsx_windows, "WINDOW_BYTES", 1000)
    data, _fmt = WORKBOOKS["long, errors across chunks"]()
    archive = zipfile.ZipFile(io.BytesIO(data))
    sheet_bytes = archive.getinfo(SHEET).file_size
    parts = xlsx_parts(archive).workbook_parts
    # the theme is among the workbook's parts: windows are at least twice them all
    assert "xl/theme/theme1.xml" in parts
    window = SheetWindows.open(archive, SHEET, parts)._window_bytes
    assert window == 2 * sum(
        archive.getinfo(name).file_size
        for name in {*parts, "[Content_Types].xml", "_rels/.rels"}
        if name in archive.namelist()
    )

    def read_as():
        return type(open_sheet(io.BytesIO(data), "xlsx")).__name__

    assert read_as() == "WindowedSheetRows"
    monkeypatch.setattr(xlsx_windows, "MIN_SHEET_BYTES", sheet_bytes + 1)
    assert read_as() == "SheetRows"
    monkeypatch.setattr(xlsx_windows, "MIN_SHEET_BYTES", sheet_bytes)
    monkeypatch.setattr(xlsx_windows, "MIN_WINDOWS", sheet_bytes // window)
    assert read_as() == "WindowedSheetRows"
    monkeypatch.setattr(xlsx_windows, "MIN_WINDOWS", sheet_bytes // window + 1)
    assert read_as() == "SheetRows"


def test_a_value_far_right_in_a_later_window_widens_the_table(tiny_windows):
    def build(workbook):
        workbook.active.append(["a", "b"])
        for number in range(50):
            workbook.active.append([number, number])
        workbook.active["E40"] = "far"

    data = workbook_bytes(build)

    assert error_of(data) == whole_error_of(data)
    assert error_of(data)[0].startswith("Columns 3, 4, 5 have no name")


def test_a_header_wider_than_the_first_window_rows(tiny_windows):
    def build(workbook):
        workbook.active.append(["a", "b", "c", "d"])
        for number in range(50):
            workbook.active.append([number])

    data = workbook_bytes(build)
    whole = read_dataset(data, filename="t.xlsx")

    dataset = open_dataset(io.BytesIO(data), filename="t.xlsx")

    assert dataset.headers == whole.headers == ["a", "b", "c", "d"]
    assert as_rows(dataset) == as_rows(whole)


# --- sheets that are not cut, or only in part -----------------------------------


def long_sheet_rewritten(change):
    data, _fmt = WORKBOOKS["long, errors across chunks"]()
    return rewrite(data, SHEET, change)


def without_row_numbers(xml):
    """Rows from the 100th on without ``r``: calamine numbers them after the previous one."""
    head, cut, rest = xml.partition('<row r="100"')
    return head + re.sub(r'<row r="\d+"', "<row", cut + rest)


def rows_out_of_order(xml):
    """The row holding the third data row moved to the end of the sheet."""
    row = re.search(r'<row r="4".*?</row>', xml).group(0)
    return xml.replace(row, "").replace("</sheetData>", row + "</sheetData>")


def with_a_comment(xml):
    return xml.replace('<row r="50"', '<!-- <row r="2"> --><row r="50"', 1)


def with_a_prefix(xml):
    """The sheet's elements written ``<x:row>`` under ``xmlns:x``, as some .NET writers do."""
    xml = re.sub(r"<(/?)(?!\?)(\w+)([\s>/])", r"<\1x:\2\3", xml)
    return xml.replace(' xmlns="', ' xmlns:x="', 1)


REWRITTEN = {
    "rows without numbers": without_row_numbers,
    "rows out of order": rows_out_of_order,
    "a comment among the rows": with_a_comment,
    "a namespace prefix": with_a_prefix,
}


@pytest.mark.parametrize("change", REWRITTEN.values(), ids=REWRITTEN.keys())
def test_sheets_not_cut_everywhere_read_as_whole(change, tiny_windows):
    data = long_sheet_rewritten(change)
    whole_sheet = read_sheet(data, "xlsx")
    whole = read_dataset(data, filename="t.xlsx")

    dataset = open_dataset(io.BytesIO(data), filename="t.xlsx")

    assert len(whole_sheet) > LONG_ROWS
    assert dataset.headers == whole.headers
    assert len(dataset) == len(whole)
    assert_same_cells(as_rows(dataset), as_rows(whole))
    assert_same_cells(as_rows(dataset), as_rows(whole))


def test_where_a_sheet_is_cut(tiny_windows):
    assert len(windows_of(long_sheet_rewritten(lambda xml: xml))) > 1000
    assert len(windows_of(long_sheet_rewritten(with_a_prefix))) > 1000
    # cut up to the first row without a number, then one window
    assert len(windows_of(long_sheet_rewritten(without_row_numbers))) in range(90, 100)
    assert len(windows_of(long_sheet_rewritten(with_a_comment))) in range(40, 50)


def test_rows_out_of_order_are_read_whole_after_the_first_pass(tiny_windows):
    data = long_sheet_rewritten(rows_out_of_order)
    sheet = open_sheet(io.BytesIO(data), "xlsx")

    with pytest.raises(xlsx_windows.RowsOutOfOrder):
        list(sheet)

    assert_same_cells(list(sheet), read_sheet(data, "xlsx"))


# --- broken sheets ----------------------------------------------------------------


def error_of(data):
    with pytest.raises(ReadError) as info:
        open_dataset(io.BytesIO(data), filename="t.xlsx")
    return info.value.message, info.value.code


def whole_error_of(data):
    with pytest.raises(ReadError) as info:
        read_dataset(data, filename="t.xlsx")
    return info.value.message, info.value.code


BROKEN = {
    "cut after a row": lambda xml: xml[: xml.index('<row r="2000"')],
    "cut inside a cell": lambda xml: xml[: xml.index('<row r="2000"') + 20],
    "an unknown cell type far down": lambda xml: xml.replace(
        '<c r="A2000" t="n"', '<c r="A2000" t="zz"', 1
    ),
    "a number that is not far down": lambda xml: xml.replace(
        '<c r="A2000" t="n"><v>', '<c r="A2000" t="n"><v>x', 1
    ),
}


@pytest.mark.parametrize("change", BROKEN.values(), ids=BROKEN.keys())
def test_a_sheet_broken_far_down_is_refused_as_whole(change, tiny_windows):
    data = long_sheet_rewritten(change)

    assert error_of(data) == whole_error_of(data)
    assert error_of(data)[0] == "The file is not a valid XLSX workbook."


def test_a_sheet_with_no_rows_is_read_whole():
    data = rewrite(
        every_kind_workbook(),
        SHEET,
        lambda xml: re.sub(r"<sheetData>.*</sheetData>", "<sheetData/>", xml, flags=re.S),
    )

    assert not isinstance(open_sheet(io.BytesIO(data), "xlsx"), WindowedSheetRows)
    assert error_of(data) == whole_error_of(data)


def test_a_window_is_the_workbook_with_its_sheet_cut():
    """Each window's workbook holds the workbook's parts (theme included) and the sheet's
    head, a run of its rows and the closing tags; not the other sheets."""
    data, _fmt = SHEETS["active sheet: third"]()
    archive = zipfile.ZipFile(io.BytesIO(data))
    parts = xlsx_parts(archive)
    sheet = parts.sheet_paths[parts.active]
    windows = SheetWindows.open(archive, sheet, parts.workbook_parts)
    rows = next(iter(windows))

    window = zipfile.ZipFile(windows.workbook(rows))

    others = {path for path in parts.sheet_paths if path != sheet}
    assert len(others) == 2
    expected = set(archive.namelist()) - others - {"docProps/app.xml", "docProps/core.xml"}
    assert set(window.namelist()) == expected
    xml = window.read(sheet)
    original = archive.read(sheet)
    head = original[: original.index(b"<sheetData>") + len(b"<sheetData>")]
    assert xml == head + rows + b"</sheetData></worksheet>"
    assert all(window.getinfo(name).compress_type == zipfile.ZIP_STORED for name in expected)
