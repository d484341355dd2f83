"""``manage.py bulk_import``: real files in tmp_path, imported into the test models."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
import tablib
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from import_export import fields
from import_export.widgets import ForeignKeyWidget

from admin_bulk_upsert import BulkUpsertResource
from admin_bulk_upsert.management.commands.bulk_import import ROWS_FAILED, _with_batch_size
from admin_bulk_upsert.management.progress_bar import ProgressBar
from tests.testapp.models import Account, Product, Transaction

pytestmark = pytest.mark.django_db

RESOURCE = "tests.test_bulk_import_command.TransactionResource"
HEADER = "account,datetime,amount,description\n"
#: A date or datetime no format reads is told Django's input formats, as examples.
DATE_MESSAGE = (
    "Enter a valid date. Formats accepted: 2024-01-31, 01/31/2024, 01/31/24, Jan 31 2024, "
    "Jan 31, 2024, 31 Jan 2024, 31 Jan, 2024, January 31 2024, January 31, 2024, "
    "31 January 2024, 31 January, 2024."
)
DATETIME_MESSAGE = (
    "Enter a valid date/time. Formats accepted: 2024-01-31 14:30:00, "
    "2024-01-31 14:30:00.000000, 2024-01-31 14:30, 01/31/2024 14:30:00, "
    "01/31/2024 14:30:00.000000, 01/31/2024 14:30, 01/31/24 14:30:00, "
    "01/31/24 14:30:00.000000, 01/31/24 14:30."
)


class TransactionResource(BulkUpsertResource):
    account = fields.Field(
        attribute="account", column_name="account", widget=ForeignKeyWidget(Account, "number")
    )

    class Meta:
        model = Transaction
        fields = ("account", "datetime", "amount", "description")
        import_id_fields = ("account", "datetime", "amount")


class NotABulkResource:
    pass


class NoSuperInitResource(TransactionResource):
    """DIE's documentation shows resources whose ``__init__`` skips ``super().__init__()``."""

    def __init__(self, **kwargs):
        self.note = "set in __init__"


def run(*args):
    """Run the command; return (stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("bulk_import", *map(str, args), stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def run_failing(*args):
    """Run the command expecting CommandError; return it and the stdout."""
    stdout = io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("bulk_import", *map(str, args), stdout=stdout, stderr=io.StringIO())
    return info.value, stdout.getvalue()


def write_csv(tmp_path, *lines, name="tx.csv"):
    path = tmp_path / name
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def read_report(path):
    with path.open(encoding="utf-8-sig", newline="") as stream:
        return list(csv.reader(stream))


def at(day, hour=10):
    return timezone.make_aware(datetime.datetime(2024, 1, day, hour))


@pytest.fixture
def accounts():
    return [Account.objects.create(number=number) for number in ("A1", "A2")]


def stored():
    return sorted(
        (t.account.number, t.datetime, t.amount, t.description)
        for t in Transaction.objects.select_related("account")
    )


# --- importing ---------------------------------------------------------------


def test_inserts_and_updates_by_composite_key(tmp_path, accounts):
    Transaction.objects.create(
        account=accounts[0], datetime=at(1), amount=Decimal("1.500"), description="old"
    )
    path = write_csv(
        tmp_path,
        "A1,2024-01-01 10:00:00,1.500,new text",
        "A1,2024-01-02 10:00:00,1.500,second",
        "A2,2024-01-01 10:00:00,1.500,other account",
    )

    stdout, _ = run(RESOURCE, path, "--no-progress")

    assert stored() == [
        ("A1", at(1), Decimal("1.500"), "new text"),
        ("A1", at(2), Decimal("1.500"), "second"),
        ("A2", at(1), Decimal("1.500"), "other account"),
    ]
    assert f"3 rows from {path} in " in stdout
    assert "2 new, 1 updated, 0 skipped, 0 invalid, 0 errors." in stdout
    assert "Import complete." in stdout
    assert not (tmp_path / "tx.csv.failed.csv").exists()


def test_xlsx_file(tmp_path, accounts):
    dataset = tablib.Dataset(
        ["A1", datetime.datetime(2024, 1, 3, 10), 2.5, "from excel"],
        headers=["account", "datetime", "amount", "description"],
    )
    path = tmp_path / "tx.xlsx"
    path.write_bytes(dataset.export("xlsx"))

    run(RESOURCE, path, "--no-progress")

    assert stored() == [("A1", at(3), Decimal("2.500"), "from excel")]


def test_dry_run_writes_nothing(tmp_path, accounts):
    path = write_csv(tmp_path, "A1,2024-01-01 10:00:00,1.500,x", "A2,2024-01-01 10:00:00,2,y")

    stdout, _ = run(RESOURCE, path, "--dry-run", "--no-progress")

    assert Transaction.objects.count() == 0
    assert "2 new, 0 updated" in stdout
    assert "Dry run: nothing was saved." in stdout
    assert "Import complete." not in stdout


def test_model_path_with_unique_fields(tmp_path, accounts):
    path = tmp_path / "accounts.csv"
    path.write_text("number,name\nA1,First\nA3,Third\n", encoding="utf-8")

    stdout, _ = run("testapp.Account", path, "--unique-fields", "number", "--no-progress")

    assert sorted(Account.objects.values_list("number", "name")) == [
        ("A1", "First"),
        ("A2", ""),
        ("A3", "Third"),
    ]
    assert "1 new, 1 updated" in stdout


def test_unique_fields_reach_a_resource_whose_init_skips_super(tmp_path, accounts):
    """The chosen key is set on the resource, not passed to an ``__init__`` that may drop it."""
    Transaction.objects.create(
        account=accounts[0], datetime=at(1), amount=Decimal("1.500"), description="old"
    )
    path = write_csv(tmp_path, "A1,2024-01-01 10:00:00,2,changed amount")

    stdout, _ = run(
        "tests.test_bulk_import_command.NoSuperInitResource",
        path,
        "--unique-fields",
        "account,datetime",
        "--no-progress",
    )

    assert stored() == [("A1", at(1), Decimal("2.000"), "changed amount")]
    assert "0 new, 1 updated" in stdout


def test_batch_size_keeps_the_resource_meta():
    resource_class = _with_batch_size(TransactionResource, 7)

    assert issubclass(resource_class, TransactionResource)
    assert resource_class._meta.batch_size == 7
    assert resource_class._meta.model is Transaction
    assert list(resource_class._meta.import_id_fields) == ["account", "datetime", "amount"]
    assert TransactionResource._meta.batch_size != 7


# --- failed rows -------------------------------------------------------------


def write_products(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text(
        "sku,code,released\nS1,c1,2024-01-02\nS2,c2,not a date\nS3,c3,\n", encoding="utf-8"
    )
    return path


def test_invalid_rows_are_reported_and_valid_rows_saved(tmp_path):
    path = write_products(tmp_path)

    error, stdout = run_failing("testapp.Product", path, "--unique-fields", "sku", "--no-progress")

    report = tmp_path / "products.csv.failed.csv"
    assert error.returncode == ROWS_FAILED
    assert str(error) == f"1 row failed; see {report}."
    assert "2 new, 0 updated, 0 skipped, 1 invalid, 0 errors." in stdout
    assert read_report(report) == [
        ["row", "column", "value", "message"],
        ["2", "released", "not a date", DATE_MESSAGE],
    ]
    assert sorted(Product.objects.values_list("sku", "released")) == [
        ("S1", datetime.date(2024, 1, 2)),
        ("S3", None),
    ]


def test_rollback_on_invalid_saves_nothing(tmp_path):
    path = write_products(tmp_path)

    error, stdout = run_failing(
        "testapp.Product", path, "--unique-fields", "sku", "--no-progress", "--rollback-on-invalid"
    )

    assert error.returncode == ROWS_FAILED
    assert "Some rows are invalid, so the import was rolled back: nothing was saved." in stdout
    assert Product.objects.count() == 0


def test_row_errors_roll_back_and_go_to_the_chosen_report(tmp_path, accounts):
    # An unknown account or a bad date in a key column is an error (not a validation error)
    # in DIE, and an error rolls the whole import back.
    path = write_csv(
        tmp_path,
        "A1,2024-01-01 10:00:00,1.500,fine",
        "NOPE,2024-01-01 10:00:00,1,no account",
        "A1,not a date,1,bad key",
    )
    report = tmp_path / "out" / "failed.csv"
    report.parent.mkdir()

    error, stdout = run_failing(RESOURCE, path, "--no-progress", "--report", report)

    assert error.returncode == ROWS_FAILED
    assert str(error) == f"2 rows failed; see {report}."
    assert "1 new, 0 updated, 0 skipped, 0 invalid, 2 errors." in stdout
    assert "Errors occurred, so the import was rolled back: nothing was saved." in stdout
    assert Transaction.objects.count() == 0
    assert read_report(report) == [
        ["row", "column", "value", "message"],
        ["2", "account", "NOPE", "No account has number “NOPE”."],
        ["3", "datetime", "not a date", DATETIME_MESSAGE],
    ]


# --- bad input ---------------------------------------------------------------


def test_unknown_model(tmp_path):
    path = write_csv(tmp_path, "A1,2024-01-01 10:00:00,1,x")

    error, _ = run_failing("testapp.Nope", path)

    assert error.returncode == 1
    assert str(error) == (
        "“testapp.Nope” is neither a model (app_label.ModelName) nor an importable "
        "resource class (dotted.path.ToResource)."
    )


def test_not_a_bulk_resource(tmp_path):
    path = write_csv(tmp_path, "A1,2024-01-01 10:00:00,1,x")

    error, _ = run_failing("tests.test_bulk_import_command.NotABulkResource", path)

    assert str(error) == (
        "“tests.test_bulk_import_command.NotABulkResource” is not a BulkUpsertResource subclass."
    )


def test_missing_file(tmp_path):
    error, _ = run_failing(RESOURCE, tmp_path / "missing.csv")

    assert str(error) == f"Cannot read {tmp_path / 'missing.csv'}: No such file or directory"


def test_bad_file(tmp_path):
    path = tmp_path / "tx.csv"
    path.write_bytes(b"account,datetime\n")

    error, _ = run_failing(RESOURCE, path)

    assert error.returncode == 1
    assert str(error) == f"{path}: The file has a header row but no data rows."


def test_bad_xlsx_file(tmp_path):
    data = tablib.Dataset(["A1"], headers=["account"]).export("xlsx")
    path = tmp_path / "tx.xlsx"
    path.write_bytes(data[: len(data) // 2])

    error, _ = run_failing(RESOURCE, path)

    assert str(error) == f"{path}: The file is not a valid XLSX workbook."
    assert Transaction.objects.count() == 0


def test_model_key_outside_allowed_fields(tmp_path, accounts):
    path = tmp_path / "accounts.csv"
    path.write_text("number,name\nA1,First\n", encoding="utf-8")

    error, stdout = run_failing("testapp.Account", path, "--unique-fields", "nope")

    assert error.returncode == 1
    assert "nope" in str(error)
    assert stdout == ""


def test_key_outside_allowed_fields(tmp_path, accounts):
    path = write_csv(tmp_path, "A1,2024-01-01 10:00:00,1,x")

    error, _ = run_failing(RESOURCE, path, "--unique-fields", "no_such_field")

    assert error.returncode == 1
    assert "no_such_field" in str(error)
    assert Transaction.objects.count() == 0


def test_missing_key_column(tmp_path, accounts):
    path = tmp_path / "tx.csv"
    path.write_text("account,datetime,description\nA1,2024-01-01 10:00:00,x\n", encoding="utf-8")

    error, _ = run_failing(RESOURCE, path, "--no-progress")

    assert error.returncode == 1
    assert str(error).startswith("The import failed: ")
    assert "amount" in str(error)
    assert Transaction.objects.count() == 0


# --- progress ----------------------------------------------------------------


def test_progress_lines_when_not_a_terminal(tmp_path, accounts):
    lines = [f"A1,2024-01-{day:02d} 10:00:00,1,x" for day in range(1, 6)]
    path = write_csv(tmp_path, *lines)

    _, stderr = run(RESOURCE, path, "--batch-size", "2")

    # One call per chunk of 2 rows, each a new tenth, so each gets a line; no \r in a log.
    assert "\r" not in stderr
    assert [line.split()[1] for line in stderr.splitlines()] == ["2/5", "4/5", "5/5"]


def test_no_progress(tmp_path, accounts):
    path = write_csv(tmp_path, "A1,2024-01-01 10:00:00,1,x")

    _, stderr = run(RESOURCE, path, "--no-progress")

    assert stderr == ""


def test_verbosity_zero_is_silent_but_still_fails(tmp_path, accounts):
    path = write_csv(tmp_path, "A1,2024-01-01 10:00:00,1,x")
    assert run(RESOURCE, path, "--verbosity", "0") == ("", "")

    bad = write_csv(tmp_path, "NOPE,2024-01-01 10:00:00,1,x", name="bad.csv")
    error, stdout = run_failing(RESOURCE, bad, "--verbosity", "0")
    assert error.returncode == ROWS_FAILED
    assert stdout == ""


def test_progress_bar_redraws_on_a_terminal():
    written = []
    bar = ProgressBar(written.append, interactive=True)

    bar(500, 1000)
    bar(1000, 1000)
    bar.finish()

    assert [text[:1] for text in written] == ["\r", "\r", "\n"]
    assert written[0].startswith("\r[###############---------------] 500/1,000 rows (50%)")


def test_progress_bar_prints_each_tenth_elsewhere():
    written = []
    bar = ProgressBar(written.append, interactive=False)

    for done in range(1, 101):
        bar(done, 100)
    bar.finish()

    assert len(written) == 11  # 0%, 10%, ..., 100%
    assert all(text.endswith("\n") for text in written)
    assert "100/100 rows (100%)" in written[-1]


# --- encodings -----------------------------------------------------------------


def cp1252_csv(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes((HEADER + "A1,2024-01-01 10:00:00,1.500,Café “5 €”\n").encode("cp1252"))
    return path


def test_a_windows_1252_file_is_detected(tmp_path, accounts):
    run(RESOURCE, cp1252_csv(tmp_path), "--no-progress")

    assert stored() == [("A1", at(1), Decimal("1.500"), "Café “5 €”")]


def test_encoding_option_is_used(tmp_path, accounts):
    run(RESOURCE, cp1252_csv(tmp_path), "--no-progress", "--encoding", "latin-1")

    assert stored()[0][3] == "Café “5 €”".encode("cp1252").decode("latin-1")


def test_a_chosen_encoding_that_does_not_fit_names_line_and_byte(tmp_path, accounts):
    error, _ = run_failing(RESOURCE, cp1252_csv(tmp_path), "--no-progress", "--encoding", "utf-8")

    assert str(error).endswith(
        "excel.csv: The file is not valid UTF-8 (line 2, byte 68). "
        "Choose the file’s encoding, or save it as “CSV UTF-8”."
    )
    assert Transaction.objects.count() == 0


def test_an_xlsx_cut_into_windows_imports_as_read_whole(tmp_path, accounts, monkeypatch):
    """A large sheet is read a few rows at a time (files.xlsx_windows): same rows saved,
    same row numbers in the failure report, as with the whole sheet read at once."""

    headers = ["account", "datetime", "amount", "description"]
    rows = [
        [
            f"A{number % 2 + 1}",
            datetime.datetime(2024, 1, 1 + number % 28, number % 24),
            number / 4,
            f"row {number}",
        ]
        for number in range(300)
    ]
    good = tmp_path / "good.xlsx"
    good.write_bytes(tablib.Dataset(*rows, headers=headers).export("xlsx"))
    rows[250][1] = "not a date"
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(tablib.Dataset(*rows, headers=headers).export("xlsx"))

    def imported():
        stdout, _ = run(RESOURCE, good, "--no-progress")
        saved = stored()
        Transaction.objects.all().delete()
        error, failed_stdout = run_failing(RESOURCE, bad, "--no-progress")
        report = tmp_path / "bad.xlsx.failed.csv"
        failed = (str(error), failed_stdout.split(": ", 1)[1], read_report(report))
        report.unlink()
        return stdout.split(": ", 1)[1], saved, failed

    whole = imported()
    from admin_bulk_upsert.files import xlsx_windows

    monkeypatch.setattr(xlsx_windows, "MIN_SHEET_BYTES", 0)
    monkeypatch.setattr(xlsx_windows, "MIN_WINDOWS", 0)
    monkeypatch.setattr(xlsx_windows, "WINDOW_BYTES", 1)
    monkeypatch.setattr(xlsx_windows, "PARTS_FACTOR", 0)
    monkeypatch.setattr(xlsx_windows, "_BLOCK", 512)
    cut = imported()

    assert cut == whole
    assert len(whole[1]) == 300
    assert whole[2][2][1][:3] == ["251", "datetime", "not a date"]


def test_a_file_not_of_its_format_says_so(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")

    error, _stdout = run_failing(RESOURCE, path, "--no-progress")

    assert str(error) == (
        f"{path}: The file is not a CSV file: it looks like a PDF document. "
        "Choose the format that matches it, or save it as CSV."
    )
