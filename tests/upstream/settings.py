"""Settings for DIE's test suite: DIE's own ``tests/settings.py``, pointed at our servers.

DIE's settings pick the database from ``IMPORT_EXPORT_TEST_TYPE``
(``postgres``, ``mysql-innodb``, else SQLite in memory) and are kept as they
are (charset, collation, ``IMPORT_EXPORT_USE_TRANSACTIONS``); only the server,
user and test database name are ours. On top: the conformance app (first, see
:mod:`.substitution`), ``admin_bulk_upsert`` outside stock mode, and the
recording test runner.
"""

from __future__ import annotations

import importlib
import os

import tests

_die = importlib.import_module("settings")  # DIE's tests/settings.py, on sys.path

# DIE runs its suite with its repository root on sys.path too, and a few tests
# name their classes ``tests.core...``; our ``tests`` package takes that name
# here, so DIE's test folder is added to its path.
tests.__path__.append(os.path.dirname(_die.__file__))
globals().update({name: value for name, value in vars(_die).items() if name.isupper()})

MODE = os.environ.get("ADMIN_BULK_UPSERT_CONFORMANCE_MODE", "stock")
_HOST = os.environ.get("ADMIN_BULK_UPSERT_TEST_DB_HOST", "127.0.0.1")
_TEST_NAME = f"test_die_conformance_{os.getpid()}"

DATABASES = {"default": dict(_die.DATABASES["default"])}
_db = DATABASES["default"]
if "postgresql" in _db["ENGINE"]:
    _db.update(NAME="test", USER="postgres", PASSWORD="", HOST=_HOST, PORT="5432")
    _db["TEST"] = {**_db.get("TEST", {}), "NAME": _TEST_NAME}
elif "mysql" in _db["ENGINE"]:
    _db.update(NAME="test", USER="root", PASSWORD="", HOST=_HOST, PORT="3306")
    _db["TEST"] = {**_db.get("TEST", {}), "NAME": _TEST_NAME}

INSTALLED_APPS = ["tests.upstream.apps.ConformanceConfig", *_die.INSTALLED_APPS]
if MODE != "stock":
    INSTALLED_APPS.append("admin_bulk_upsert")

TEST_RUNNER = "tests.upstream.recording.RecordingRunner"
