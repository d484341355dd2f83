"""Smoke test of the browser fixtures: a superuser logs in to the admin index."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.browser


def test_superuser_logs_in_to_admin_index(admin_page, artifacts_dir):
    assert admin_page.url.endswith(reverse("admin:index"))
    # Only an authenticated page has the logout form and greets the user by name.
    assert admin_page.locator("#logout-form").count() == 1
    assert "ADMIN" in admin_page.locator("#user-tools").inner_text().upper()
    admin_page.screenshot(path=str(artifacts_dir / "admin_index.png"))


def test_wrong_password_stays_on_login_page(page, superuser):
    page.goto(reverse("admin:login"))
    page.fill("#id_username", superuser.get_username())
    page.fill("#id_password", "not-the-password")
    page.click("input[type=submit]")
    assert page.locator(".errornote").is_visible()
    assert reverse("admin:login") in page.url
