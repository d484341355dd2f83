"""The demo serves the admin, and the HTTP API under ``api/`` when DRF is installed."""

from __future__ import annotations

from importlib.util import find_spec

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
# The drf extra (admin_bulk_upsert.drf): without it the demo is the admin alone.
if find_spec("rest_framework"):
    urlpatterns.insert(0, path("api/", include("ledger.api")))
