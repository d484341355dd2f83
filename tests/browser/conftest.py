"""Playwright fixtures driving Debian's Chromium against pytest-django's live server.

Playwright is never allowed to download a browser (this machine's network would refuse it):
it drives ``/usr/bin/chromium`` from the ``chromium`` Debian package, which ``tests/run.sh``
installs. Without it the browser tests are skipped with a reason, except under ``CI=true``,
where a missing browser is a failure rather than a green run that tested nothing.

Fixtures:

- ``chromium``: one headless browser per test module.
- ``page``: a fresh page (own cookies) whose relative URLs go to the live server.
- ``superuser``: a superuser ``admin`` with the password ``ADMIN_PASSWORD``.
- ``admin_page``: ``page`` already logged in to the admin as ``superuser``, through the
  login form, as a person would.
- ``artifacts_dir``: ``test-artifacts/browser/`` (gitignored) for screenshots. A failing
  browser test leaves a screenshot of its page there on its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import reverse

CHROMIUM = Path("/usr/bin/chromium")
# The flags this machine needs: without the background-networking ones Chromium keeps
# trying to reach Google's hosts, which the closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "browser-test-password"
ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
# Milliseconds Playwright waits for a page or an element; shorter than its 30 s default so a
# broken page fails fast instead of stalling the run.
TIMEOUT_MS = 15_000


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium package (bash tests/run.sh does)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true forbids skipping the browser tests", pytrace=False)
    pytest.skip(reason)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Keep each phase's report on the test item, so that ``page`` can tell at teardown
    # whether the test failed and leave a screenshot behind.
    report = yield
    setattr(item, f"_report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running on this thread, so Django would
    # refuse every ORM call from the test ("You cannot call this from an async context").
    # The tests are synchronous code; the loop only talks to the browser.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(request, chromium, live_server, artifacts_dir):
    context = chromium.new_context(base_url=live_server.url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        report = getattr(request.node, "_report_call", None)
        if report is not None and report.failed:
            name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
            page.screenshot(path=str(artifacts_dir / f"{name}-failed.png"), full_page=True)
        context.close()


@pytest.fixture
def superuser(transactional_db, django_user_model):
    return django_user_model.objects.create_superuser(
        username=ADMIN_USERNAME, email="admin@example.com", password=ADMIN_PASSWORD
    )


@pytest.fixture
def admin_page(page, superuser):
    """``page`` logged in to the admin through its login form."""
    page.goto(reverse("admin:login"))
    page.fill("#id_username", superuser.get_username())
    page.fill("#id_password", ADMIN_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"**{reverse('admin:index')}")
    return page
