"""A confirm whose token was altered, expired, or issued to someone else imports nothing.

The token is checked before the disk is touched: the staged file stays in
place (stock DIE deletes whatever temp file the confirm form names).
"""

from __future__ import annotations

from django.core import signing

from admin_bulk_upsert.admin import staging
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


def staged_preview(client, staging_dir):
    token = token_from(upload(client, csv_file([transaction_line("A1", 1, "1.000")])))
    files = sorted(p.name for p in staging_dir.iterdir())
    assert len(files) == 2  # the upload and its preview CSV
    return token, files


def assert_untouched(staging_dir, files):
    assert sorted(p.name for p in staging_dir.iterdir()) == files
    assert Transaction.objects.count() == 0


def test_altered_token_is_refused(importer_client, accounts, admin_site_urls):
    token, files = staged_preview(importer_client, admin_site_urls)
    altered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    response = confirm(importer_client, altered)

    assert response.status_code == 400
    assert_untouched(admin_site_urls, files)


def test_token_naming_a_temp_file_is_refused(importer_client, accounts, admin_site_urls):
    token, files = staged_preview(importer_client, admin_site_urls)

    response = confirm(importer_client, files[0])

    assert response.status_code == 400
    assert_untouched(admin_site_urls, files)


def test_token_signed_with_another_key_is_refused(
    importer_client, importer, accounts, admin_site_urls
):
    token, files = staged_preview(importer_client, admin_site_urls)
    payload = signing.loads(token, salt=staging.SALT)
    forged = signing.dumps(payload, key="not-the-secret", salt=staging.SALT)

    assert confirm(importer_client, forged).status_code == 400
    assert_untouched(admin_site_urls, files)


def test_another_users_token_is_forbidden(client, importer_client, accounts, admin_site_urls):
    token, files = staged_preview(importer_client, admin_site_urls)
    colleague = make_staff(
        "colleague",
        "testapp.view_transaction",
        "testapp.add_transaction",
        "testapp.change_transaction",
    )
    client.force_login(colleague)

    assert confirm(client, token).status_code == 403
    assert client.get(url("transaction", "import_preview_csv"), {"token": token}).status_code == 403
    assert_untouched(admin_site_urls, files)


def test_token_for_another_model_is_forbidden(importer_client, accounts, admin_site_urls):
    token, files = staged_preview(importer_client, admin_site_urls)

    assert confirm(importer_client, token, model="product").status_code == 403
    assert_untouched(admin_site_urls, files)


def test_expired_token_asks_for_a_new_upload(settings, importer_client, accounts, admin_site_urls):
    token, files = staged_preview(importer_client, admin_site_urls)
    settings.ADMIN_BULK_UPSERT = {**settings.ADMIN_BULK_UPSERT, "STAGING_MAX_AGE": -1}

    response = confirm(importer_client, token)

    assert response.status_code == 400
    assert "This preview expired. Please upload the file again." in response.content.decode()
    assert_untouched(admin_site_urls, files)


def test_staged_file_altered_on_disk_is_not_imported(importer_client, accounts, admin_site_urls):
    token, files = staged_preview(importer_client, admin_site_urls)
    staged = next(p for p in admin_site_urls.iterdir() if p.name.endswith(".upload"))
    staged.write_bytes(staged.read_bytes().replace(b"A1", b"A2"))

    response = confirm(importer_client, token)

    assert response.status_code == 400
    assert Transaction.objects.count() == 0
