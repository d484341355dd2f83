"""The whole admin import, in Chromium: changelist -> Import -> upload -> preview -> confirm.

A logged-in superuser opens the Transaction changelist, follows its Import button, uploads
a file (CSV, then XLSX) that adds rows and updates existing ones, reads the dry-run
preview (totals per outcome, an ``old → new`` change, a new row's values), confirms, and
finds the success message with the counts and the rows in the changelist and the database.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from tests.testapp.models import Account, Transaction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PARIS = ZoneInfo("Europe/Paris")
HEADER = ["account", "datetime", "amount", "description"]
# The file: two updates, one unchanged row, two new rows (A1/A2 are account numbers).
FILE_ROWS = [
    ("A1", 1, "10.000", "rent corrected"),  # update: description rent -> rent corrected
    ("A1", 2, "20.000", "same"),  # unchanged
    ("A2", 5, "50.000", "phone, January"),  # update: description phone -> phone, January
    ("A2", 3, "30.500", "new one"),  # new
    ("A1", 4, "40.000", "groceries"),  # new
]
SUCCESS = "Import finished: 2 new, 2 updated, 0 deleted and 1 skipped transactions."


@pytest.fixture(autouse=True)
def admin_site(settings, tmp_path):
    """Serve ``tests.adminapp``'s admin site (bulk import on Transaction) from the live server.

    The live server thread resolves ``settings.ROOT_URLCONF`` on each request, so changing
    it here (before ``admin_page`` logs in) switches the whole site.
    """
    settings.ROOT_URLCONF = "tests.adminapp.urls"
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "staging")}
    return tmp_path / "staging"


def when(day: int) -> datetime:
    return datetime(2024, 1, day, 12, tzinfo=PARIS)


@pytest.fixture
def accounts():
    return {n: Account.objects.create(number=n, name=f"Account {n}") for n in ("A1", "A2")}


@pytest.fixture
def existing(accounts):
    """Three transactions already in the database: two the file updates, one it repeats."""
    return [
        Transaction.objects.create(
            account=accounts[number], datetime=when(day), amount=Decimal(amount), description=text
        )
        for number, day, amount, text in [
            ("A1", 1, "10.000", "rent"),
            ("A1", 2, "20.000", "same"),
            ("A2", 5, "50.000", "phone"),
        ]
    ]


def write_csv(path: Path) -> Path:
    lines = [",".join(HEADER)]
    for number, day, amount, text in FILE_ROWS:
        description = f'"{text}"' if "," in text else text
        lines.append(f"{number},2024-01-{day:02d} 12:00:00,{amount},{description}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xlsx(path: Path) -> Path:
    """A workbook as Excel users make it: real date-time and number cells, not text."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for number, day, amount, text in FILE_ROWS:
        sheet.append([number, datetime(2024, 1, day, 12), float(amount), text])
    workbook.save(path)
    return path


def open_import_page(page):
    page.goto(reverse("admin:testapp_transaction_changelist"))
    page.get_by_role("link", name="Import", exact=True).click()
    page.wait_for_url(f"**{reverse('admin:testapp_transaction_import')}")
    assert page.locator("#id_import_file").is_visible()


def upload(page, path: Path, format_title: str):
    page.set_input_files("#id_import_file", str(path))
    page.select_option("#id_format", label=format_title)
    # The resource's key is ticked already; the file has all three columns.
    for key in ("account", "datetime", "amount"):
        assert page.locator(f"input[name=import_id_fields][value={key}]").is_checked()
    page.locator("input[type=submit][value=Submit]").click()
    page.locator(".bulk-upsert-preview").wait_for()


def check_preview(page, artifacts_dir: Path, screenshot: str, new_amount: str):
    """Check the preview page; ``new_amount`` is the new row's amount as the file gives it."""
    totals = {
        name: page.locator(f".bulk-upsert-totals td.total-{name}").inner_text().strip()
        for name in ("rows", "new", "update", "skip", "invalid", "error")
    }
    assert totals == {
        "rows": "5",
        "new": "2",
        "update": "2",
        "skip": "1",
        "invalid": "0",
        "error": "0",
    }
    changes = page.locator("table.bulk-upsert-changes tbody tr")
    # Unchanged rows are counted, not listed: 2 updates + 2 new rows.
    assert changes.count() == 4
    assert page.locator("table.bulk-upsert-changes tr.update").count() == 2
    assert page.locator("table.bulk-upsert-changes tr.new").count() == 2

    # A column per field; an update marks its changed cell old -> new, the others quiet.
    # (text_content: the admin's CSS shows table headers in capitals)
    headers = [
        th.text_content().strip() for th in page.locator("table.bulk-upsert-changes thead th").all()
    ]
    assert headers == ["Row", "Outcome", "account", "datetime", "amount", "description"]
    rent = page.locator("table.bulk-upsert-changes tr.update", has_text="rent corrected")
    assert rent.locator("td").nth(0).inner_text().strip() == "1"
    assert rent.locator("td.import-type").inner_text().strip() == "Update"
    assert rent.locator("td.cell-changed").count() == 1
    assert rent.locator("td.cell-same").count() == 3
    assert rent.locator("td.cell-changed del").inner_text() == "rent"
    assert rent.locator("td.cell-changed ins").inner_text() == "rent corrected"
    assert " ".join(rent.locator("td.cell-changed").inner_text().split()) == (
        "rent → rent corrected"
    )
    # Values do not look like links, and an update does not look like a new row.
    assert rent.locator("ins").evaluate("e => getComputedStyle(e).textDecorationLine") == "none"
    label_colour = "e => getComputedStyle(e).backgroundColor"
    new_label = page.locator("table.bulk-upsert-changes tr.new .bulk-upsert-label").first
    assert rent.locator(".bulk-upsert-label").evaluate(label_colour) != new_label.evaluate(
        label_colour
    )

    # A new row shows every column with its value.
    new = page.locator("table.bulk-upsert-changes tr.new", has_text="new one")
    assert new.locator("td").nth(0).inner_text().strip() == "4"
    assert new.locator("td.import-type").inner_text().strip() == "New"
    values = [td.inner_text().strip() for td in new.locator("td.cell-new").all()]
    assert dict(zip(headers[2:], values, strict=True)) == {
        "account": "A2",
        "datetime": "2024-01-03 12:00:00",
        "amount": new_amount,
        "description": "new one",
    }

    assert page.get_by_role("button", name="Confirm import").is_visible()
    # A dry run: nothing written yet.
    assert Transaction.objects.count() == 3
    assert Transaction.objects.get(datetime=when(1)).description == "rent"

    path = artifacts_dir / screenshot
    path.unlink(missing_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.exists()
    assert path.stat().st_size > 0


def confirm_and_check(page, accounts, staging_dir: Path):
    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_url(f"**{reverse('admin:testapp_transaction_changelist')}")

    messages = page.locator("ul.messagelist li")
    assert messages.count() == 1
    assert messages.first.inner_text().strip() == SUCCESS
    assert "success" in (messages.first.get_attribute("class") or "")

    # The database: 3 rows before, 2 added, 2 updated, 1 left alone.
    rows = {
        (t.account.number, t.datetime, t.amount): t.description
        for t in Transaction.objects.select_related("account")
    }
    assert rows == {
        ("A1", when(1), Decimal("10.000")): "rent corrected",
        ("A1", when(2), Decimal("20.000")): "same",
        ("A2", when(5), Decimal("50.000")): "phone, January",
        ("A2", when(3), Decimal("30.500")): "new one",
        ("A1", when(4), Decimal("40.000")): "groceries",
    }

    # The changelist lists all five, the two new ones among them (by their __str__).
    links = page.locator("#result_list tbody tr th a")
    assert links.count() == 5
    listed = {" ".join(text.split()) for text in links.all_inner_texts()}
    assert listed == {str(t) for t in Transaction.objects.all()}
    for account, day in (("A2", 3), ("A1", 4)):
        created = Transaction.objects.get(account=accounts[account], datetime=when(day))
        assert str(created) in listed
    assert "5 transactions" in page.locator("#changelist-form .paginator").inner_text()

    # Confirming removed the staged upload and its preview CSV.
    assert list(staging_dir.iterdir()) == []


def test_csv_import_previews_then_confirms(
    admin_page, accounts, existing, tmp_path, artifacts_dir, admin_site
):
    csv_path = write_csv(tmp_path / "transactions.csv")
    open_import_page(admin_page)
    upload(admin_page, csv_path, "csv")
    check_preview(admin_page, artifacts_dir, "preview.png", new_amount="30.500")
    confirm_and_check(admin_page, accounts, admin_site)


def test_xlsx_import_previews_then_confirms(
    admin_page, accounts, existing, tmp_path, artifacts_dir, admin_site
):
    xlsx_path = write_xlsx(tmp_path / "transactions.xlsx")
    open_import_page(admin_page)
    upload(admin_page, xlsx_path, "xlsx")
    # A number cell holds 30.5: the preview shows the value read, the database stores 30.500.
    check_preview(admin_page, artifacts_dir, "preview_xlsx.png", new_amount="30.5")
    confirm_and_check(admin_page, accounts, admin_site)
