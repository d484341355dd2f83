"""How a ledger file maps onto the models.

A file names a transaction's account by its number (column ``account_number``)
and identifies the transaction by account, date and time, and amount: the same
three fields as the database's unique constraint.

``StockFinancialTransactionResource`` declares the same fields on DIE's own
``ModelResource``: the benchmark runs both on the same file, so any difference
in time or outcome is the engine's.
"""

from __future__ import annotations

from typing import Any

from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from admin_bulk_upsert import BulkUpsertResource
from ledger.models import (
    FinancialAccount,
    FinancialTransaction,
    PlainSignalledItem,
    PlainSluggedItem,
    PlainTaggedItem,
    SignalledItem,
    SluggedItem,
    Tag,
    TaggedItem,
)

#: The natural key of a transaction, as resource field names.
TRANSACTION_KEY = ("financial_account", "datetime", "amount")
#: Columns of an import file, in the order the sample files use.
TRANSACTION_COLUMNS = ("account_number", "datetime", "amount", "description")


def _account_field() -> fields.Field:
    return fields.Field(
        attribute="financial_account",
        column_name="account_number",
        widget=ForeignKeyWidget(FinancialAccount, "number"),
    )


class FinancialTransactionResource(BulkUpsertResource):
    financial_account = _account_field()

    class Meta:
        model = FinancialTransaction
        fields = ("financial_account", "datetime", "amount", "description")
        import_id_fields = TRANSACTION_KEY


class SavingFinancialTransactionResource(FinancialTransactionResource):
    """The plugin writing every row with ``save()``, as it does for a model that overrides
    ``save()`` or has ``pre_save``/``post_save`` receivers: the cost of that path."""

    class Meta(FinancialTransactionResource.Meta):
        bulk_writes = "never"


class StockFinancialTransactionResource(resources.ModelResource):
    """DIE's row-by-row import of the same fields: the baseline."""

    financial_account = _account_field()

    class Meta:
        model = FinancialTransaction
        fields = ("financial_account", "datetime", "amount", "description")
        import_id_fields = TRANSACTION_KEY


class StockBulkFinancialTransactionResource(StockFinancialTransactionResource):
    """DIE with ``use_bulk``: instances still looked up row by row, written in batches."""

    class Meta(StockFinancialTransactionResource.Meta):
        use_bulk = True
        batch_size = 1000


# The benchmark's shapes (``benchmark --shapes``): for each model, the plugin's resource and
# stock DIE's with the same fields and key. Every shape's file has the same four columns.

#: Columns of a shape's file, in order; ``code`` is the key.
ITEM_COLUMNS = ("code", "name", "amount", "tags")


def item_resources(
    model: type[Any], **declared: fields.Field
) -> tuple[type[BulkUpsertResource], type[resources.ModelResource]]:
    """The plugin's resource and stock DIE's for ``model``, with the same fields."""
    meta = {"model": model, "fields": ITEM_COLUMNS, "import_id_fields": ("code",)}
    name = model.__name__
    plugin = type(
        f"{name}Resource",
        (BulkUpsertResource,),
        {**declared, "Meta": type("Meta", (), meta), "__module__": __name__},
    )
    stock = type(
        f"Stock{name}Resource",
        (resources.ModelResource,),
        {**declared, "Meta": type("Meta", (), meta), "__module__": __name__},
    )
    return plugin, stock


def _tags_field() -> fields.Field:
    return fields.Field(
        attribute="tags", column_name="tags", widget=ManyToManyWidget(Tag, field="name")
    )


TaggedItemResource, StockTaggedItemResource = item_resources(TaggedItem, tags=_tags_field())
PlainTaggedItemResource, _ = item_resources(PlainTaggedItem)
SignalledItemResource, StockSignalledItemResource = item_resources(SignalledItem)
PlainSignalledItemResource, _ = item_resources(PlainSignalledItem)
SluggedItemResource, StockSluggedItemResource = item_resources(SluggedItem)
PlainSluggedItemResource, _ = item_resources(PlainSluggedItem)
