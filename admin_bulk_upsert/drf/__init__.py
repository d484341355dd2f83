"""The engine over HTTP: a bulk-upsert action for Django REST framework viewsets.

Optional: install the ``drf`` extra (``djangorestframework``) and import from
here; nothing else in the package imports this subpackage, so a project
without DRF never needs it. See ``docs/http-api.md``.
"""

from __future__ import annotations

from .job_views import ImportJobViewSet
from .permissions import CanImport
from .views import BulkUpsertMixin, BulkUpsertViewSet

__all__ = ["BulkUpsertMixin", "BulkUpsertViewSet", "CanImport", "ImportJobViewSet"]
