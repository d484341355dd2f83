"""The mapping travels with a background job: preview, import, run again, and its page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from admin_bulk_upsert.jobs.models import ImportJob
from tests.admin.column_mapping import continue_mapping, product_file
from tests.jobs.admin_flow import confirm_token_from, job_url, last_job, upload
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db(transaction=True)

MAPPED = {
    "SKU": "product_sku",
    "CODE": "code",
    "NAME": "product_name",
    "PRICE": "unit_price",
    "Notes": "",
}


@pytest.fixture
def mapped_background(background):
    background.ROOT_URLCONF = "tests.adminapp.mapping_admin"
    return background


def start(client):
    mapping_page = upload(client, product_file(), model="product", import_id_fields=["product_sku"])
    assert not ImportJob.objects.exists()  # the header was read, nothing queued yet
    return continue_mapping(client, mapping_page)


def test_the_job_previews_and_imports_with_the_mapping(mapped_background, importer_client):
    response = start(importer_client)

    job = last_job()
    assert response["Location"] == job_url(job, model="product")
    assert (job.state, job.column_map, job.new_rows) == ("previewed", MAPPED, 2)
    page = importer_client.get(job_url(job, model="product")).content.decode()
    assert "Column mapping" in page
    assert "“PRICE” → <code>unit_price</code>" in page
    assert "“Notes” → <em>ignored</em>" in page

    token = confirm_token_from(importer_client.get(job_url(job, model="product")))
    importer_client.post(job_url(job, "import_job_confirm", model="product"), {"token": token})

    job.refresh_from_db()
    assert job.state == "done"
    assert sorted(Product.objects.values_list("sku", "name", "price")) == [
        ("A-1", "Chair", Decimal("49.90")),
        ("A-2", "Table", Decimal("120.00")),
    ]


def test_run_again_keeps_the_mapping(mapped_background, importer_client):
    mapped_background.ADMIN_BULK_UPSERT = {
        **mapped_background.ADMIN_BULK_UPSERT,
        "TASK_BACKEND": "dummy",
    }
    start(importer_client)
    job = last_job()
    long_ago = timezone.now() - datetime.timedelta(minutes=5)
    ImportJob.objects.filter(pk=job.pk).update(
        state="previewing", step_started_at=long_ago, heartbeat_at=long_ago
    )
    importer_client.get(job_url(job, model="product"))  # declared failed: stale heartbeat
    mapped_background.ADMIN_BULK_UPSERT = {
        **mapped_background.ADMIN_BULK_UPSERT,
        "TASK_BACKEND": "default",
    }

    importer_client.post(job_url(job, "import_job_retry", model="product"))

    job.refresh_from_db()
    assert (job.state, job.new_rows, job.column_map) == ("previewed", 2, MAPPED)
