"""Export stays DIE's; the mixin's check() reports resource problems; skip-confirm still works."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.messages import get_messages
from import_export.resources import ModelResource

from admin_bulk_upsert import BulkUpsertAdminMixin
from tests.admin.conftest import add_transaction, csv_file, transaction_line, upload, url
from tests.adminapp.admin import site
from tests.testapp.models import Account, LooseTransaction, Product, Transaction


def test_export_still_works(importer_client, accounts):
    add_transaction(accounts["A1"], 1, "10.000", "rent")
    formats = importer_client.get(url("transaction", "export")).context["form"]
    csv_index = next(value for value, label in formats.fields["format"].choices if label == "csv")

    response = importer_client.post(
        url("transaction", "export"),
        {
            "format": csv_index,
            "resource": "0",
            **{
                f"transactionresource_{name}": "on"
                for name in ("account", "datetime", "amount", "description")
            },
        },
    )

    assert response.status_code == 200
    lines = response.content.decode().splitlines()
    assert lines[0] == "account,datetime,amount,description"
    assert lines[1].startswith("A1,") and lines[1].endswith(",rent")


def test_registered_admins_pass_their_checks():
    for model in (Transaction, Product, Account):
        assert site._registry[model].check() == []


def test_check_reports_a_resource_that_is_not_a_bulk_resource():
    class PlainResource(ModelResource):
        class Meta:
            model = LooseTransaction

    class PlainAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
        resource_classes = [PlainResource]

    model_admin = PlainAdmin(LooseTransaction, admin.AdminSite(name="checks"))

    [message] = model_admin.check()
    assert message.id == "admin_bulk_upsert.E001"
    assert message.obj is model_admin


def test_skip_confirm_imports_at_once(settings, importer_client, accounts, admin_site_urls):
    settings.IMPORT_EXPORT_SKIP_ADMIN_CONFIRM = True

    response = upload(importer_client, csv_file([transaction_line("A1", 1, "1.000")]))

    assert response.status_code == 302
    assert Transaction.objects.count() == 1
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Import finished: 1 new, 0 updated, 0 deleted and 0 skipped transactions."
    ]
    assert not admin_site_urls.exists() or not any(admin_site_urls.iterdir())


def test_skip_confirm_with_errors_writes_nothing(settings, importer_client, accounts):
    settings.IMPORT_EXPORT_SKIP_ADMIN_CONFIRM = True
    lines = [transaction_line("A1", 1, "1.000"), transaction_line("A1", 2, "oops")]

    response = upload(importer_client, csv_file(lines))

    assert response.status_code == 200
    assert Transaction.objects.count() == 0
    assert [e.number for e in response.context["result"].errors] == [2]
