"""The preview table in Chromium at 1280 px: a column per field, outcomes told apart.

An article file with a tags column (many-to-many) updates one article's title,
another's tags only, repeats a third unchanged, adds new articles and has one
invalid row. The page lists the rows that change or fail, each with a label,
shows tag changes old -> new, and stays short with a hundred rows.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from tests.testapp.models import FidelityArticle, FidelityTag

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = 1280


@pytest.fixture(autouse=True)
def admin_site(settings, tmp_path):
    settings.ROOT_URLCONF = "tests.adminapp.urls"
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "staging")}


@pytest.fixture
def articles():
    red = FidelityTag.objects.create(name="red")
    FidelityTag.objects.create(name="blue")
    for code, title in [("A", "same"), ("B", "old title"), ("C", "tags only")]:
        FidelityArticle.objects.create(code=code, title=title).tags.set([red])


def upload(page, path: Path):
    page.set_viewport_size({"width": WIDTH, "height": 800})
    page.goto(reverse("admin:testapp_fidelityarticle_import"))
    page.set_input_files("#id_import_file", str(path))
    page.select_option("#id_format", label="csv")
    page.locator("input[type=submit][value=Submit]").click()
    page.locator(".bulk-upsert-preview").wait_for()


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(["code,title,tags", *lines]) + "\n", encoding="utf-8")
    return path


def test_rows_that_change_or_fail_are_told_apart(admin_page, articles, tmp_path, artifacts_dir):
    too_long = "x" * 41
    lines = ["A,same,red", "B,new title,red", "C,tags only,blue", "D,fresh,blue", f"E,{too_long},"]
    upload(admin_page, write(tmp_path / "articles.csv", lines))
    page = admin_page

    split = page.locator(".bulk-upsert-update-split").inner_text()
    assert split.strip() == "3 rows matched stored records: 2 change a value, 1 identical."
    rows = page.locator("table.bulk-upsert-changes tbody tr")
    labels = [row.locator(".bulk-upsert-label").inner_text().strip() for row in rows.all()]
    numbers = [row.locator("td.row-number").inner_text().strip() for row in rows.all()]
    # The identical row 1 is counted, not listed; row 5's title is too long.
    assert list(zip(numbers, labels, strict=True)) == [
        ("2", "Update"),
        ("3", "Update"),
        ("4", "New"),
        ("5", "Invalid"),
    ]
    tags_only = rows.nth(1)
    assert tags_only.locator("td.cell-changed").count() == 1
    assert " ".join(tags_only.locator("td.cell-changed").inner_text().split()) == "red → blue"
    assert tags_only.locator("td.cell-same").first.inner_text() == "C"
    assert rows.nth(2).locator("td.cell-new").last.inner_text() == "blue"
    assert rows.nth(3).locator("td.cell-error").inner_text() == too_long

    colours = {
        label: rows.nth(i)
        .locator(".bulk-upsert-label")
        .evaluate("e => getComputedStyle(e).backgroundColor")
        for i, label in [(0, "update"), (2, "new"), (3, "invalid")]
    }
    assert len(set(colours.values())) == 3
    underline = "e => getComputedStyle(e).textDecorationLine"
    assert tags_only.locator("ins").evaluate(underline) == "none"
    assert tags_only.locator("td.cell-same").first.evaluate(underline) == "none"

    page.screenshot(path=str(artifacts_dir / "preview_table.png"), full_page=True)


def test_a_hundred_new_rows_keep_the_page_short(admin_page, tmp_path, artifacts_dir):
    lines = [f"N{i:03d},Article number {i},red" for i in range(150)]
    FidelityTag.objects.create(name="red")
    upload(admin_page, write(tmp_path / "many.csv", lines))

    page = admin_page
    assert page.locator("table.bulk-upsert-changes tbody tr.new").count() == 100
    height = page.evaluate("document.documentElement.scrollHeight")
    # One line per row: about 30 px each, where a list of cells per row made 8,700 px.
    assert height < 4_500, height
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, width
    page.screenshot(path=str(artifacts_dir / "preview_table_100_rows.png"), full_page=True)
