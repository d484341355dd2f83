"""Accounts and their transactions.

A transaction has no identifier of its own in the files people import: it is
known by its account number, its date and time, and its amount. The
``UniqueConstraint`` on those three makes the database the last judge of
duplicates, and lets ``bulk_create(update_conflicts=True)`` upsert on them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FinancialAccount(models.Model):
    number = models.CharField(_("number"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["number"]
        verbose_name = _("financial account")
        verbose_name_plural = _("financial accounts")

    def __str__(self) -> str:
        return self.number


class FinancialTransaction(models.Model):
    financial_account = models.ForeignKey(
        FinancialAccount,
        on_delete=models.CASCADE,
        related_name="transactions",
        verbose_name=_("financial account"),
    )
    datetime = models.DateTimeField(_("date and time"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        ordering = ["datetime", "pk"]
        verbose_name = _("financial transaction")
        verbose_name_plural = _("financial transactions")
        constraints = [
            models.UniqueConstraint(
                fields=["financial_account", "datetime", "amount"],
                name="ledger_transaction_natural_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.financial_account_id} {self.datetime:%Y-%m-%d %H:%M:%S} {self.amount}"
