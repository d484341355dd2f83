"""Staged uploads expire: each upload removes expired ones, and cleanup_expired() can be run."""

from __future__ import annotations

import os
import time

from admin_bulk_upsert.admin import cleanup_expired
from tests.admin.conftest import csv_file, transaction_line, upload

OLD_ID = "0" * 32


def age(path, seconds):
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_cleanup_removes_only_expired_staged_files(settings, admin_site_urls):
    admin_site_urls.mkdir(parents=True)
    old_upload = admin_site_urls / f"{OLD_ID}.upload"
    old_preview = admin_site_urls / f"{OLD_ID}.preview.csv"
    fresh = admin_site_urls / f"{'1' * 32}.upload"
    foreign = admin_site_urls / "somebody-elses-file.txt"
    for path in (old_upload, old_preview, fresh, foreign):
        path.write_text("x")
    for path in (old_upload, old_preview, foreign):
        age(path, 3601)

    assert cleanup_expired() == 2

    assert sorted(p.name for p in admin_site_urls.iterdir()) == sorted([fresh.name, foreign.name])


def test_each_upload_removes_expired_uploads(importer_client, accounts, admin_site_urls):
    admin_site_urls.mkdir(parents=True)
    old_upload = admin_site_urls / f"{OLD_ID}.upload"
    old_upload.write_text("x")
    age(old_upload, 3601)

    upload(importer_client, csv_file([transaction_line("A1", 1, "1.000")]))

    names = [p.name for p in admin_site_urls.iterdir()]
    assert old_upload.name not in names
    assert len(names) == 2  # the new upload and its preview CSV


def test_staged_files_are_readable_by_their_owner_only(importer_client, accounts, admin_site_urls):
    upload(importer_client, csv_file([transaction_line("A1", 1, "1.000")]))

    modes = {p.name.split(".", 1)[1]: p.stat().st_mode & 0o777 for p in admin_site_urls.iterdir()}
    assert modes == {"upload": 0o600, "preview.csv": 0o600}
    assert admin_site_urls.stat().st_mode & 0o777 == 0o700
