"""The documentation's reference pages are complete.

Every system check id the package reports is on the checks page, and every settings key is on
the settings page with its default. The site itself is built with warnings as errors by the
``docs`` nox session (``nox -s docs``, run by ``bash tests/run.sh``), once per test run.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from admin_bulk_upsert.conf import Config

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
CHECKS = ROOT / "admin_bulk_upsert" / "checks"


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
