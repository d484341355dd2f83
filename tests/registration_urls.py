"""An admin site set up the way a project would, through ``register()`` only.

Its own ``AdminSite``, so that the client tests in ``test_registration.py``
never change ``admin.site``: an unregistered model (Account), a project's admin
with its own options and changelist template (Transaction) and a third-party
admin (``django.contrib.auth``'s ``UserAdmin``).
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.urls import path

from admin_bulk_upsert import register
from tests.testapp.models import Account, Transaction

site = admin.AdminSite(name="registration_admin")


@admin.action(description="Mark reconciled")
def mark_reconciled(modeladmin, request, queryset):
    queryset.update(description="reconciled")


class TransactionAdmin(admin.ModelAdmin):
    list_display = ["account", "datetime", "amount", "description"]
    search_fields = ["description"]
    actions = [mark_reconciled]
    change_list_template = "ledger/transaction_change_list.html"

    def has_delete_permission(self, request, obj=None):
        return False


site.register(Transaction, TransactionAdmin)
site.register(User, UserAdmin)

register(Account, unique_fields=["number"], site=site)
register(Transaction, unique_fields=["account", "datetime", "amount"], site=site)
register(User, unique_fields=["username"], fields=["username", "email"], site=site)

urlpatterns = [path("admin/", site.urls)]
