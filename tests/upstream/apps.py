"""The app that applies the conformance mode before DIE's test admin loads."""

from __future__ import annotations

import os

from django.apps import AppConfig


class ConformanceConfig(AppConfig):
    name = "tests.upstream"
    label = "conformance"

    def ready(self) -> None:
        from .substitution import apply

        apply(os.environ.get("ADMIN_BULK_UPSERT_CONFORMANCE_MODE", "stock"))
