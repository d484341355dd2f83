"""Spreadsheets read with calamine give, cell by cell, what the previous readers gave.

XLSX is compared with openpyxl's read-only mode (values only, cached formula
values), which read XLSX before; XLS and ODS with DIE's own readers (tablib on
xlrd and odfpy), up to the differences the module docstring lists on purpose.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile

import openpyxl
import pytest
import tablib
from import_export.formats.base_formats import ODS, XLS
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from admin_bulk_upsert.files import spreadsheets
from admin_bulk_upsert.files.reading import ReadError, read_dataset
from admin_bulk_upsert.files.spreadsheets import read_sheet

WHEN = datetime.datetime(2024, 1, 2, 10, 30, 15, 250000)
EVERY_KIND = [
    ["int", "float", "date", "datetime", "time", "duration", "bool", "text", "blank"],
    [12, 12.5, datetime.date(2024, 3, 4), WHEN, datetime.time(10, 30), None, True, "é€“”", None],
    [-3, 3.0, datetime.date(1900, 1, 1), datetime.datetime(1900, 2, 28), None, None, False, "", ""],
    [0, -0.0, datetime.date(1900, 3, 1), datetime.datetime(1904, 1, 1, 12), None, None, None, "x"],
    [2**53, 1e20, datetime.date(9999, 12, 31), None, None, None, None, "long " * 6000, None],
    [123456789012345, 0.1 + 0.2, None, None, None, None, None, "𝔘nicode ✓ 中文", None],
]


def openpyxl_rows(data):
    """The previous XLSX reader: openpyxl read-only, values only, the active sheet."""
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return [list(row) for row in workbook.active.iter_rows(values_only=True)]
    finally:
        workbook.close()


def grid(rows):
    """Rows padded to one width, without trailing blank rows: what both readers agree to mean."""
    width = max((len(row) for row in rows), default=0)
    rows = [list(row) + [None] * (width - len(row)) for row in rows]
    while rows and all(value is None for value in rows[-1]):
        rows.pop()
    while width and all(row[width - 1] is None for row in rows):
        width -= 1
        rows = [row[:width] for row in rows]
    return rows


def assert_same_cells(ours, theirs):
    assert len(ours) == len(theirs)
    for number, (mine, old) in enumerate(zip(ours, theirs, strict=True), 1):
        for column, (a, b) in enumerate(zip(mine, old, strict=True), 1):
            assert (type(a), a) == (type(b), b), f"row {number}, column {column}"


def workbook_bytes(build, *, epoch=None):
    workbook = openpyxl.Workbook()
    if epoch is not None:
        workbook.epoch = epoch
    build(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def every_kind(workbook):
    sheet = workbook.active
    for row in EVERY_KIND:
        sheet.append(row)
    sheet["F2"] = datetime.timedelta(hours=30, minutes=5)
    sheet["F3"] = datetime.timedelta(seconds=1.5)


def rewrite(data, part, change):
    """``data`` with the zip member ``part`` passed through ``change`` (str -> str)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            content = source.read(member.filename)
            if member.filename == part:
                content = change(content.decode()).encode()
            target.writestr(member, content)
    return buffer.getvalue()


# --- XLSX against openpyxl -----------------------------------------------------


def every_kind_workbook(epoch=None):
    if epoch is None:
        return workbook_bytes(every_kind)
    # Dates before 1904 are negative serials there, which Excel cannot show:
    # openpyxl made dates of them, calamine times (a difference left as is).
    return workbook_bytes(
        lambda workbook: (every_kind(workbook), _drop_1900_dates(workbook.active)), epoch=epoch
    )


@pytest.mark.parametrize("epoch", [None, CALENDAR_MAC_1904], ids=["1900", "1904"])
def test_every_cell_kind_as_openpyxl_read_it(epoch):
    data = every_kind_workbook(epoch)

    ours = read_sheet(data, "xlsx")

    assert_same_cells(grid(ours), grid(openpyxl_rows(data)))
    assert ours[1][:4] == [
        12,
        12.5,
        datetime.datetime(2024, 3, 4),
        WHEN.replace(microsecond=250000),
    ]
    assert ours[3][1] == 0 and type(ours[3][1]) is int  # -0.0 is written "-0": openpyxl's int


def _drop_1900_dates(sheet):
    for row in sheet.iter_rows():
        for cell in row:
            if isinstance(cell.value, datetime.date) and cell.value.year < 1904:
                cell.value = None


def test_1904_dates_are_shifted_by_calamine():
    data = workbook_bytes(every_kind, epoch=CALENDAR_MAC_1904)
    assert b'date1904="1"' in zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml")

    assert read_sheet(data, "xlsx")[1][2] == datetime.datetime(2024, 3, 4)


def integral_floats_workbook():
    def build(workbook):
        workbook.active.append(["a", "b", "c", "d"])
        workbook.active.append([1.0, 1e15, 1e16, 12345678.0])

    return workbook_bytes(build)


def test_integral_floats_as_stored_in_the_xml():
    data = integral_floats_workbook()
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    # openpyxl writes integral floats without ".0" (and returns int), and 1e16 with an exponent.
    assert "<v>1</v>" in xml and "<v>1e+16</v>" in xml

    assert_same_cells(read_sheet(data, "xlsx"), openpyxl_rows(data))


def formulas_and_errors_workbook():
    def build(workbook):
        sheet = workbook.active
        sheet.append(["sum", "text", "error", "ref", "uncached"])
        sheet.append([1, "x", 2, 3, "=A2+1"])

    def cache(xml):
        xml = re.sub(r'<c r="A2"[^>]*>.*?</c>', '<c r="A2"><f>1+2</f><v>3</v></c>', xml)
        xml = re.sub(
            r'<c r="B2"[^>]*>.*?</c>', '<c r="B2" t="str"><f>"a"&amp;"b"</f><v>ab</v></c>', xml
        )
        xml = re.sub(r'<c r="C2"[^>]*>.*?</c>', '<c r="C2" t="e"><f>1/0</f><v>#DIV/0!</v></c>', xml)
        return re.sub(r'<c r="D2"[^>]*>.*?</c>', '<c t="e" r="D2"><v>#N/A</v></c>', xml)

    return rewrite(workbook_bytes(build), "xl/worksheets/sheet1.xml", cache)


def test_cached_formula_values_and_error_cells():
    data = formulas_and_errors_workbook()

    ours = read_sheet(data, "xlsx")

    assert_same_cells(ours, openpyxl_rows(data))
    assert ours[1] == [3, "ab", "#DIV/0!", "#N/A", None]


def merged_cells_workbook():
    def build(workbook):
        sheet = workbook.active
        sheet.append(["a", "b", "c"])
        sheet.append(["merged", None, 1])
        sheet.append([None, None, 2])
        sheet.merge_cells("A2:B3")

    return workbook_bytes(build)


def test_merged_cells_keep_their_value_in_the_first_cell_only():
    data = merged_cells_workbook()

    assert_same_cells(grid(read_sheet(data, "xlsx")), grid(openpyxl_rows(data)))


def trailing_formatting_workbook():
    def build(workbook):
        sheet = workbook.active
        sheet.append(["a", "b"])
        sheet.append([1, 2])
        sheet.append([None, None])
        sheet.append([3, None])
        sheet["F40"].number_format = "0.00"  # formatted, never typed in: no value
        sheet["H2"].font = openpyxl.styles.Font(bold=True)

    return workbook_bytes(build)


def test_trailing_formatted_rows_and_columns_and_a_gap():
    data = trailing_formatting_workbook()

    assert_same_cells(grid(read_sheet(data, "xlsx")), grid(openpyxl_rows(data)))
    dataset = read_dataset(data, filename="t.xlsx")
    assert dataset.headers == ["a", "b"]
    assert [list(row) for row in dataset] == [[1, 2], [None, None], [3, None]]


def not_at_a1_workbook():
    def build(workbook):
        workbook.active["B2"] = "name"
        workbook.active["B3"] = "x"

    return workbook_bytes(build)


def test_data_not_starting_at_a1_is_read_from_a1():
    data = not_at_a1_workbook()

    assert read_sheet(data, "xlsx") == openpyxl_rows(data)
    assert read_error(data, filename="t.xlsx") == (
        "The first row must hold the column names, but it is empty."
    )


def several_sheets(active):
    def build(workbook):
        workbook.active.title = "first"
        workbook.active.append(["sheet"])
        workbook.active.append(["first"])
        for name in ("second", "third"):
            sheet = workbook.create_sheet(name)
            sheet.append(["sheet"])
            sheet.append([name])
        workbook.active = active

    return workbook_bytes(build)


SHEET_CHOICES = {
    "first": (0, False),
    "third": (2, False),
    "second-after-a-hidden-one": (1, True),
    "hidden-but-active": (0, True),
}


def several_sheets_workbook(active, hide_first):
    data = several_sheets(active)
    if hide_first:  # openpyxl refuses to save a hidden active sheet: hide it in the XML
        data = rewrite(
            data,
            "xl/workbook.xml",
            lambda xml: re.sub(
                r'(<sheet name="first"[^>]*) state="visible"', r'\1 state="hidden"', xml
            ),
        )
    return data


@pytest.mark.parametrize(("active", "hidden"), SHEET_CHOICES.values(), ids=SHEET_CHOICES.keys())
def test_the_active_sheet_is_read_as_openpyxl_read_it(active, hidden):
    data = several_sheets_workbook(active, hidden)

    assert read_sheet(data, "xlsx") == openpyxl_rows(data)


def test_xlsm_is_read_like_xlsx():
    data = workbook_bytes(every_kind)

    assert read_dataset(data, filename="macros.xlsm").dict == read_dataset(data).dict


# --- bad and hostile files -----------------------------------------------------


def read_error(data, **kwargs):
    with pytest.raises(ReadError) as info:
        read_dataset(data, **kwargs)
    return info.value.message


def truncated_workbook():
    data = workbook_bytes(every_kind)
    return data[: len(data) // 2]


def corrupt_sheet_workbook():
    return rewrite(
        workbook_bytes(every_kind), "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2]
    )


def zip_bomb():
    """20 MB of spaces in a zip: refused when the floor is lowered to 1 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * (20 * 1024**2) + b">")
    return buffer.getvalue()


def test_truncated_workbook():
    assert read_error(truncated_workbook(), filename="t.xlsx") == (
        "The file is not a valid XLSX workbook."
    )


def test_workbook_with_a_corrupt_sheet():
    data = corrupt_sheet_workbook()

    assert read_error(data, filename="t.xlsx") == "The file is not a valid XLSX workbook."


def test_zip_bomb_is_refused_before_it_is_inflated(monkeypatch):
    monkeypatch.setattr(spreadsheets, "_RATIO_FLOOR", 1024**2)

    message = read_error(zip_bomb(), filename="t.xlsx")

    assert message == (
        "The workbook would unpack to 20 MB, more than can be read safely. "
        "Split it into smaller files or save it as CSV."
    )


def test_ods_that_is_not_a_zip():
    assert read_error(b"a,b\n1,2\n", filename="t.ods") == (
        "The file is not a valid ODS spreadsheet. "
        "It looks like a text (CSV) file: choose CSV as its format."
    )


def test_xls_that_is_not_an_ole_file():
    assert read_error(b"a,b\n1,2\n", filename="t.xls") == (
        "The file is not a valid XLS workbook. "
        "It looks like a text (CSV) file: choose CSV as its format."
    )


def test_old_excel_recognised_without_a_name():
    data = tablib.Dataset([1], headers=["a"]).export("xls")

    assert read_dataset(data).dict == [{"a": 1}]


# --- XLS and ODS against DIE's readers ----------------------------------------


def xls_bytes(rows):
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("first")
    date_style = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm:ss")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, datetime.date):
                sheet.write(r, c, value, date_style)
            elif value is not None:
                sheet.write(r, c, value)
    book.add_sheet("second").write(0, 0, "not read")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def normalised(value, *, date_as_datetime):
    """What DIE's XLS/ODS readers give, in our shape: the deliberate differences, undone."""
    if value == "":
        return None  # tablib: "" for an empty cell; openpyxl and we: None
    if type(value) is float and value.is_integer():
        return int(value)  # xlrd and odfpy: every number a float
    if type(value) is datetime.date and date_as_datetime:
        return datetime.datetime.combine(value, datetime.time())
    return value


SIMPLE = [
    ["int", "float", "when", "text", "blank", "flag"],
    [12, 12.5, datetime.datetime(2024, 3, 4, 5, 6, 7), "é€“”", None, True],
    [-3, 0.25, datetime.date(1900, 3, 1), "x", None, False],
]


def test_xls_as_die_read_it_but_integers_booleans_and_dates_typed():
    import xlrd

    data = xls_bytes(SIMPLE)
    die = XLS().create_dataset(data)
    theirs = [die.headers] + [list(row) for row in die]

    ours = read_sheet(data, "xls")

    def expected_cell(index, column, value):
        if index and column == 5:
            return bool(value)  # xlrd gives 1 for a boolean cell
        if index and column == 2:
            return xlrd.xldate_as_datetime(value, 0)  # DIE gave the date's serial number
        return normalised(value, date_as_datetime=True)

    expected = [
        [expected_cell(index, column, value) for column, value in enumerate(row)]
        for index, row in enumerate(theirs)
    ]
    assert_same_cells(grid(ours), grid(expected))
    assert ours[1][5] is True


def test_ods_as_die_read_it_but_integers_typed():
    data = tablib.Dataset(*SIMPLE[1:], headers=SIMPLE[0]).export("ods")
    die = ODS().create_dataset(data)
    theirs = [die.headers] + [list(row) for row in die]

    ours = read_sheet(data, "ods")

    expected = [[normalised(value, date_as_datetime=False) for value in row] for row in theirs]
    assert_same_cells(grid(ours), grid(expected))
    assert ours[2][2] == datetime.date(1900, 3, 1)  # ODS dates stay dates, as tablib gave them


def test_xls_and_ods_through_read_dataset():
    for fmt in ("xls", "ods"):
        data = tablib.Dataset(*SIMPLE[1:], headers=SIMPLE[0]).export(fmt)

        dataset = read_dataset(data, filename=f"t.{fmt}")

        assert dataset.headers == SIMPLE[0]
        assert dataset.dict[0]["int"] == 12 and dataset.dict[0]["text"] == "é€“”"
