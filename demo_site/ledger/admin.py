"""The ledger's admin, with bulk import added by ``admin_bulk_upsert.register()``.

The ModelAdmins below are ordinary ones; ``register()`` derives an importing
admin from each, so their list columns, filters and search stay as they are.
Accounts are keyed on their number (a resource built from ``unique_fields``);
transactions use a declared resource keyed on (account number, date and time,
amount), the same key as the database constraint.
"""

from __future__ import annotations

from django.contrib import admin

import admin_bulk_upsert
from ledger.models import FinancialAccount, FinancialTransaction
from ledger.resources import FinancialTransactionResource


@admin.register(FinancialAccount)
class FinancialAccountAdmin(admin.ModelAdmin):
    list_display = ["number", "name"]
    search_fields = ["number", "name"]


@admin.register(FinancialTransaction)
class FinancialTransactionAdmin(admin.ModelAdmin):
    list_display = ["datetime", "financial_account", "amount", "description"]
    list_filter = ["financial_account"]
    list_select_related = ["financial_account"]
    search_fields = ["financial_account__number", "description"]
    date_hierarchy = "datetime"
    # Hundreds of accounts would make a <select> unusable.
    raw_id_fields = ["financial_account"]


admin_bulk_upsert.register(FinancialAccount, unique_fields=["number"])
admin_bulk_upsert.register(FinancialTransaction, resource_class=FinancialTransactionResource)
