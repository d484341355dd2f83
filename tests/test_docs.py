"""The documentation site: it builds without a warning, and its reference pages are complete.

The build runs Sphinx as a user would (``sphinx-build -W -b html docs <dir>``) in a
subprocess, so a broken link between pages, a heading anchor that no longer exists,
a page left out of the table of contents or a docstring that is not valid
reStructuredText fails here. The other tests read the source and the pages: every
system check id the package reports is on the checks page, and every settings key
is on the settings page with its default.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest
from django.conf import settings

from admin_bulk_upsert.conf import Config

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CHECKS = ROOT / "admin_bulk_upsert" / "checks"

only_sqlite = pytest.mark.skipif(
    settings.TEST_DB != "sqlite",
    reason="the docs do not touch the database; built in the sqlite run",
)


@only_sqlite
@pytest.mark.skipif(
    not all(find_spec(name) for name in ("sphinx", "myst_parser", "furo")),
    reason="the docs extra (sphinx, myst-parser, furo) is not installed",
)
def test_the_docs_build_without_warnings(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    completed = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
        + [str(DOCS), str(tmp_path / "html")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert (tmp_path / "html" / "api.html").exists()


def _reported_check_ids() -> set[str]:
    source = "\n".join(path.read_text() for path in CHECKS.glob("*.py"))
    return set(re.findall(r'id="admin_bulk_upsert\.([EW]\d{3})"', source))


def test_the_checks_report_ids():
    assert {"E001", "W001"} <= _reported_check_ids()


@pytest.mark.parametrize("check_id", sorted(_reported_check_ids()))
def test_every_check_id_is_on_the_checks_page_with_its_fix(check_id):
    page = (DOCS / "checks.md").read_text()
    (row,) = [line for line in page.splitlines() if line.startswith(f"| `{check_id}` |")]
    problem, fix = (cell.strip() for cell in row.split(" | ")[1:3])
    assert problem and fix


@pytest.mark.parametrize("key", [field.name for field in dataclasses.fields(Config)])
def test_every_setting_is_on_the_settings_page_with_its_default(key):
    page = (DOCS / "settings.md").read_text()
    (row,) = [line for line in page.splitlines() if line.startswith(f"| `{key}` |")]
    default = row.split(" | ")[1].strip().strip("`")
    assert eval(default) == getattr(Config(), key)  # the page's expression: 50 * 1024 * 1024


def test_the_docs_name_no_owner_nor_issue():
    pages = [ROOT / "README.md", *DOCS.rglob("*.md")]
    for page in pages:
        text = page.read_text()
        assert "(owner:" not in text, page
        assert not re.search(r"\bissues? \d+", text, re.I), page
