from django.contrib import admin

from admin_bulk_upsert import BulkUpsertAdminMixin
from tests.adminapp.resources import ProductResource, TransactionResource
from tests.testapp.models import Account, Product, Transaction

site = admin.AdminSite(name="admin")


@admin.register(Transaction, site=site)
class TransactionAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
    resource_classes = [TransactionResource]


@admin.register(Product, site=site)
class ProductAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
    resource_classes = [ProductResource]


@admin.register(Account, site=site)
class AccountAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
    """No resource_classes: the mixin builds one with bulk_resource_factory()."""
