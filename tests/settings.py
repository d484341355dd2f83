"""Settings for the test suite.

The database comes from ``ADMIN_BULK_UPSERT_TEST_DB``: ``sqlite`` (the default),
``postgresql`` or ``mariadb``. The servers are the ones this machine runs on
127.0.0.1; ``ADMIN_BULK_UPSERT_TEST_DB_HOST`` and friends override them.

SQLite's test database lives in memory, where no other process can see it.
The tests that start real worker processes (``tests/jobs/test_workers*.py``,
``tests/drf/test_jobs_worker.py``) need files instead:
``ADMIN_BULK_UPSERT_TEST_SQLITE_DIR`` names a folder for them, and then the
jobs get a second file of their own, as docs/jobs/index.md advises for SQLite
(``admin_bulk_upsert.jobs.routing``), so that their progress can be written
while an import holds the main file's write lock. ``tests/run.sh`` runs the
worker tests that way.
"""

from __future__ import annotations

import os
from importlib.util import find_spec

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Europe/Paris"
LANGUAGE_CODE = "en"
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEST_DB = os.environ.get("ADMIN_BULK_UPSERT_TEST_DB", "sqlite")
_HOST = os.environ.get("ADMIN_BULK_UPSERT_TEST_DB_HOST", "127.0.0.1")
# One test database per test process, so that runs side by side (a developer's
# and CI's, or several suites) never drop each other's database.
_TEST_NAME = os.environ.get(
    "ADMIN_BULK_UPSERT_TEST_DB_NAME", f"test_admin_bulk_upsert_{os.getpid()}"
)

SQLITE_DIR = os.environ.get("ADMIN_BULK_UPSERT_TEST_SQLITE_DIR", "")

if TEST_DB == "sqlite" and SQLITE_DIR:

    def _sqlite_file(name: str) -> dict:
        path = os.path.join(SQLITE_DIR, f"{name}.sqlite3")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            # WAL lets readers in while an import writes; IMMEDIATE takes the write lock
            # when a transaction opens, so that two writers queue (for up to "timeout"
            # seconds) instead of failing with "database is locked" mid-transaction.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 60,
            },
            "TEST": {"NAME": path},
        }

    DATABASES = {"default": _sqlite_file("default"), "jobs": _sqlite_file("jobs")}
    DATABASE_ROUTERS = ["admin_bulk_upsert.jobs.routing.JobDatabaseRouter"]
elif TEST_DB == "sqlite":
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
elif TEST_DB == "postgresql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "test",
            "USER": os.environ.get("ADMIN_BULK_UPSERT_TEST_DB_USER", "postgres"),
            "HOST": _HOST,
            "PORT": "5432",
            "TEST": {"NAME": _TEST_NAME},
        }
    }
elif TEST_DB == "mariadb":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": "test",
            "USER": os.environ.get("ADMIN_BULK_UPSERT_TEST_DB_USER", "root"),
            "PASSWORD": "",
            "HOST": _HOST,
            "PORT": "3306",
            "OPTIONS": {"charset": "utf8mb4"},
            "TEST": {"NAME": _TEST_NAME, "CHARSET": "utf8mb4"},
        }
    }
else:
    raise RuntimeError(
        f"ADMIN_BULK_UPSERT_TEST_DB={TEST_DB!r}: expected sqlite, postgresql or mariadb"
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "import_export",
    "simple_history",  # tests/testapp's history-tracked models
    "admin_bulk_upsert",
    "tests.testapp",
]
# The task backends the worker tests start real workers for (tests/jobs/workers.py);
# those tests skip when the package is missing.
INSTALLED_APPS += [app for app in ("django_tasks_db", "django_rq") if find_spec(app)]
# The HTTP API (admin_bulk_upsert.drf) and its tests (tests/drf), when DRF is installed.
INSTALLED_APPS += [app for app in ("rest_framework",) if find_spec(app)]
if find_spec("drf_spectacular"):
    # Set before the views are imported: drf-spectacular's decorators read it then.
    REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

STATIC_URL = "/static/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
