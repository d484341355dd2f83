"""The admin's import as a user does it: upload, preview, confirm.

The steps themselves come from the admin's own helper,
``ledger.benchmark.admin_views.preview_and_confirm``, which knows the
admin's forms; the benchmark's ``--admin-callable`` swaps in any callable with
the same signature ``(client, import_url, file_name, data)``. This module only
supplies what the project knows: who logs in and where the import page is.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

DEFAULT_FLOW = "ledger.benchmark.admin_views.preview_and_confirm"
_USERNAME = "benchmark-admin"


def benchmark_user(alias: str) -> Any:
    """The superuser the benchmark's requests run as, on the benchmarked database."""
    user_model = get_user_model()
    user, _ = user_model._default_manager.db_manager(alias).get_or_create(
        **{user_model.USERNAME_FIELD: _USERNAME},
        defaults={"is_staff": True, "is_superuser": True},
    )
    return user


def admin_client(alias: str) -> Client:
    """A client logged in as a superuser that exists on the benchmarked database."""
    client = Client()
    client.force_login(benchmark_user(alias))
    return client


def transaction_import_url() -> str:
    return reverse("admin:ledger_financialtransaction_import")
