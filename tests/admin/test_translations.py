"""The French catalog: complete, compiled, and what a French admin sees."""

from __future__ import annotations

import gettext
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

import admin_bulk_upsert
from tests.admin.conftest import csv_file, transaction_line, upload, url

PACKAGE = Path(admin_bulk_upsert.__file__).parent
CATALOG = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def unescape(text):
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def entries(po_path):
    """``{(msgid, msgid_plural or None): [msgstr, ...]}`` and the fuzzy msgids of a .po file."""
    found, fuzzy = {}, set()
    for block in po_path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        flags = ""
        current = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
            elif line.startswith("#,"):
                flags += line
        if not fields.get("msgid"):
            continue
        key = (unescape(fields["msgid"]), unescape(fields.get("msgid_plural", "")) or None)
        found[key] = [unescape(v) for k, v in sorted(fields.items()) if k.startswith("msgstr")]
        if "fuzzy" in flags:
            fuzzy.add(key)
    return found, fuzzy


def test_every_string_is_translated():
    found, fuzzy = entries(CATALOG)
    assert found
    assert not fuzzy
    assert [key for key, strings in found.items() if not all(strings)] == []


def test_the_compiled_catalog_matches_the_source():
    found, _ = entries(CATALOG)
    with CATALOG.with_suffix(".mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    for (msgid, plural), strings in found.items():
        if plural is None:
            assert compiled.gettext(msgid) == strings[0], msgid
        else:
            assert compiled.ngettext(msgid, plural, 1) == strings[0], msgid
            assert compiled.ngettext(msgid, plural, 2) == strings[1], msgid


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="makemessages needs GNU gettext")
def test_the_catalog_holds_every_string_the_code_marks(tmp_path, monkeypatch):
    copy = tmp_path / "admin_bulk_upsert"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["fr"], verbosity=0)
    marked, _ = entries(copy / "locale" / "fr" / "LC_MESSAGES" / "django.po")
    shipped, _ = entries(CATALOG)
    assert sorted(set(marked) - set(shipped)) == []
    assert sorted(set(shipped) - set(marked)) == []


def test_strings_come_out_in_french():
    with translation.override("fr"):
        assert translation.gettext("Dry run: nothing was saved.") == (
            "Essai à blanc : rien n’a été enregistré."
        )
        assert translation.ngettext(
            "Column %(columns)s has no name in the header row. Name it or delete it.",
            "Columns %(columns)s have no name in the header row. Name them or delete them.",
            2,
        ) % {"columns": "2, 3"} == (
            "Les colonnes 2, 3 n’ont pas de nom dans la ligne d’en-tête. "
            "Nommez-les ou supprimez-les."
        )


def test_a_french_admin_sees_the_upload_form_and_preview_in_french(
    importer_client, accounts, settings
):
    settings.LANGUAGE_CODE = "fr"
    page = importer_client.get(url("transaction", "import")).content.decode()
    assert "Colonnes qui identifient les lignes existantes" in page

    response = upload(importer_client, csv_file([transaction_line("A1", 1, "10.000")]))
    page = response.content.decode()
    assert "Aperçu" in page
    assert "Confirmer l’importation" in page
