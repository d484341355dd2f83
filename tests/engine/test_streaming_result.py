"""import_data(row_consumer=...): a StreamingResult that keeps no rows, with stock's outcome."""

from __future__ import annotations

import csv
import datetime
import gc
import io
import tracemalloc

import pytest
from django.utils import timezone

from admin_bulk_upsert.engine.results import StreamingResult, each_of
from admin_bulk_upsert.files.reading import read_dataset
from admin_bulk_upsert.files.streaming import open_dataset
from admin_bulk_upsert.reports.failed_rows import (
    FailureReport,
    collect_failures,
    write_report,
)
from admin_bulk_upsert.reports.preview import PreviewBuilder, build_preview
from tests.engine.resources import TransactionResource
from tests.testapp.models import Account, Transaction

pytestmark = pytest.mark.django_db

HEADER = "account_number,datetime,amount,description\n"
FILE = (
    HEADER
    + "A1,2024-01-01 10:00:00,1.000,stored\n"  # update
    + "".join(f"A1,2024-01-02 10:{m:02d}:00,{m}.5,new {m}\n" for m in range(15))
    + "ZZ,2024-01-03 10:00:00,1,unknown account\n"  # error
    + "A1,2024-01-03 11:00:00,oops,bad amount\n"  # error
    + "A1,2024-01-03 12:00:00,2,"
    + "x" * 41
    + "\n"  # invalid: too long
    + "A1,2024-01-04 10:00:00,3,last\n"
).encode()


@pytest.fixture
def account():
    account = Account.objects.create(number="A1")
    Transaction.objects.create(
        account=account,
        datetime=timezone.make_aware(datetime.datetime(2024, 1, 1, 10)),
        amount="1.000",
        description="old",
    )
    return account


class CheckedTransactionResource(TransactionResource):
    class Meta(TransactionResource.Meta):
        clean_model_instances = True


class Rows:
    """A consumer that records what it is given."""

    def __init__(self):
        self.seen = []

    def __call__(self, row_result, failed):
        self.seen.append((row_result.import_type, failed and (failed.number, failed.values)))


def both(data=FILE, resource_class=None, **kwargs):
    """The stock Result of the whole file, then a StreamingResult of the stream."""
    kwargs.setdefault("dry_run", True)
    resource_class = resource_class or CheckedTransactionResource
    whole = resource_class().import_data(read_dataset(data, filename="t.csv"), **kwargs)
    rows = Rows()
    streamed = resource_class().import_data(
        open_dataset(io.BytesIO(data), filename="t.csv"), row_consumer=rows, **kwargs
    )
    return whole, streamed, rows


def test_totals_errors_and_rows_as_stock(account):
    whole, streamed, rows = both()

    assert isinstance(streamed, StreamingResult)
    assert streamed.totals == whole.totals
    assert streamed.total_rows == whole.total_rows == 20
    assert (streamed.has_errors(), streamed.has_validation_errors()) == (True, True)
    assert [import_type for import_type, _ in rows.seen] == [row.import_type for row in whole]
    failed = [f for _, f in rows.seen if f]
    assert [number for number, _ in failed] == sorted(
        [row.number for row in whole.error_rows] + [row.number for row in whole.invalid_rows]
    )
    assert failed[-1][1] == whole.invalid_rows[0].values


def test_keeps_one_row_per_import_type(account):
    _, streamed, _ = both()

    assert [row.import_type for row in streamed.rows] == ["update", "new", "error", "invalid"]
    assert streamed.invalid_rows == streamed.error_rows == []


def test_clean_file_has_no_errors(account):
    clean = b"".join(line + b"\n" for line in FILE.splitlines()[:17])

    whole, streamed, _ = both(clean)

    assert streamed.totals == whole.totals
    assert (streamed.has_errors(), streamed.has_validation_errors()) == (False, False)


@pytest.mark.django_db(transaction=True)
def test_an_error_rolls_the_import_back(account):
    _, streamed, _ = both(dry_run=False, use_transactions=True)

    assert streamed.has_errors()
    assert list(Transaction.objects.values_list("description", flat=True)) == ["old"]


@pytest.mark.django_db(transaction=True)
def test_invalid_rows_roll_back_when_asked(account):
    data = b"".join(line + b"\n" for line in FILE.splitlines()[:17]) + FILE.splitlines()[-2]

    _, streamed, _ = both(
        data, dry_run=False, use_transactions=True, rollback_on_validation_errors=True
    )

    assert streamed.has_validation_errors() and not streamed.has_errors()
    assert Transaction.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_clean_import_is_saved(account):
    clean = b"".join(line + b"\n" for line in FILE.splitlines()[:17])
    streamed = TransactionResource().import_data(
        open_dataset(io.BytesIO(clean), filename="t.csv"),
        use_transactions=True,
        row_consumer=Rows(),
    )

    assert streamed.totals["new"] == 15
    assert Transaction.objects.count() == 16


class RowByRowResource(CheckedTransactionResource):
    """Overrides import_row, so the stock row loop runs: it streams too."""

    def import_row(self, row, instance_loader, **kwargs):
        return super().import_row(row, instance_loader, **kwargs)


def test_stock_row_loop_streams_too(account):
    whole, streamed, rows = both(resource_class=RowByRowResource)

    assert isinstance(streamed, StreamingResult)
    assert streamed.totals == whole.totals
    assert [import_type for import_type, _ in rows.seen] == [row.import_type for row in whole]


def test_preview_and_report_as_from_the_whole_result(account):
    resource = CheckedTransactionResource()
    whole = resource.import_data(
        read_dataset(FILE, filename="t.csv"), dry_run=True, retain_instance_in_row_result=True
    )
    whole_csv = io.StringIO()
    expected = build_preview(whole, resource, max_rows=5, max_errors=2, csv_file=whole_csv)

    resource = CheckedTransactionResource()
    streamed_csv = io.StringIO()
    builder = PreviewBuilder(
        resource, resource.get_diff_headers(), max_rows=5, max_errors=2, csv_file=streamed_csv
    )
    streamed = resource.import_data(
        open_dataset(io.BytesIO(FILE), filename="t.csv"),
        dry_run=True,
        retain_instance_in_row_result=True,
        row_consumer=builder,
    )

    assert builder.finish(streamed).as_json() == expected.as_json()
    assert expected.hidden_errors == 1
    assert streamed_csv.getvalue() == whole_csv.getvalue()


def test_cli_failure_report_as_from_the_whole_result(account, tmp_path):
    resource = CheckedTransactionResource()
    dataset = read_dataset(FILE, filename="t.csv")
    whole = resource.import_data(dataset, dry_run=True)
    write_report(tmp_path / "whole.csv", collect_failures(whole, dataset, resource))

    resource = CheckedTransactionResource()
    streamed_dataset = open_dataset(io.BytesIO(FILE), filename="t.csv")
    report = FailureReport(tmp_path / "streamed.csv", resource, streamed_dataset.headers)
    resource.import_data(streamed_dataset, dry_run=True, row_consumer=each_of(report, Rows()))
    report.close()

    assert report.rows == 3
    streamed_lines = (tmp_path / "streamed.csv").read_bytes()
    assert streamed_lines == (tmp_path / "whole.csv").read_bytes()
    lines = list(csv.reader(io.StringIO(streamed_lines.decode("utf-8-sig"))))
    assert [line[:3] for line in lines[1:]] == [
        ["17", "account_number", "ZZ"],
        ["18", "amount", "oops"],
        ["19", "description", "x" * 41],
    ]


# --- memory -------------------------------------------------------------------


def _file(rows):
    lines = (
        f"A1,2024-{1 + i // 40000:02d}-{1 + i // 1440 % 27:02d} "
        f"{i // 60 % 24:02d}:{i % 60:02d}:00,{i}.5,row {i}\n"
        for i in range(rows)
    )
    return (HEADER + "".join(lines)).encode()


class ChunksOf100(TransactionResource):
    class Meta(TransactionResource.Meta):
        batch_size = 100


def _peak(data, streaming=True):
    """Python's peak allocation during a dry run of ``data``, past the file's bytes."""
    file = io.BytesIO(data)
    resource = ChunksOf100()
    # Both measures start from the same collector state: garbage an earlier test left, or
    # where the generations' counts stand, would otherwise land in one peak and not the other.
    gc.collect()
    tracemalloc.start()
    try:
        if streaming:
            dataset = open_dataset(file, filename="t.csv")
            resource.import_data(dataset, dry_run=True, row_consumer=lambda row, failed: None)
        else:
            resource.import_data(read_dataset(data, filename="t.csv"), dry_run=True)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("streaming", [True, False], ids=["streamed", "whole"])
def test_memory_does_not_grow_with_the_file(account, streaming):
    small, large = _peak(_file(1_000), streaming), _peak(_file(4_000), streaming)

    if streaming:
        assert large < small * 1.25, (small, large)
    else:  # the measure can tell: a whole file and Result grow with the rows
        assert large > small * 3, (small, large)
