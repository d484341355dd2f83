"""The test API (``tests/urls.py``) and an endpoint whose imports last seconds, for real workers.

``tests/drf/test_jobs_worker.py`` posts to ``slow-transactions/bulk-upsert/``: its
resource pauses after each chunk (``pause_per_chunk``, a resource argument the
import job stores and the worker passes back), so that a test can watch a job
mid-way and kill its worker there.
"""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from admin_bulk_upsert.drf import BulkUpsertViewSet
from tests.jobs.worker_resources import LooseTransactionResource
from tests.urls import urlpatterns as test_urlpatterns

#: Seconds each chunk of a slow import waits, inside the import's transaction.
PAUSE_PER_CHUNK = 0.05


class SlowTransactionViewSet(BulkUpsertViewSet):
    resource_class = LooseTransactionResource

    def get_resource_kwargs(self):
        return {"pause_per_chunk": PAUSE_PER_CHUNK}


router = SimpleRouter()
router.register("slow-transactions", SlowTransactionViewSet, basename="slow-transaction")

urlpatterns = [*test_urlpatterns, path("worker-api/", include(router.urls))]
