"""A file that cannot be imported gets a form error; nothing is staged or written."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.admin.conftest import HEADER, csv_file, transaction_line, upload
from tests.testapp.models import Transaction


def bad_upload(client, content, name="transactions.csv", **extra):
    extra.setdefault("encoding", "utf-8")
    response = upload(client, SimpleUploadedFile(name, content), **extra)
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert "result" not in response.context
    return response.context["form"].errors


def assert_nothing_staged_or_written(staging_dir):
    assert Transaction.objects.count() == 0
    assert not staging_dir.exists() or not any(staging_dir.iterdir())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "file is empty."),
        (HEADER.encode() + b"\n", "No valid data to import."),
        (
            "account,datetime,amount,description\nA1,2024-01-01,1,caf\xe9\n".encode("latin-1"),
            "not valid UTF-8",
        ),
        (bytes(range(256)) * 4, "The file is not a CSV file: it contains binary data."),
        (
            b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
            "The file is not a CSV file: it looks like an image",
        ),
        (
            b"PK\x03\x04" + b"\x00" * 200,
            "The file is not a CSV file: it looks like an Excel workbook",
        ),
        (b"%PDF-1.7\n1 0 obj\n", "The file is not a CSV file: it looks like a PDF document"),
    ],
    ids=["empty", "header-only", "wrong-encoding", "binary", "image", "workbook", "pdf"],
)
def test_unreadable_file_is_refused_with_a_reason(
    importer_client, accounts, admin_site_urls, content, expected
):
    errors = bad_upload(importer_client, content)

    assert list(errors) == ["import_file"]
    assert expected in errors["import_file"][0]
    assert_nothing_staged_or_written(admin_site_urls)


def test_file_over_the_size_limit_is_refused(settings, importer_client, accounts, admin_site_urls):
    settings.ADMIN_BULK_UPSERT = {**settings.ADMIN_BULK_UPSERT, "MAX_UPLOAD_SIZE": 100}
    lines = [transaction_line("A1", day, "1.000", "x" * 20) for day in range(1, 5)]

    response = upload(importer_client, csv_file(lines))

    errors = response.context["form"].errors
    assert errors["import_file"] == [
        "The file is 236\xa0bytes; the largest file accepted is 100\xa0bytes."
    ]
    assert_nothing_staged_or_written(admin_site_urls)


def test_no_key_column_chosen_is_refused(importer_client, accounts, admin_site_urls):
    # The rendered form sends import_id_fields_shown: the user unchecked every key column.
    response = upload(
        importer_client,
        csv_file([transaction_line("A1", 1, "1.000")]),
        import_id_fields=[],
        import_id_fields_shown="True",
    )

    assert response.context["form"].errors["import_id_fields"] == ["This field is required."]
    assert_nothing_staged_or_written(admin_site_urls)


def format_index(title):
    from import_export.formats.base_formats import DEFAULT_FORMATS

    titles = [f().get_title() for f in DEFAULT_FORMATS if f().can_import()]
    return str(titles.index(title))


def test_a_csv_chosen_as_xlsx_is_told_to_choose_csv(importer_client, accounts, admin_site_urls):
    errors = bad_upload(
        importer_client,
        csv_file([transaction_line("A1", 1, "1.000")]).read(),
        name="transactions.xlsx",
        format=format_index("xlsx"),
    )

    assert errors["import_file"] == [
        "The file is not a valid XLSX workbook. "
        "It looks like a text (CSV) file: choose CSV as its format."
    ]
    assert_nothing_staged_or_written(admin_site_urls)
