"""Resources over the test models, declared the way users declare them."""

from import_export import fields
from import_export.widgets import ForeignKeyWidget

from admin_bulk_upsert import BulkUpsertResource
from tests.testapp.models import Account, LooseTransaction, Product, Transaction


def account_by_number():
    return fields.Field(
        attribute="account",
        column_name="account_number",
        widget=ForeignKeyWidget(Account, "number"),
    )


class TransactionResource(BulkUpsertResource):
    """Keyed on (account number, datetime, amount); chunks of 10 rows."""

    account = account_by_number()

    class Meta:
        model = Transaction
        fields = ("account", "datetime", "amount", "description")
        import_id_fields = ("account", "datetime", "amount")
        batch_size = 10


class LooseTransactionResource(TransactionResource):
    """The same key on a model without a unique constraint."""

    class Meta(TransactionResource.Meta):
        model = LooseTransaction


class ProductResource(BulkUpsertResource):
    class Meta:
        model = Product
        fields = ("code", "sku", "name", "price", "released", "stock")
        import_id_fields = ("code",)
