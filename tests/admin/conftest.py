"""Builders for the admin flow tests: users, files, and the upload/confirm steps.

Every test here runs against ``tests.adminapp``'s admin site, with staged
uploads in the test's own temporary folder.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.testapp.models import Account, Transaction

PARIS = ZoneInfo("Europe/Paris")
HEADER = "account,datetime,amount,description"


@pytest.fixture(autouse=True)
def admin_site_urls(settings, tmp_path):
    settings.ROOT_URLCONF = "tests.adminapp.urls"
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "staging")}
    return tmp_path / "staging"


def make_staff(username, *perms):
    """A staff user with ``perms`` given as ``"app_label.codename"``."""
    user = User.objects.create_user(username, password="pw", is_staff=True)
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


@pytest.fixture
def importer(db):
    return make_staff(
        "importer",
        "testapp.view_transaction",
        "testapp.add_transaction",
        "testapp.change_transaction",
        "testapp.view_product",
        "testapp.add_product",
        "testapp.change_product",
    )


@pytest.fixture
def importer_client(client, importer):
    client.force_login(importer)
    return client


@pytest.fixture
def accounts(db):
    return {n: Account.objects.create(number=n, name=f"Account {n}") for n in ("A1", "A2")}


def when(day, hour=12):
    return datetime(2024, 1, day, hour, tzinfo=PARIS)


def add_transaction(account, day, amount, description=""):
    return Transaction.objects.create(
        account=account, datetime=when(day), amount=Decimal(amount), description=description
    )


def csv_file(lines, name="transactions.csv", header=HEADER):
    text = "\n".join([header, *lines]) + "\n"
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def transaction_line(number, day, amount, description=""):
    return f"{number},2024-01-{day:02d} 12:00:00,{amount},{description}"


def url(model, view):
    return reverse(f"admin:testapp_{model}_{view}")


DEFAULT_KEYS = {"transaction": ["account", "datetime", "amount"], "product": ["sku"]}


def upload(client, file, model="transaction", **extra):
    """POST the upload form; ``import_id_fields`` defaults to the resource's key."""
    data = {
        "resource": "0",
        "format": csv_format_index(),
        "import_file": file,
        "import_id_fields": DEFAULT_KEYS.get(model, []),
    }
    data.update(extra)
    return client.post(url(model, "import"), data)


def csv_format_index():
    from import_export.formats.base_formats import DEFAULT_FORMATS

    titles = [f().get_title() for f in DEFAULT_FORMATS if f().can_import()]
    return str(titles.index("csv"))


def token_from(response):
    match = re.search(r'name="token" value="([^"]+)"', response.content.decode())
    assert match, "no confirm form on the page"
    return match.group(1)


def confirm(client, token, model="transaction"):
    return client.post(url(model, "process_import"), {"token": token})
