"""Resources over the test models, declared the way users declare them."""

from import_export import fields
from import_export.widgets import ForeignKeyWidget

from admin_bulk_upsert import BulkUpsertResource
from tests.testapp.models import Account, LooseTransaction, Product, Transaction


class TransactionResource(BulkUpsertResource):
    """Keyed on (account number, datetime, amount); chunks of 10 rows."""

    account = fields.Field(
        attribute="account",
        column_name="account_number",
        widget=ForeignKeyWidget(Account, "number"),
    )

    class Meta:
        model = Transaction
        fields = ("account", "datetime", "amount", "description")
        import_id_fields = ("account", "datetime", "amount")
        batch_size = 10


class LooseTransactionResource(BulkUpsertResource):
    account = fields.Field(
        attribute="account",
        column_name="account_number",
        widget=ForeignKeyWidget(Account, "number"),
    )

    class Meta:
        model = LooseTransaction
        fields = ("account", "datetime", "amount", "description")
        import_id_fields = ("account", "datetime", "amount")


class ProductResource(BulkUpsertResource):
    class Meta:
        model = Product
        fields = ("code", "sku", "name", "price", "released", "stock")
        import_id_fields = ("code",)
