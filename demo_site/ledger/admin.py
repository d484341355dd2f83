"""The ledger's admin: imports go through admin_bulk_upsert.

Transactions are keyed on (account number, date and time, amount), the same
key as the database constraint.
"""

from __future__ import annotations

from django.contrib import admin

from ledger.models import FinancialAccount, FinancialTransaction
from ledger.resources import FinancialAccountResource, FinancialTransactionResource

try:
    from admin_bulk_upsert import BulkUpsertAdminMixin
except (ImportError, AttributeError):  # pragma: no cover - until the admin lands
    from import_export.admin import ImportExportMixin as BulkUpsertAdminMixin


@admin.register(FinancialAccount)
class FinancialAccountAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
    resource_classes = [FinancialAccountResource]
    list_display = ["number", "name"]
    search_fields = ["number", "name"]


@admin.register(FinancialTransaction)
class FinancialTransactionAdmin(BulkUpsertAdminMixin, admin.ModelAdmin):
    resource_classes = [FinancialTransactionResource]
    list_display = ["datetime", "financial_account", "amount", "description"]
    list_filter = ["financial_account"]
    list_select_related = ["financial_account"]
    search_fields = ["financial_account__number", "description"]
    date_hierarchy = "datetime"
    # Thousands of accounts would make a <select> unusable.
    raw_id_fields = ["financial_account"]
