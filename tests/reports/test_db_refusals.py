"""A database's refusal of a row is told on the file's column, on every database."""

from datetime import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.utils import DataError
from django.utils import timezone
from import_export import fields
from import_export.widgets import IntegerWidget

from admin_bulk_upsert import BulkUpsertResource
from admin_bulk_upsert.reports.db_refusals import explain_refusal
from tests.testapp.models import Product, Transaction

pytestmark = pytest.mark.django_db


class ProductResource(BulkUpsertResource):
    unit_price = fields.Field(attribute="price", column_name="Unit price")

    class Meta:
        model = Product
        fields = ("code", "sku", "name", "unit_price", "stock")
        import_id_fields = ("code",)


class TransactionResource(BulkUpsertResource):
    account_id = fields.Field(
        attribute="account_id", column_name="account id", widget=IntegerWidget()
    )

    class Meta:
        model = Transaction
        fields = ("account_id", "datetime", "amount", "description")
        import_id_fields = ("account_id", "datetime")


def refused(save):
    """The exception the database raises for ``save()``, its savepoint rolled back."""
    with pytest.raises((IntegrityError, DataError)) as raised, transaction.atomic():
        save()
        # Django's foreign keys are deferred on SQLite and PostgreSQL: check them now.
        if connection.vendor == "postgresql":
            connection.cursor().execute("SET CONSTRAINTS ALL IMMEDIATE")
        elif connection.vendor == "sqlite":
            connection.check_constraints()
    return raised.value


def test_a_blank_cell_in_a_not_null_column():
    exc = refused(lambda: Product.objects.create(code="c1", stock=None))
    row = {"code": "c1", "stock": ""}

    assert explain_refusal(exc, ProductResource(), row) == ("stock", "This field cannot be blank.")


def test_a_value_another_row_holds_in_a_unique_column():
    Product.objects.create(code="c1", sku="S1")
    exc = refused(lambda: Product.objects.create(code="c2", sku="S1"))
    row = {"code": "c2", "sku": "S1"}

    assert explain_refusal(exc, ProductResource(), row) == (
        "sku",
        "Product with this Sku already exists.",
    )


def test_a_foreign_key_to_nothing():
    when = timezone.make_aware(datetime(2024, 1, 1))
    exc = refused(
        lambda: Transaction.objects.create(account_id=987654, datetime=when, amount=Decimal(1))
    )
    row = {"account id": "987654", "datetime": "2024-01-01 00:00:00", "amount": "1"}

    assert explain_refusal(exc, TransactionResource(), row) == (
        "account id",
        "No account has id “987654”.",
    )


def test_a_text_longer_than_its_column():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite does not enforce a text column's length")
    exc = refused(lambda: Product.objects.create(code="c1", name="x" * 41))
    row = {"code": "c1", "name": "x" * 41}

    assert explain_refusal(exc, ProductResource(), row) == (
        "name",
        "Ensure this value has at most 40 characters (it has 41).",
    )


def test_a_column_named_by_the_database_but_renamed_in_the_file():
    when = timezone.make_aware(datetime(2024, 1, 1))
    exc = refused(lambda: Transaction.objects.create(account=None, datetime=when, amount=1))
    row = {"account id": "", "datetime": "2024-01-01 00:00:00", "amount": "1"}

    assert explain_refusal(exc, TransactionResource(), row) == (
        "account id",
        "This field cannot be blank.",
    )


def test_a_refusal_of_a_column_the_file_lacks_keeps_the_database_s_words():
    exc = refused(lambda: Product.objects.create(code="c1", stock=None))

    assert explain_refusal(exc, ProductResource(), {"code": "c1"}) is None


def test_another_error_is_not_a_refusal():
    assert explain_refusal(ValueError("nope"), ProductResource(), {"code": "c1"}) is None
