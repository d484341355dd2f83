"""W007: imports without a transaction on a PostgreSQL database that a pooler may front."""

from __future__ import annotations

import pytest
from django.core.checks import Warning
from django.test import override_settings

from admin_bulk_upsert import BulkUpsertResource
from admin_bulk_upsert.checks import check_pooled_imports, check_resource_class
from tests.testapp.models import Product

POSTGRESQL = {"ENGINE": "django.db.backends.postgresql", "NAME": "shop"}
POOLED = {**POSTGRESQL, "DISABLE_SERVER_SIDE_CURSORS": True}
MARIADB_POOLED = {"ENGINE": "django.db.backends.mysql", "NAME": "shop"}
MARIADB_POOLED["DISABLE_SERVER_SIDE_CURSORS"] = True
HINT = (
    "Import in one transaction (use_transactions = True, django-import-export's default), "
    "or connect these imports directly or through session pooling. If no pooler in "
    "transaction mode is in front of the database, add 'admin_bulk_upsert.W007' to "
    "SILENCED_SYSTEM_CHECKS."
)


def w007(cause, who, databases, obj=None):
    return Warning(
        f"With {cause}, {who} without a transaction on the PostgreSQL database {databases}, "
        "whose DISABLE_SERVER_SIDE_CURSORS = True says a pooler in transaction mode may be in "
        "front of it (the admin and import jobs always import in one transaction). "
        "There the import lock cannot keep two imports of one model apart, and "
        "it may stay held after the import, making later imports wait LOCK_TIMEOUT and fail.",
        hint=HINT,
        obj=obj,
        id="admin_bulk_upsert.W007",
    )


# Django warns that overriding DATABASES does not reconnect: the checks open no connection.
pytestmark = pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")


def databases(**aliases):
    """Settings naming these databases, which the checks only read."""
    return override_settings(DATABASES=aliases)


class NoTransactionResource(BulkUpsertResource):
    class Meta:
        model = Product
        fields = ("sku", "name")
        import_id_fields = ("sku",)
        use_transactions = False


class TransactionResource(NoTransactionResource):
    class Meta(NoTransactionResource.Meta):
        use_transactions = True


NAME = f"{__name__}.NoTransactionResource"


class TestProjectWide:
    @pytest.mark.parametrize("use_transactions", [True, None])
    def test_quiet_when_imports_use_transactions(self, settings, use_transactions):
        if use_transactions is not None:
            settings.IMPORT_EXPORT_USE_TRANSACTIONS = use_transactions
        with databases(default=POOLED):
            assert check_pooled_imports() == []

    @pytest.mark.parametrize("database", [POSTGRESQL, MARIADB_POOLED])
    def test_quiet_without_the_sign_of_a_pooler(self, settings, database):
        settings.IMPORT_EXPORT_USE_TRANSACTIONS = False
        with databases(default=database):
            assert check_pooled_imports() == []

    def test_warns_naming_each_database_that_may_be_pooled(self, settings):
        settings.IMPORT_EXPORT_USE_TRANSACTIONS = False
        with databases(default=POOLED, direct=POSTGRESQL, reports=POOLED):
            assert check_pooled_imports() == [
                w007(
                    "IMPORT_EXPORT_USE_TRANSACTIONS = False",
                    "the bulk_import command and code calling import_data() import resources "
                    "that do not set Meta.use_transactions = True",
                    "'default', 'reports'",
                )
            ]


class TestPerResource:
    def test_warns_for_a_resource_without_transactions(self):
        with databases(default=POOLED):
            assert check_resource_class(NoTransactionResource) == [
                w007(
                    f"{NAME}.Meta.use_transactions = False",
                    "the bulk_import command and code calling import_data() import it",
                    "'default'",
                    obj=NoTransactionResource,
                )
            ]

    def test_quiet_for_a_resource_with_transactions(self):
        with databases(default=POOLED):
            assert check_resource_class(TransactionResource) == []

    def test_quiet_on_a_database_without_the_sign_of_a_pooler(self):
        with databases(default=POSTGRESQL):
            assert check_resource_class(NoTransactionResource) == []
