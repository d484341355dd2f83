"""The import formats the admin offers: what the plugin reads, whatever tablib reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import tablib
from import_export.formats import base_formats

from admin_bulk_upsert.files import formats
from admin_bulk_upsert.files.formats import import_formats

ROOT = Path(__file__).resolve().parents[2]


class _Unreadable:
    """A DIE format whose tablib module is missing, as DIE sees it without its package."""

    @classmethod
    def is_available(cls):
        return False

    def can_import(self):
        raise tablib.UnsupportedFormat("not installed")


class UnreadableXLSX(_Unreadable, base_formats.XLSX):
    pass


class UnreadableHTML(_Unreadable, base_formats.HTML):
    pass


def test_formats_dies_readers_read_are_kept_as_configured():
    assert import_formats(base_formats.DEFAULT_FORMATS) == list(base_formats.DEFAULT_FORMATS)
    configured = [base_formats.XLSX, base_formats.CSV]
    assert import_formats(configured) == configured


def test_a_format_tablib_cannot_read_is_read_by_the_plugin_or_left_out():
    offered = import_formats([base_formats.CSV, UnreadableXLSX, UnreadableHTML])

    assert offered == [base_formats.CSV, formats.XLSX]
    xlsx = offered[1]()
    assert (xlsx.get_title(), xlsx.get_extension(), xlsx.can_import()) == ("xlsx", "xlsx", True)
    assert xlsx.is_binary()


def test_the_plugins_format_reads_with_the_plugins_reader():
    dataset = tablib.Dataset(["A1", 12], headers=["account", "amount"])
    read = formats.XLSX().create_dataset(dataset.export("xlsx"))
    assert (read.headers, read[0]) == (["account", "amount"], ("A1", 12))
    assert formats.CSV().create_dataset("sku,name\n1,é\n").dict == [{"sku": "1", "name": "é"}]
    latin = formats.CSV(encoding="latin-1").create_dataset("sku,name\n1,é\n".encode("latin-1"))
    assert latin.dict == [{"sku": "1", "name": "é"}]


def test_spreadsheets_import_in_the_admin_without_openpyxl(tmp_path):
    """The admin offers XLSX, XLS and ODS and imports an XLSX upload with none of tablib's
    spreadsheet packages importable (tests/admin/openpyxl_absent.py, in a new process)."""
    dataset = tablib.Dataset(headers=["account", "datetime", "amount", "description"])
    dataset.append(["A1", "2024-01-01 12:00:00", "1.500", "from excel"])
    xlsx = tmp_path / "t.xlsx"
    xlsx.write_bytes(dataset.export("xlsx"))
    code = (
        "import sys\n"
        "for name in ('openpyxl', 'xlrd', 'odf'):\n"
        "    sys.modules[name] = None\n"
        "import pytest\n"
        "sys.exit(pytest.main(sys.argv[1:]))\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/admin/openpyxl_absent.py",
        ],
        cwd=ROOT,
        env={**os.environ, "ADMIN_BULK_UPSERT_TEST_XLSX": str(xlsx)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout, result.stdout
