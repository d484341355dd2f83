"""Importing needs add and change permission (and DIE's import permission when set)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType

from tests.admin.conftest import (
    confirm,
    csv_file,
    make_staff,
    token_from,
    transaction_line,
    upload,
    url,
)
from tests.testapp.models import Transaction

IMPORT_LINK = 'class="import_link"'


@pytest.mark.parametrize(
    "perms",
    [
        ["testapp.view_transaction"],
        ["testapp.view_transaction", "testapp.change_transaction"],
        ["testapp.view_transaction", "testapp.add_transaction"],
    ],
    ids=["view-only", "change-only", "add-only"],
)
def test_staff_without_add_and_change_cannot_import(client, accounts, perms):
    client.force_login(make_staff("clerk", *perms))

    changelist = client.get(url("transaction", "changelist"))
    assert changelist.status_code == 200
    assert IMPORT_LINK not in changelist.content.decode()
    assert client.get(url("transaction", "import")).status_code == 403
    response = upload(client, csv_file([transaction_line("A1", 1, "1.000")]))
    assert response.status_code == 403
    assert client.post(url("transaction", "process_import"), {"token": "x"}).status_code == 403
    assert client.get(url("transaction", "import_preview_csv"), {"token": "x"}).status_code == 403
    assert Transaction.objects.count() == 0


def test_staff_with_add_and_change_sees_the_import_button(importer_client):
    changelist = importer_client.get(url("transaction", "changelist"))

    assert IMPORT_LINK in changelist.content.decode()
    assert importer_client.get(url("transaction", "import")).status_code == 200


def test_losing_permission_between_preview_and_confirm_imports_nothing(
    importer_client, importer, accounts
):
    token = token_from(upload(importer_client, csv_file([transaction_line("A1", 1, "1.000")])))
    importer.user_permissions.remove(Permission.objects.get(codename="add_transaction"))

    assert confirm(importer_client, token).status_code == 403
    assert Transaction.objects.count() == 0


def test_die_import_permission_code_is_also_required(settings, client, accounts):
    settings.IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
    Permission.objects.create(
        codename="import_transaction",
        name="Can import transaction",
        content_type=ContentType.objects.get_for_model(Transaction),
    )
    perms = ["testapp.view_transaction", "testapp.add_transaction", "testapp.change_transaction"]
    without = make_staff("without", *perms)
    with_import = make_staff("with_import", *perms, "testapp.import_transaction")

    client.force_login(without)
    assert client.get(url("transaction", "import")).status_code == 403
    client.force_login(with_import)
    assert client.get(url("transaction", "import")).status_code == 200
