"""Accounts and their transactions.

A transaction has no identifier of its own in the files people import: it is
known by its account number, its date and time, and its amount. The
``UniqueConstraint`` on those three makes the database the last judge of
duplicates, and lets ``bulk_create(update_conflicts=True)`` upsert on them.
"""

from __future__ import annotations

from django.db import models
from django.utils.text import slugify
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


# The benchmark's model shapes (``manage.py benchmark --shapes``). Each shaped model has a
# plain twin with the same columns; the same file is imported into both, and stock DIE
# imports it into the shaped one. The TimeStampedModel + history shape lives in the
# ``ledger_history`` app, installed only where django-model-utils and
# django-simple-history are.


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ItemColumns(models.Model):
    """The columns every shape's file has: a code (the key), a name and an amount."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)

    class Meta:
        abstract = True
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class TaggedItem(ItemColumns):
    """Shape: a many-to-many column (tags by name)."""

    tags = models.ManyToManyField(Tag, blank=True, related_name="items")


class PlainTaggedItem(ItemColumns):
    """Twin of ``TaggedItem``: the same tags column, kept as text."""

    tags = models.CharField(_("tags"), max_length=200, blank=True)


class SignalledItem(ItemColumns):
    """Shape: a model in a project with a ``pre_save`` receiver for every sender.

    The receiver (``ledger.benchmark.shapes.fill_search_text``) acts on ``Searchable``
    models only and does nothing for this one. The benchmark connects it for the shaped
    contenders' runs only, so that it never touches the other contenders.
    """

    tags = models.CharField(_("tags"), max_length=200, blank=True)


class PlainSignalledItem(ItemColumns):
    """Twin of ``SignalledItem``, imported with no receiver connected."""

    tags = models.CharField(_("tags"), max_length=200, blank=True)


class SluggedItem(ItemColumns):
    """Shape: a ``save()`` doing real work, filling the slug from the name."""

    tags = models.CharField(_("tags"), max_length=200, blank=True)
    slug = models.SlugField(_("slug"), max_length=120, blank=True)

    def save(self, *args: object, **kwargs: object) -> None:
        self.slug = slugify(self.name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class PlainSluggedItem(ItemColumns):
    """Twin of ``SluggedItem``: the same slug column, left as it is."""

    tags = models.CharField(_("tags"), max_length=200, blank=True)
    slug = models.SlugField(_("slug"), max_length=120, blank=True)
