"""Admin integration: the mixin, its views, forms, staged uploads and preview."""

from __future__ import annotations

from .mixins import BulkUpsertAdminMixin
from .staging import cleanup_expired

__all__ = ["BulkUpsertAdminMixin", "cleanup_expired"]
