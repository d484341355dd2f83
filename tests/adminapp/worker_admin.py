"""An admin site whose imports last seconds, for the browser test with a real worker.

``tests/browser/test_job_worker.py`` sets ``ROOT_URLCONF`` to this module. Its
one ModelAdmin imports ``LooseTransaction`` with the worker tests' resource
(``tests.jobs.worker_resources``, importable by the worker process), and asks
it to pause after each chunk: a 20,000-row import then takes seconds on any
machine, so that the page's progress bar is seen mid-way.
"""

from django.contrib import admin
from django.urls import path

from admin_bulk_upsert import BulkUpsertAdminMixin
from admin_bulk_upsert.admin import ImportJob, ImportJobAdmin
from tests.jobs.worker_resources import LooseTransactionResource
from tests.testapp.models import LooseTransaction

#: Seconds the resource waits after each chunk (of the test's BATCH_SIZE rows).
PAUSE_PER_CHUNK = 0.15

site = admin.AdminSite(name="admin")
site.register(ImportJob, ImportJobAdmin)


@admin.register(LooseTransaction, site=site)
class SlowLooseTransactionAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
    resource_classes = [LooseTransactionResource]

    def get_import_resource_kwargs(self, request, **kwargs):
        # A resource argument travels to the worker in the job's JSON.
        return {
            **super().get_import_resource_kwargs(request, **kwargs),
            "pause_per_chunk": PAUSE_PER_CHUNK,
        }


urlpatterns = [path("admin/", site.urls)]
