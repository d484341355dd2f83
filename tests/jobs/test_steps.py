"""A job's two steps on the immediate backend: preview, confirm, import, and their refusals."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import tablib
from django.contrib.auth.models import User
from django.core import signing

from admin_bulk_upsert.jobs import expiry, transitions
from admin_bulk_upsert.jobs.compat import DUMMY_BACKEND, IMMEDIATE_BACKEND
from admin_bulk_upsert.jobs.models import ImportJob
from tests.files.test_spreadsheets import rewrite
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "jobs"), "BATCH_SIZE": 2}
    return tmp_path / "jobs"


def _csv(*rows):
    return ("sku,name,price\n" + "".join(f"{r}\n" for r in rows)).encode()


def _start(user, data, **kwargs):
    kwargs = {"file_name": "products.csv", "input_format": "csv", **kwargs}
    return transitions.create_job(
        data, user=user, model_label="testapp.Product", unique_fields=["sku"], **kwargs
    )


def test_preview_then_confirm_imports_every_row_once(private_storage):
    user = User.objects.create_user("ann")
    Product.objects.create(sku="A", name="old", price="1.00")
    job = _start(user, _csv("A,new,1.00", "B,b,2.00", "C,c,3.00"))
    job.refresh_from_db()
    assert job.state == "previewed", job.failure
    assert (job.new_rows, job.updated_rows, job.rows_done, job.rows_total) == (2, 1, 3, 3)
    assert Product.objects.count() == 1  # a dry run
    assert job.summary["totals"]["new"] == 2
    report = job.report.open("rb").read().decode()
    assert report.splitlines()[0] == "row,outcome,changed_columns,error"
    assert len(report.splitlines()) == 4

    transitions.confirm(job, transitions.confirm_token(job), user)
    job.refresh_from_db()
    assert job.state == "done", job.failure
    assert sorted(Product.objects.values_list("sku", "name")) == [
        ("A", "new"),
        ("B", "b"),
        ("C", "c"),
    ]
    assert job.file.name == ""  # the upload is gone once the job ended
    assert not any(private_storage.rglob("*.upload"))


def test_the_imports_report_names_the_changed_columns_as_the_previews_did():
    user = User.objects.create_user("ann")
    Product.objects.create(sku="A", name="old", price="1.00")
    Product.objects.create(sku="S", name="same", price="5.00")
    job = _start(user, _csv("A,new,1.00", "S,same,5.00", "B,b,2.00"))
    job.refresh_from_db()
    preview_report = job.report.open("rb").read().decode().splitlines()

    transitions.confirm(job, transitions.confirm_token(job), user)
    job.refresh_from_db()
    assert job.state == "done", job.failure
    import_report = job.report.open("rb").read().decode().splitlines()
    assert import_report[1:] == [
        "1,update,name,",
        "2,update,,",  # matched, identical: stock's "update", no column changed
        "3,new,id;code;sku;name;price;released;stock,",
    ]
    assert import_report == preview_report
    assert job.summary["identical_updates"] == 1

    # A revert goes through the records the import changed or created, not the identical one.
    ImportJob.objects.filter(pk=job.pk).update(state="reverting", rows_done=1)
    job.refresh_from_db()
    progress = job.progress()
    assert (progress["rows_done"], progress["rows_total"], progress["percent"]) == (1, 2, 50.0)


def test_replayed_or_foreign_confirm_imports_nothing():
    ann = User.objects.create_user("ann")
    bob = User.objects.create_user("bob")
    job = _start(ann, _csv("A,a,1.00"))
    job.refresh_from_db()
    token = transitions.confirm_token(job)
    with pytest.raises(signing.BadSignature):
        transitions.confirm(job, token, bob)
    with pytest.raises(signing.BadSignature):
        transitions.confirm(job, token + "x", ann)
    assert Product.objects.count() == 0
    transitions.confirm(job, token, ann)
    assert Product.objects.count() == 1
    with pytest.raises(transitions.JobStateError):
        transitions.confirm(job, token, ann)
    assert Product.objects.count() == 1


def test_bad_file_fails_the_job_with_the_readers_message():
    user = User.objects.create_user("ann")
    job = _start(user, b"sku,name,price\n")
    job.refresh_from_db()
    assert job.state == "failed"
    assert "no data" in job.failure.lower() or "header" in job.failure.lower()


def _xlsx(*rows):
    return tablib.Dataset(*rows, headers=["sku", "name", "price"]).export("xlsx")


def test_an_xlsx_job_imports_the_sheet_it_streamed():
    user = User.objects.create_user("ann")
    Product.objects.create(sku="A", name="old", price="1.00")
    job = _start(
        user, _xlsx(["A", "new", 1.5], ["B", "b", 2]), file_name="p.xlsx", input_format="xlsx"
    )
    job.refresh_from_db()
    assert job.state == "previewed", job.failure
    assert (job.new_rows, job.updated_rows, job.rows_total) == (1, 1, 2)

    transitions.confirm(job, transitions.confirm_token(job), user)
    job.refresh_from_db()

    assert job.state == "done", job.failure
    assert sorted(Product.objects.values_list("sku", "name", "price")) == [
        ("A", "new", Decimal("1.50")),
        ("B", "b", Decimal("2.00")),
    ]


def test_an_xlsx_error_cell_fails_its_row_in_the_preview():
    """calamine reads ``#N/A`` as empty; the stream puts it back, so the price is refused."""
    data = rewrite(
        _xlsx(["A", "a", 1], ["B", "b", 2], ["C", "c", 3]),
        "xl/worksheets/sheet1.xml",
        lambda xml: re.sub(r'<c r="C3"[^>]*>.*?</c>', '<c r="C3" t="e"><v>#N/A</v></c>', xml),
    )

    job = _start(User.objects.create_user("ann"), data, file_name="p.xlsx", input_format="xlsx")
    job.refresh_from_db()

    assert job.state == "previewed", job.failure
    assert (job.new_rows, job.invalid_rows + job.error_rows) == (2, 1)
    report = job.report.open("rb").read().decode().splitlines()
    assert report[2].startswith("2,") and "#N/A" in report[2]


def test_cancelled_while_queued_never_runs(settings):
    settings.ADMIN_BULK_UPSERT = {**settings.ADMIN_BULK_UPSERT, "TASK_BACKEND": "dummy"}
    settings.TASKS = {
        "default": {"BACKEND": IMMEDIATE_BACKEND},
        "dummy": {"BACKEND": DUMMY_BACKEND},
    }
    user = User.objects.create_user("ann")
    job = _start(user, _csv("A,a,1.00"))
    transitions.cancel(job)
    job.refresh_from_db()
    assert job.state == "cancelled"
    from admin_bulk_upsert.jobs.steps import run_preview

    run_preview(job.pk)  # the queued task arrives after all
    job.refresh_from_db()
    assert job.state == "cancelled"
    assert Product.objects.count() == 0


def test_run_again_repeats_the_step_that_failed_for_an_import_without_preview(settings):
    """A job queued straight for import (the CLI's) whose worker died imports on run again."""
    import datetime

    from django.utils import timezone

    from admin_bulk_upsert.jobs.models import ImportJob

    settings.ADMIN_BULK_UPSERT = {**settings.ADMIN_BULK_UPSERT, "TASK_BACKEND": "dummy"}
    settings.TASKS = {
        "default": {"BACKEND": IMMEDIATE_BACKEND},
        "dummy": {"BACKEND": DUMMY_BACKEND},
    }
    user = User.objects.create_user("ann")
    job = _start(user, _csv("A,a,1.00", "B,b,2.00"), preview=False)
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    # As a worker leaves it when killed mid-import: running, its heartbeat old.
    ImportJob.objects.filter(pk=job.pk).update(
        state="importing", step_started_at=long_ago, heartbeat_at=long_ago
    )
    job.refresh_from_db()
    assert expiry.fail_if_stale(job)
    assert job.state == "failed" and job.failed_step == "import"

    settings.ADMIN_BULK_UPSERT = {**settings.ADMIN_BULK_UPSERT, "TASK_BACKEND": "default"}
    transitions.run_again(job)
    job.refresh_from_db()
    assert job.state == "done", job.failure
    assert job.preview_seconds is None  # no preview was asked for
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["A", "B"]
