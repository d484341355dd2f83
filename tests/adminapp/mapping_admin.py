"""An admin site for the column mapping tests: resources whose columns files rarely match.

``Product`` is imported with ``CatalogueResource`` (column names that are not the
model's verbose names, and an alias), ``Transaction`` with the mapping step turned
off. Tests set ``ROOT_URLCONF`` to this module.
"""

from django.contrib import admin
from django.urls import path

from admin_bulk_upsert import BulkUpsertAdminMixin
from admin_bulk_upsert.admin import ImportJob, ImportJobAdmin
from tests.adminapp.resources import CatalogueResource, UnmappedTransactionResource
from tests.testapp.models import Product, Transaction

site = admin.AdminSite(name="admin")
site.register(ImportJob, ImportJobAdmin)


@admin.register(Product, site=site)
class CatalogueAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
    resource_classes = [CatalogueResource]


@admin.register(Transaction, site=site)
class UnmappedTransactionAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
    resource_classes = [UnmappedTransactionResource]


urlpatterns = [path("admin/", site.urls)]
