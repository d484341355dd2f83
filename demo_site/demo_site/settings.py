"""Settings of the demo project: a ledger imported through admin_bulk_upsert.

Databases come from environment variables holding URLs (see
``demo_site.database_url``):

- ``DATABASE_URL``: the ``default`` alias, used by ``runserver`` and ``demo``;
  a SQLite file next to ``manage.py`` when unset.
- ``DATABASE_URL_SQLITE``, ``DATABASE_URL_POSTGRESQL`` and
  ``DATABASE_URL_MARIADB``: the ``sqlite``, ``postgresql`` and ``mariadb``
  aliases, for ``benchmark --database ALIAS``; a SQLite file under
  ``benchmark_results/`` and the local servers when unset. Django connects to
  an alias only when it is used.

Imports run in the background, as import jobs on django-tasks-db's database
queue: ``manage.py demo`` starts its ``db_worker`` beside the server. On
SQLite, the jobs and the queue live in a second SQLite file (the ``jobs``
alias, routed there by ``admin_bulk_upsert.jobs.routing.JobDatabaseRouter``):
an import holds the write lock of the file it imports into for as long as it
runs, and the job's progress must be written meanwhile.

This is a demo: the secret key is public and DEBUG is on unless
``DJANGO_DEBUG=0``.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

from demo_site.database_url import parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "demo-only-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
# "testserver" lets the benchmark drive the admin with django.test.Client.
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "[::1]", "testserver"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "import_export",
    "admin_bulk_upsert",
    "django_tasks_db",
    "ledger",
]
# The benchmark's TimeStampedModel + history shape, where both packages are installed
# (the demo extra installs them); `benchmark --shapes` says why it skips it otherwise.
if find_spec("model_utils") and find_spec("simple_history"):
    INSTALLED_APPS += ["simple_history", "ledger_history"]
# The HTTP API (demo_site.urls, ledger.api) where the drf extra is installed; it answers
# logged-in users only, and importing needs the model's add and change permissions.
if find_spec("rest_framework"):
    INSTALLED_APPS += ["rest_framework"]
    REST_FRAMEWORK = {
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    }
    # DRF reads a JSON body through request.body, which Django refuses above 2.5 MB by
    # default (about 30,000 ledger records): a list that becomes an import job is larger.
    DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo_site.urls"
WSGI_APPLICATION = "demo_site.wsgi.application"

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

DATABASES = {
    "default": parse_database_url(
        os.environ.get("DATABASE_URL", "sqlite:///db.sqlite3"), base_dir=BASE_DIR
    ),
    # The benchmark's own SQLite file, so that it never empties the demo's ledger.
    "sqlite": parse_database_url(
        os.environ.get("DATABASE_URL_SQLITE", "sqlite:///benchmark_results/benchmark.sqlite3"),
        base_dir=BASE_DIR,
    ),
    "postgresql": parse_database_url(
        os.environ.get("DATABASE_URL_POSTGRESQL", "postgres://postgres@127.0.0.1:5432/test")
    ),
    "mariadb": parse_database_url(
        os.environ.get("DATABASE_URL_MARIADB", "mysql://root@127.0.0.1:3306/test")
    ),
}
# Sends every query to the alias the benchmark pins (the default otherwise),
# so that DIE, the plugin and Django's bulk_create all hit the same database.
DATABASE_ROUTERS = ["ledger.routing.PinnedDatabaseRouter"]

if (
    DATABASES["default"]["ENGINE"].endswith("sqlite3")
    and DATABASES["default"]["NAME"] != ":memory:"
):
    # WAL lets the admin read while an import writes; IMMEDIATE takes the write lock
    # when a transaction opens, so that two writers wait their turn (up to "timeout"
    # seconds) instead of failing with "database is locked" half-way.
    _SQLITE_OPTIONS = {
        "init_command": "PRAGMA journal_mode=WAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    DATABASES["default"]["OPTIONS"] = {**_SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
    # The jobs' file sits next to the ledger's: db.sqlite3 -> db-jobs.sqlite3.
    _main_file = Path(DATABASES["default"]["NAME"])
    DATABASES["jobs"] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(_main_file.with_name(f"{_main_file.stem}-jobs{_main_file.suffix}")),
        "OPTIONS": _SQLITE_OPTIONS,
    }
    DATABASE_ROUTERS.insert(0, "admin_bulk_upsert.jobs.routing.JobDatabaseRouter")

# Import jobs are queued in the database; `manage.py demo` runs `db_worker` to work them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
# UTC: the sample files hold naive local times, and a zone with daylight saving
# would make some of them ambiguous or non-existent.
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"

# The plugin's own settings; BATCH_SIZE at its default, listed to show where it goes.
ADMIN_BULK_UPSERT = {
    "BATCH_SIZE": 1000,
    # Uploads and reports of import jobs: a private folder that the server and the worker
    # beside it share (one machine; several would share STORAGES["admin_bulk_upsert"]).
    "STAGING_DIR": str(BASE_DIR / "job_files"),
}
DEMO_SAMPLE_DIR = BASE_DIR / "sample_files"
DEMO_BENCHMARK_DIR = BASE_DIR / "benchmark_results"
