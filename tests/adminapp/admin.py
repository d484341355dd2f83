from django.contrib import admin

from admin_bulk_upsert import BulkUpsertAdminMixin
from admin_bulk_upsert.admin import ImportJob, ImportJobAdmin
from tests.adminapp.resources import ArticleResource, ProductResource, TransactionResource
from tests.testapp.models import Account, FidelityArticle, Product, Transaction

site = admin.AdminSite(name="admin")
# A custom site registers the job history itself (the default site gets it on autodiscover).
site.register(ImportJob, ImportJobAdmin)


@admin.register(Transaction, site=site)
class TransactionAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
    resource_classes = [TransactionResource]


@admin.register(Product, site=site)
class ProductAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
    resource_classes = [ProductResource]


@admin.register(Account, site=site)
class AccountAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
    """No resource_classes: the mixin builds one with bulk_resource_factory()."""


@admin.register(FidelityArticle, site=site)
class ArticleAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
    resource_classes = [ArticleResource]
