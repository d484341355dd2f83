"""The ledger over HTTP (the ``drf`` extra): bulk upserts of transactions and their jobs.

``POST /api/financial-transactions/bulk-upsert/`` imports a JSON list of
transactions through the same resource as the admin; larger lists become import
jobs under ``/api/import-jobs/``. The benchmark's ``api_sync`` and ``api_job``
contenders time these requests. Only imported when Django REST framework is
installed (``demo_site.urls``).
"""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from admin_bulk_upsert.drf import BulkUpsertViewSet, ImportJobViewSet
from ledger.resources import FinancialTransactionResource


class FinancialTransactionBulkViewSet(BulkUpsertViewSet):
    resource_class = FinancialTransactionResource


router = DefaultRouter()
router.register(
    "financial-transactions", FinancialTransactionBulkViewSet, basename="financial-transaction"
)
router.register("import-jobs", ImportJobViewSet, basename="import-job")

urlpatterns = router.urls
