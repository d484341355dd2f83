"""The admin with spreadsheets but without openpyxl, xlrd or odfpy: run by test_import_formats.py.

Not collected by a plain run (its name does not start with ``test_``): it needs a
process in which those packages cannot be imported, which
``test_import_formats.py`` starts, giving the XLSX file to upload in
``ADMIN_BULK_UPSERT_TEST_XLSX``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from import_export.formats.base_formats import DEFAULT_FORMATS

from admin_bulk_upsert.files.headers import read_header
from tests.admin.conftest import confirm, token_from, upload, url
from tests.adminapp.admin import site
from tests.testapp.models import Transaction


def _xlsx() -> bytes:
    return Path(os.environ["ADMIN_BULK_UPSERT_TEST_XLSX"]).read_bytes()


def _titles(formats):
    return [format_class().get_title() for format_class in formats]


def test_tablib_reads_no_spreadsheet_here():
    for name in ("openpyxl", "xlrd", "odf"):
        with pytest.raises(ImportError):
            __import__(name)
    assert not {"xlsx", "xls", "ods"} & set(_titles(DEFAULT_FORMATS))


def test_spreadsheets_are_offered_for_import_and_export_keeps_dies_formats():
    model_admin = site._registry[Transaction]
    assert _titles(model_admin.get_import_formats())[:5] == ["csv", "xls", "xlsx", "tsv", "ods"]
    die_export = [f for f in DEFAULT_FORMATS if f().can_export()]
    assert model_admin.get_export_formats() == die_export


def test_an_xlsx_upload_previews_and_imports(importer_client, accounts):
    page = importer_client.get(url("transaction", "import")).content.decode()
    assert ">xlsx</option>" in page
    titles = _titles(site._registry[Transaction].get_import_formats())

    response = upload(
        importer_client,
        SimpleUploadedFile("t.xlsx", _xlsx()),
        format=str(titles.index("xlsx")),
    )
    assert response.context["result"].totals["new"] == 1
    confirm(importer_client, token_from(response))

    assert Transaction.objects.get().description == "from excel"


def test_a_background_upload_checks_the_xlsx_header():
    assert read_header(_xlsx(), input_format="xlsx") == [
        "account",
        "datetime",
        "amount",
        "description",
    ]
