"""W004-W006: where job files go, whether workers can read them, whether progress shows."""

from __future__ import annotations

import pytest
from django.core.checks import Warning
from django.db import connection
from django.test import override_settings

from admin_bulk_upsert.checks.jobs import check_job_storage, check_job_workers
from admin_bulk_upsert.jobs.compat import DUMMY_BACKEND, IMMEDIATE_BACKEND
from admin_bulk_upsert.jobs.storage import private_folder

DEFAULT_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WORKER = {"default": {"BACKEND": DUMMY_BACKEND}}
IMMEDIATE = {"default": {"BACKEND": IMMEDIATE_BACKEND}}
W004_HINT = (
    "Keep job files private: give {source} a folder outside MEDIA_ROOT and STATIC_ROOT, "
    "without a base_url (or private cloud storage); unset, a private folder under the "
    "system's temporary folder is used."
)


def job_storage(**options):
    return {
        **DEFAULT_STORAGES,
        "admin_bulk_upsert": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": options,
        },
    }


def w004(source, reasons):
    return Warning(
        f"Import jobs keep uploaded files and reports in {source}, which a web server may "
        f"publish: {reasons}.",
        hint=W004_HINT.format(source=source),
        id="admin_bulk_upsert.W004",
    )


class TestW004PublishedStorage:
    def test_quiet_by_default(self):
        assert check_job_storage() == []

    def test_a_storage_folder_under_media_root(self, tmp_path):
        media = tmp_path / "media"
        with override_settings(
            MEDIA_ROOT=str(media), STORAGES=job_storage(location=str(media / "imports"))
        ):
            assert check_job_storage() == [
                w004(
                    "STORAGES['admin_bulk_upsert']",
                    f"{media / 'imports'} is under MEDIA_ROOT ({media})",
                )
            ]

    def test_a_file_system_storage_without_location_is_media_root(self, tmp_path):
        media = tmp_path / "media"
        with override_settings(MEDIA_ROOT=str(media), STORAGES=job_storage()):
            assert check_job_storage() == [
                w004("STORAGES['admin_bulk_upsert']", f"{media} is under MEDIA_ROOT ({media})")
            ]

    def test_a_base_url(self, tmp_path):
        storages = job_storage(location=str(tmp_path / "jobs"), base_url="/uploads/")
        with override_settings(STORAGES=storages):
            assert check_job_storage() == [
                w004("STORAGES['admin_bulk_upsert']", "it has a base_url (/uploads/)")
            ]

    def test_staging_dir_under_static_root(self, tmp_path):
        static = tmp_path / "static"
        with override_settings(
            STATIC_ROOT=str(static), ADMIN_BULK_UPSERT={"STAGING_DIR": str(static / "x")}
        ):
            assert check_job_storage() == [
                w004(
                    "ADMIN_BULK_UPSERT['STAGING_DIR']",
                    f"{static / 'x'} is under STATIC_ROOT ({static})",
                )
            ]

    def test_quiet_for_a_private_folder_beside_media_root(self, tmp_path):
        with override_settings(
            MEDIA_ROOT=str(tmp_path / "media"),
            STORAGES=job_storage(location=str(tmp_path / "media-private")),
        ):
            assert check_job_storage() == []

    def test_quiet_for_other_storage_classes(self):
        storages = {
            **DEFAULT_STORAGES,
            "admin_bulk_upsert": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        }
        with override_settings(STORAGES=storages):
            assert check_job_storage() == []


def w005():
    return Warning(
        "Import jobs run on the task backend 'default' "
        f"({DUMMY_BACKEND}), but their uploads are kept in this "
        f"machine's temporary folder ({private_folder()}): a worker on another machine, in "
        "another container or with a temporary folder of its own (systemd PrivateTmp) cannot "
        "read them.",
        hint="Define STORAGES['admin_bulk_upsert'] as storage that every web server and worker "
        "shares (S3 and the like, or a shared folder); with workers on this machine only, set "
        "ADMIN_BULK_UPSERT['STAGING_DIR'] to a folder they all read.",
        id="admin_bulk_upsert.W005",
    )


def w006():
    return Warning(
        "Import jobs are stored in the SQLite database 'default', which also holds imported "
        "models (database 'default'): SQLite lets one connection write at a time, so a "
        "running job's progress cannot be written and its page shows none until the job ends.",
        hint="Give the admin_bulk_upsert app a SQLite database of its own with a database "
        "router (db_for_read, db_for_write and allow_migrate), or use PostgreSQL or MariaDB.",
        id="admin_bulk_upsert.W006",
    )


SQLITE = connection.vendor == "sqlite"


class TestW005W006Workers:
    @override_settings(TASKS=WORKER)
    def test_a_worker_backend_with_files_in_the_temporary_folder(self):
        assert check_job_workers() == [w005()] + ([w006()] if SQLITE else [])

    @pytest.mark.parametrize(
        "overrides",
        [
            {"ADMIN_BULK_UPSERT": {"STAGING_DIR": "/srv/shared/imports"}},
            {"STORAGES": job_storage(location="/srv/shared/imports")},
        ],
    )
    def test_w005_quiet_once_the_project_names_the_storage(self, overrides):
        with override_settings(TASKS=WORKER, **overrides):
            assert check_job_workers() == ([w006()] if SQLITE else [])

    @pytest.mark.parametrize(
        "overrides",
        [
            {"TASKS": IMMEDIATE},
            {"TASKS": WORKER, "ADMIN_BULK_UPSERT": {"BACKGROUND_IMPORTS": False}},
        ],
    )
    def test_quiet_when_jobs_run_in_the_request(self, overrides):
        # The default: the import runs in the request, on one machine, and nobody
        # watches a job page while it does.
        with override_settings(**overrides):
            assert check_job_workers() == []
