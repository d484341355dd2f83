"""The mapping step in Chromium: a file named as people name things, imported anyway.

The file's headers are the model's verbose names in capitals ("SKU", "NAME",
"PRICE") while the resource reads ``product_sku``, ``product_name`` and
``unit_price``, plus a "Notes" column nobody imports. After the upload the page
pairs each column with a field, already chosen; Continue shows the dry-run
preview, Confirm imports, and the rows are in the database. A background job
shows the mapping on its page.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse

from admin_bulk_upsert.column_mapping.models import RememberedMapping
from admin_bulk_upsert.jobs.compat import IMMEDIATE_BACKEND
from admin_bulk_upsert.jobs.models import ImportJob
from tests.testapp.models import Product

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = "SKU,CODE,NAME,PRICE,Notes\nA-1,C1,Chair,49.90,keep dry\nA-2,C2,Table,120.00,\n"


@pytest.fixture(autouse=True)
def mapping_site(settings, tmp_path):
    settings.ROOT_URLCONF = "tests.adminapp.mapping_admin"
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "staging")}
    return tmp_path / "staging"


def shoot(page, artifacts_dir: Path, name: str) -> None:
    path = artifacts_dir / name
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 0


def test_verbose_name_headers_are_mapped_previewed_and_imported(
    admin_page, artifacts_dir, tmp_path, mapping_site
):
    page = admin_page
    existing = Product.objects.create(code="C1", sku="A-1", name="Old chair", price=Decimal("40"))
    path = tmp_path / "products.csv"
    path.write_text(CSV, encoding="utf-8")

    page.goto(reverse("admin:testapp_product_import"))
    page.set_input_files("#id_import_file", str(path))
    page.select_option("#id_format", label="csv")
    assert page.locator("input[name=import_id_fields][value=product_sku]").is_checked()
    page.locator("input[type=submit][value=Submit]").click()

    # The mapping page, in the admin's frame, every column paired already.
    table = page.locator("table.bulk-upsert-column-map-table")
    table.wait_for()
    assert page.locator("#site-name").is_visible()
    assert "Match columns" in page.locator(".breadcrumbs").inner_text()
    rows = table.locator("tbody tr")
    shown = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        select = row.locator("select")
        shown[row.locator("th").inner_text().strip()] = (
            select.input_value(),
            row.locator("td").nth(1).inner_text().strip(),
        )
    assert shown == {
        "SKU": ("product_sku", "field's verbose name"),
        "CODE": ("code", "similar name"),
        "NAME": ("product_name", "field's verbose name"),
        "PRICE": ("unit_price", "field's verbose name"),
        "Notes": ("", "—"),
    }
    assert page.locator("#id_column_map-4 option:checked").inner_text() == (
        "— ignore this column —"
    )
    shoot(page, artifacts_dir, "column-mapping-step.png")

    page.get_by_role("button", name="Continue").click()
    page.locator(".bulk-upsert-preview").wait_for()
    totals = {
        name: page.locator(f".bulk-upsert-totals td.total-{name}").inner_text().strip()
        for name in ("rows", "new", "update")
    }
    assert totals == {"rows": "2", "new": "1", "update": "1"}
    # The file's NAME and PRICE columns reached the fields they were mapped to.
    changes = page.locator(".bulk-upsert-preview").inner_text()
    assert "Old chair" in changes
    assert "49.90" in changes
    assert "keep dry" not in changes  # the ignored column
    existing.refresh_from_db()
    assert existing.name == "Old chair"  # a dry run
    shoot(page, artifacts_dir, "column-mapping-preview.png")

    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_url(f"**{reverse('admin:testapp_product_changelist')}")
    assert "1 new, 1 updated" in page.locator("ul.messagelist li").first.inner_text()
    assert sorted(Product.objects.values_list("sku", "code", "name", "price")) == [
        ("A-1", "C1", "Chair", Decimal("49.90")),
        ("A-2", "C2", "Table", Decimal("120.00")),
    ]
    assert RememberedMapping.objects.get().columns == {
        "SKU": "product_sku",
        "CODE": "code",
        "NAME": "product_name",
        "PRICE": "unit_price",
        "Notes": "",
    }


def test_a_background_job_shows_its_mapping(admin_page, artifacts_dir, tmp_path, settings):
    settings.TASKS = {"default": {"BACKEND": IMMEDIATE_BACKEND}}
    settings.ADMIN_BULK_UPSERT = {**settings.ADMIN_BULK_UPSERT, "BACKGROUND_IMPORTS": True}
    page = admin_page
    path = tmp_path / "products.csv"
    path.write_text(CSV, encoding="utf-8")

    page.goto(reverse("admin:testapp_product_import"))
    page.set_input_files("#id_import_file", str(path))
    page.select_option("#id_format", label="csv")
    page.locator("input[type=submit][value=Submit]").click()
    page.get_by_role("button", name="Continue").click()

    mapping = page.locator("td.job-column-map li")
    mapping.first.wait_for()
    assert [" ".join(text.split()) for text in mapping.all_inner_texts()] == [
        "“SKU” → product_sku",
        "“CODE” → code",
        "“NAME” → product_name",
        "“PRICE” → unit_price",
        "“Notes” → ignored",
    ]
    assert ImportJob.objects.get().state == "previewed"
    shoot(page, artifacts_dir, "column-mapping-job-page.png")
