"""The upload form's text encoding: detected by default, chosen in a select, set by the admin.

Whatever the preview decoded the file with is what the confirmed import
decodes it with: the token carries it.
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.admin.conftest import HEADER, confirm, token_from, transaction_line, upload, url
from tests.adminapp.admin import TransactionAdmin
from tests.testapp.models import Transaction

DESCRIPTION = "Café “Grüße” – 5 €"


def cp1252_file():
    text = "\n".join([HEADER, transaction_line("A1", 1, "1.000", DESCRIPTION)]) + "\n"
    return SimpleUploadedFile("t.csv", text.encode("cp1252"), content_type="text/csv")


def test_the_form_offers_the_encodings_with_detection_first(importer_client, accounts):
    form = importer_client.get(url("transaction", "import")).context["form"]

    assert [value for value, _label in form.fields["encoding"].choices] == [
        "auto",
        "utf-8",
        "cp1252",
        "latin-1",
    ]
    assert form["encoding"].value() == "auto"


def test_a_windows_1252_file_is_detected_previewed_and_imported(importer_client, accounts):
    response = upload(importer_client, cp1252_file())

    assert response.context["form"].text_encoding == "cp1252"
    assert DESCRIPTION in response.content.decode()
    response = confirm(importer_client, token_from(response))

    assert response.status_code == 302
    assert Transaction.objects.get().description == DESCRIPTION


def test_the_chosen_encoding_reaches_the_reader_and_the_import(importer_client, accounts):
    # Read as Latin-1, the Windows-1252 bytes of “ ” – € are invisible control characters.
    as_latin_1 = DESCRIPTION.encode("cp1252").decode("latin-1")

    response = upload(importer_client, cp1252_file(), encoding="latin-1")
    assert response.context["form"].dataset.dict[0]["description"] == as_latin_1
    confirm(importer_client, token_from(response))

    assert Transaction.objects.get().description == as_latin_1


def test_a_chosen_encoding_that_does_not_fit_is_a_form_error(importer_client, accounts, tmp_path):
    response = upload(importer_client, cp1252_file(), encoding="utf-8")

    assert response.context["form"].errors["import_file"] == [
        "The file is not valid UTF-8 (line 2, byte 68). "
        "Choose the file’s encoding, or save it as “CSV UTF-8”."
    ]
    assert "confirm_form" not in response.context
    assert Transaction.objects.count() == 0


def test_the_admins_from_encoding_is_the_initial_choice(monkeypatch, importer_client, accounts):
    monkeypatch.setattr(TransactionAdmin, "from_encoding", "latin-1", raising=False)

    form = importer_client.get(url("transaction", "import")).context["form"]

    assert form["encoding"].value() == "latin-1"


def test_a_from_encoding_not_in_the_list_is_added_to_it(monkeypatch, importer_client, accounts):
    monkeypatch.setattr(TransactionAdmin, "from_encoding", "utf-16", raising=False)
    text = "\n".join([HEADER, transaction_line("A1", 1, "1.000", DESCRIPTION)]) + "\n"

    form = importer_client.get(url("transaction", "import")).context["form"]
    assert form.fields["encoding"].choices[-1] == ("utf-16", "utf-16")
    response = upload(
        importer_client, SimpleUploadedFile("t.csv", text.encode("utf-16")), encoding="utf-16"
    )
    confirm(importer_client, token_from(response))

    assert Transaction.objects.get().description == DESCRIPTION


def test_a_post_without_the_field_uses_the_admins_from_encoding(
    monkeypatch, importer_client, accounts
):
    monkeypatch.setattr(TransactionAdmin, "from_encoding", "latin-1", raising=False)

    response = upload(importer_client, cp1252_file())

    assert response.context["form"].text_encoding == "latin-1"
