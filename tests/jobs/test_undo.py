"""Undo of an import job: the table back as it was, conflicts kept and listed, once only."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.db import connection

from admin_bulk_upsert.jobs import revert, transitions
from admin_bulk_upsert.jobs.models import ImportJob
from admin_bulk_upsert.jobs.undo import UndoChunk
from tests.testapp.models import Account, Product, ProductNote, Tag, WideRecord, WideSavedRecord

pytestmark = pytest.mark.django_db(transaction=True)
PARIS = datetime.timezone(datetime.timedelta(hours=1))


@pytest.fixture(autouse=True)
def private_storage(settings, tmp_path):
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "jobs"), "BATCH_SIZE": 2}
    return tmp_path / "jobs"


@pytest.fixture
def ann():
    return User.objects.create_superuser("ann")


def _import(user, model_label, text, unique_fields, file_name="file.csv"):
    job = transitions.create_job(
        text.encode(),
        user=user,
        model_label=model_label,
        file_name=file_name,
        input_format="csv",
        unique_fields=unique_fields,
        preview=False,
    )
    job.refresh_from_db()
    return job


def _rows(model):
    """Every row as the database returns it, and the many-to-many links of the model."""
    tables = [model._meta.db_table] + [
        f.remote_field.through._meta.db_table for f in model._meta.many_to_many
    ]
    found = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")
            found[table] = cursor.fetchall()
    return found


def _products(*rows):
    return "sku,code,name,price\n" + "".join(f"{r}\n" for r in rows)


def _revert_now(job, user):
    transitions.request_revert(job, user)  # the immediate backend runs the task at once
    job.refresh_from_db()
    return job


@pytest.mark.parametrize(
    ("model", "restored"),
    # save() rewrites "trace" of the unchanged row C too: three records to restore.
    [(WideRecord, 2), (WideSavedRecord, 3)],
)
def test_revert_puts_every_row_and_link_back_byte_for_byte(ann, model, restored):
    """Nullable columns, decimals, aware datetimes, a foreign key and m2m links, in 3 chunks."""
    first, second = Account.objects.create(number="1"), Account.objects.create(number="2")
    red, green, blue = (Tag.objects.create(name=n) for n in ("red", "green", "blue"))
    kept = model.objects.create(
        code="A",
        label="a",
        ratio=0.1,
        price=Decimal("1.10"),
        flag=True,
        stamp=datetime.datetime(2024, 10, 27, 2, 30, 0, 123456, tzinfo=PARIS),
        rank=-3,
        level=7,
        account=first,
    )
    kept.tags.set([red, green])
    model.objects.create(code="B")
    model.objects.create(code="C", label="untouched", price=Decimal("9.99"))
    before = _rows(model)

    csv = (
        "code,label,ratio,price,flag,stamp,rank,level,account,tags\n"
        f"A,,2.5,3.14,false,2025-01-02 03:04:05,,,{second.pk},{blue.pk}\n"
        f'B,b,0.3,0.01,true,2023-06-01 12:00:00,1,2,{first.pk},"{red.pk},{green.pk}"\n'
        f"C,untouched,,9.99,,,,,,\n"
        f"D,new,1,2,true,2020-01-01 00:00:00,1,1,{first.pk},{red.pk}\n"
        "E,,,,,,,,,\n"
    )
    job = _import(ann, model._meta.label, csv, ["code"])
    assert job.state == "done", job.failure
    assert UndoChunk.objects.filter(job_id=job.pk).count() == 3
    assert model.objects.count() == 5

    job = _revert_now(job, ann)
    assert job.state == "reverted", job.revert_summary
    totals = job.revert_summary["totals"]
    assert (totals["delete"], totals["restore"], totals["conflict"]) == (2, restored, 0)
    assert _rows(model) == before
    assert not UndoChunk.objects.filter(job_id=job.pk).exists()  # used up


def test_later_edits_are_kept_and_listed_as_conflicts(ann):
    Product.objects.create(sku="A", code="a", name="old a", price="1.00")
    Product.objects.create(sku="B", code="b", name="old b", price="2.00")
    job = _import(ann, "testapp.Product", _products("A,a,new a,1.50", "B,b,new b,2.00"), ["sku"])
    assert job.state == "done", job.failure
    Product.objects.filter(sku="A").update(name="edited")

    preview = revert.revert_preview(job)
    assert (preview.totals["restore"], preview.totals["conflict"]) == (1, 1)
    conflict = preview.first["conflict"][0]
    assert (conflict["column"], conflict["imported"], conflict["current"]) == (
        "name",
        "new a",
        "edited",
    )
    assert Product.objects.get(sku="B").name == "new b"  # the preview changed nothing

    job = _revert_now(job, ann)
    assert job.state == "partly_reverted"
    assert dict(Product.objects.values_list("sku", "name")) == {"A": "edited", "B": "old b"}
    assert Product.objects.get(sku="A").price == Decimal("1.50")  # a conflict is left whole
    report = job.revert_report.open("rb").read().decode().splitlines()
    assert report[0] == "outcome,pk,column,imported_value,current_value,detail"
    assert any(line.startswith("conflict,") and ",name,new a,edited," in line for line in report)


def test_created_record_referenced_through_protect_is_not_deleted(ann):
    job = _import(ann, "testapp.Product", _products("A,a,x,1", "B,b,y,2"), ["sku"])
    note = ProductNote.objects.create(product=Product.objects.get(sku="A"))
    job = _revert_now(job, ann)
    assert job.state == "partly_reverted"
    assert list(Product.objects.values_list("sku", flat=True)) == ["A"]
    conflict = job.revert_summary["first"]["conflict"][0]
    assert f"testapp.ProductNote {note.pk}" in conflict["detail"]


def test_rows_a_second_import_touched_are_conflicts(ann):
    Product.objects.create(sku="A", code="a", name="old a")
    Product.objects.create(sku="B", code="b", name="old b")
    first = _import(ann, "testapp.Product", _products("A,a,one,", "B,b,one,", "C,c,one,"), ["sku"])
    second = _import(ann, "testapp.Product", _products("A,a,two,", "C,c,two,"), ["sku"])
    assert (first.state, second.state) == ("done", "done")

    first = _revert_now(first, ann)
    assert first.state == "partly_reverted"
    conflicts = {e["pk"] for e in first.revert_summary["first"]["conflict"]}
    pks = dict(Product.objects.values_list("sku", "pk"))
    assert conflicts == {str(pks["A"]), str(pks["C"])}
    assert dict(Product.objects.values_list("sku", "name")) == {
        "A": "two",
        "B": "old b",
        "C": "two",
    }


def test_a_job_is_reverted_once_and_a_revert_is_not_revertible(ann):
    job = _import(ann, "testapp.Product", _products("A,a,x,1"), ["sku"])
    job = _revert_now(job, ann)
    assert job.state == "reverted"
    assert LogEntry.objects.filter(change_message="Reverted bulk import of “file.csv”.").count()
    with pytest.raises(transitions.JobStateError):
        transitions.request_revert(job, ann)
    with pytest.raises(revert.RevertRefused):
        revert.revert(job)
    assert revert.refusal(job) == "This import was reverted already."


def test_dry_runs_and_failed_imports_record_nothing(ann):
    preview_job = transitions.create_job(
        _products("A,a,x,1").encode(),
        user=ann,
        model_label="testapp.Product",
        file_name="file.csv",
        input_format="csv",
        unique_fields=["sku"],
    )
    preview_job.refresh_from_db()
    assert preview_job.state == "previewed"
    failed = _import(ann, "testapp.Product", _products("A,a,x,1", "B,b,y,not a price"), ["sku"])
    assert failed.state == "failed"
    assert not UndoChunk.objects.exists()
    assert Product.objects.count() == 0


def test_may_revert_needs_the_importer_or_a_superuser_with_delete_and_change():
    bob = User.objects.create_user("bob")
    eve = User.objects.create_user("eve")
    for user in (bob, eve):
        user.user_permissions.add(
            *Permission.objects.filter(codename__in=["add_product", "change_product"])
        )
    job = _import(bob, "testapp.Product", _products("A,a,x,1"), ["sku"])
    bob = User.objects.get(pk=bob.pk)
    assert not revert.may_revert(bob, job)  # no delete permission
    bob.user_permissions.add(Permission.objects.get(codename="delete_product"))
    bob = User.objects.get(pk=bob.pk)
    assert revert.may_revert(bob, job)
    eve.user_permissions.add(Permission.objects.get(codename="delete_product"))
    assert not revert.may_revert(User.objects.get(pk=eve.pk), job)  # not hers
    with pytest.raises(PermissionError):
        transitions.request_revert(job, User.objects.get(pk=eve.pk))
    assert ImportJob.objects.get(pk=job.pk).state == "done"


def test_record_undo_off_records_nothing_and_says_why(ann, settings):
    settings.ADMIN_BULK_UPSERT = {**settings.ADMIN_BULK_UPSERT, "RECORD_UNDO": False}

    job = _import(ann, "testapp.Product", _products("A,a,x,1", "B,b,y,2"), ["sku"])

    assert job.state == "done"
    assert Product.objects.count() == 2
    assert not UndoChunk.objects.exists()
    assert "RECORD_UNDO" in job.undo_refusal
    assert revert.refusal(job) is not None
