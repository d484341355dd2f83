"""Settings for the test suite.

The database comes from ``ADMIN_BULK_UPSERT_TEST_DB``: ``sqlite`` (the default),
``postgresql`` or ``mariadb``. The servers are the ones this machine runs on
127.0.0.1; ``ADMIN_BULK_UPSERT_TEST_DB_HOST`` and friends override them.
"""

from __future__ import annotations

import os

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

if TEST_DB == "sqlite":
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
    "admin_bulk_upsert",
    "tests.testapp",
]

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
