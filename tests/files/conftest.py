"""The readers touch no database: their tests run once, in the SQLite run.

Every file here reads bytes into rows (formats, encodings, calamine, XLSX windows)
and none asks for the database, so running them again on PostgreSQL and MariaDB
repeated the same minute of work in every pass without testing anything more.
"""

from pathlib import Path

import pytest
from django.conf import settings

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    if settings.TEST_DB == "sqlite":
        return
    skip = pytest.mark.skip(reason="the readers touch no database: tested in the sqlite run")
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(skip)
