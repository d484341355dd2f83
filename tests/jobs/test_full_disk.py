"""Import jobs on a full disk: the upload, the report and the spill files.

A job whose file cannot be stored is never created; a job whose report or
temporary files fill the disk fails with that message, and nothing is written.
"""

from __future__ import annotations

import io
import tempfile

import pytest
from django.contrib.admin.models import LogEntry
from django.core.management import call_command
from django.core.management.base import CommandError

from admin_bulk_upsert.jobs import transitions
from admin_bulk_upsert.jobs.models import ImportJob
from tests.full_disk import FillsUp, files_in
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db(transaction=True)


def test_bulk_import_background_on_a_full_disk_says_so(full_job_storage, tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("sku,name,price\nA,a,1.00\n", encoding="utf-8")

    with pytest.raises(CommandError, match="no space left to store this file"):
        call_command(
            "bulk_import", "testapp.Product", str(path), "--background", stdout=io.StringIO()
        )

    assert files_in(full_job_storage) == []
    assert not ImportJob.objects.exists()


def _import_job(data, **kwargs):
    from django.contrib.auth.models import User

    user = User.objects.create_user("ann")
    job = transitions.create_job(
        data,
        user=user,
        model_label="testapp.Product",
        file_name="products.csv",
        input_format="csv",
        unique_fields=["sku"],
        preview=False,  # straight to the import, run by the immediate backend
        **kwargs,
    )
    job.refresh_from_db()
    return job


def _products(count):
    return ("sku,name,price\n" + "".join(f"S{i},{'n' * 30},1.00\n" for i in range(count))).encode()


def test_a_job_whose_report_finds_the_disk_full_fails_and_writes_nothing(
    full_job_storage, monkeypatch
):
    monkeypatch.setattr(FillsUp, "full_for", ".report.csv")
    Product.objects.create(sku="S0", name="before", price="2.00")

    job = _import_job(_products(5), admin_site="admin")

    assert job.state == "failed"
    assert job.failure == (
        "The server ran out of disk space during the import (No space left on device): "
        "nothing was written. Run the job again once space has been freed."
    )
    assert list(Product.objects.values_list("sku", "name")) == [("S0", "before")]
    assert not LogEntry.objects.exists()
    assert not [name for name in files_in(full_job_storage) if "report" in name]


def test_a_job_whose_spill_file_fills_a_real_disk_fails_and_writes_nothing(
    full_job_storage, tiny_disk, monkeypatch
):
    monkeypatch.setattr(FillsUp, "full_for", "(nothing is full)")
    # The job's temporary files (its report as it is built) go to the tiny disk.
    monkeypatch.setattr(tempfile, "tempdir", str(tiny_disk))

    job = _import_job(_products(2_000))

    assert job.state == "failed", job.failure
    assert job.failure.startswith("The server ran out of disk space during the import (")
    assert "nothing was written" in job.failure
    assert not Product.objects.exists()
    assert files_in(tiny_disk) == []
