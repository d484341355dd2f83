"""Viewsets over the test models, declared as a project declares them (tests/urls.py)."""

from import_export import fields
from import_export.widgets import ManyToManyWidget
from rest_framework import serializers, viewsets
from rest_framework.routers import DefaultRouter

from admin_bulk_upsert import BulkUpsertResource
from admin_bulk_upsert.drf import BulkUpsertMixin, BulkUpsertViewSet, ImportJobViewSet
from tests.engine.resources import TransactionResource
from tests.testapp.models import Account, FidelityArticle, FidelityTag, Transaction


class AccountResource(BulkUpsertResource):
    class Meta:
        model = Account
        fields = ("number", "name", "active")
        import_id_fields = ("number",)


class ArticleResource(BulkUpsertResource):
    tags = fields.Field(
        attribute="tags", column_name="tags", widget=ManyToManyWidget(FidelityTag, field="name")
    )

    class Meta:
        model = FidelityArticle
        fields = ("code", "title", "tags")
        import_id_fields = ("code",)


class TransactionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Transaction
        fields = ("id", "account", "datetime", "amount", "description")


class TransactionViewSet(BulkUpsertMixin, viewsets.ModelViewSet):
    """A project's own ModelViewSet, given the bulk action."""

    queryset = Transaction.objects.all()
    serializer_class = TransactionSerializer
    resource_class = TransactionResource


class AccountViewSet(BulkUpsertViewSet):
    resource_class = AccountResource


class ArticleViewSet(BulkUpsertViewSet):
    resource_class = ArticleResource


router = DefaultRouter()
router.register("transactions", TransactionViewSet)
router.register("accounts", AccountViewSet, basename="account")
router.register("articles", ArticleViewSet, basename="article")
router.register("import-jobs", ImportJobViewSet, basename="import-job")
