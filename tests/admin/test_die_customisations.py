"""DIE's documented admin customisations keep working behind ``BulkUpsertAdminMixin``.

A project moving from DIE's ``ImportExportModelAdmin`` keeps its custom import
and confirm forms (subclasses of DIE's ``ImportForm`` / ``ConfirmImportForm``
whose extra fields ``get_import_data_kwargs`` reads), its ``from_encoding``,
and scripts or templates that post DIE's upload form without our key choice.
"""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from import_export.forms import ConfirmImportForm, ImportForm

from tests.admin.conftest import HEADER, csv_file, csv_format_index, transaction_line, url
from tests.adminapp.admin import TransactionAdmin
from tests.adminapp.resources import TransactionResource
from tests.testapp.models import Transaction


class BatchImportForm(ImportForm):
    batch = forms.CharField()


class BatchConfirmForm(ConfirmImportForm):
    batch = forms.CharField()


@pytest.fixture
def batch_admin(monkeypatch):
    """TransactionAdmin with DIE-style custom forms; returns the kwargs each import got."""
    seen = []

    def get_confirm_form_initial(self, request, import_form):
        initial = super(TransactionAdmin, self).get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["batch"] = import_form.cleaned_data["batch"]
        return initial

    def get_import_data_kwargs(self, request, *args, **kwargs):
        return {"batch": kwargs["form"].cleaned_data["batch"]}

    def before_import(self, dataset, **kwargs):
        seen.append(kwargs.get("batch"))

    monkeypatch.setattr(TransactionAdmin, "import_form_class", BatchImportForm, raising=False)
    monkeypatch.setattr(TransactionAdmin, "confirm_form_class", BatchConfirmForm, raising=False)
    monkeypatch.setattr(
        TransactionAdmin, "get_confirm_form_initial", get_confirm_form_initial, raising=False
    )
    monkeypatch.setattr(
        TransactionAdmin, "get_import_data_kwargs", get_import_data_kwargs, raising=False
    )
    monkeypatch.setattr(TransactionResource, "before_import", before_import, raising=False)
    return seen


def post_upload(client, file, **extra):
    """DIE's upload form fields only: no key choice, as a DIE template or script posts it."""
    data = {"format": csv_format_index(), "import_file": file, **extra}
    return client.post(url("transaction", "import"), data)


def test_custom_forms_fields_reach_the_preview_and_the_import(
    importer_client, accounts, batch_admin
):
    response = post_upload(
        importer_client, csv_file([transaction_line("A1", 1, "1.000")]), batch="B-7"
    )

    assert response.status_code == 200
    confirm_form = response.context["confirm_form"]
    assert isinstance(confirm_form, BatchConfirmForm)
    response = importer_client.post(url("transaction", "process_import"), confirm_form.initial)

    assert response.status_code == 302
    assert Transaction.objects.count() == 1
    assert batch_admin == ["B-7", "B-7"]  # the preview's dry run, then the import


def test_invalid_custom_confirm_form_shows_its_errors_and_imports_nothing(
    importer_client, accounts, batch_admin
):
    response = post_upload(
        importer_client, csv_file([transaction_line("A1", 1, "1.000")]), batch="B-7"
    )
    data = {**response.context["confirm_form"].initial, "batch": ""}

    response = importer_client.post(url("transaction", "process_import"), data)

    assert response.status_code == 200
    assert response.context["confirm_form"].errors == {"batch": ["This field is required."]}
    assert Transaction.objects.count() == 0


def test_from_encoding_reads_the_preview_and_the_import(monkeypatch, importer_client, accounts):
    monkeypatch.setattr(TransactionAdmin, "from_encoding", "cp1252", raising=False)
    text = "\n".join([HEADER, transaction_line("A1", 1, "1.000", "caf\xe9 \u20ac")]) + "\n"
    file = SimpleUploadedFile("t.csv", text.encode("cp1252"), content_type="text/csv")

    response = post_upload(importer_client, file)
    response = importer_client.post(
        url("transaction", "process_import"), response.context["confirm_form"].initial
    )

    assert response.status_code == 302
    assert Transaction.objects.get().description == "caf\xe9 \u20ac"


def test_upload_without_key_choice_uses_the_resources_key(importer_client, accounts):
    response = post_upload(importer_client, csv_file([transaction_line("A1", 1, "1.000")]))

    assert response.context["form"].cleaned_data["import_id_fields"] == [
        "account",
        "datetime",
        "amount",
    ]
    response = importer_client.post(
        url("transaction", "process_import"), response.context["confirm_form"].initial
    )
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Import finished: 1 new, 0 updated, 0 deleted and 0 skipped transactions."
    ]
