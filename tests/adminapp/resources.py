from import_export import fields, widgets
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from admin_bulk_upsert import BulkUpsertResource
from tests.testapp.models import Account, FidelityArticle, FidelityTag, Product, Transaction


class TransactionResource(BulkUpsertResource):
    account = fields.Field(
        attribute="account", column_name="account", widget=ForeignKeyWidget(Account, "number")
    )

    class Meta:
        model = Transaction
        fields = ("account", "datetime", "amount", "description")
        import_id_fields = ("account", "datetime", "amount")
        skip_unchanged = True


class ProductResource(BulkUpsertResource):
    class Meta:
        model = Product
        fields = ("code", "sku", "name", "price", "stock")
        import_id_fields = ("sku",)
        allowed_import_id_fields = ("sku", "code")
        skip_unchanged = True


class ArticleResource(BulkUpsertResource):
    """A many-to-many column given by name; identical updates stay updates (stock's default).

    Instances are validated, so that a title too long makes an invalid row.
    """

    tags = fields.Field(
        attribute="tags", column_name="tags", widget=ManyToManyWidget(FidelityTag, field="name")
    )

    class Meta:
        model = FidelityArticle
        fields = ("code", "title", "tags")
        import_id_fields = ("code",)
        clean_model_instances = True


class CatalogueResource(BulkUpsertResource):
    """Products under column names of its own: files with the model's verbose names need mapping.

    ``product_sku`` reads ``Product.sku`` (verbose name "sku"), ``unit_price`` reads
    ``Product.price``; ``stock`` also answers to the alias "Quantity on hand".
    """

    product_sku = fields.Field(attribute="sku", column_name="product_sku")
    product_name = fields.Field(attribute="name", column_name="product_name")
    unit_price = fields.Field(
        attribute="price", column_name="unit_price", widget=widgets.DecimalWidget()
    )

    class Meta:
        model = Product
        fields = ("code", "product_sku", "product_name", "unit_price", "stock")
        import_id_fields = ("product_sku",)
        column_aliases = {"stock": ["Quantity on hand", "Qty"]}
        skip_unchanged = True


class UnmappedTransactionResource(TransactionResource):
    """Transactions with the mapping step turned off: headers must match, as before."""

    class Meta(TransactionResource.Meta):
        column_mapping = False
