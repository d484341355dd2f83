"""Key values must reach the database exactly as the ORM's ``exact`` lookup sends them."""

import datetime as dt
import warnings
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from admin_bulk_upsert.engine.keys import KeySpec
from tests.engine.resources import ProductResource, TransactionResource
from tests.testapp.models import Account, Product, Transaction

UTC = dt.timezone.utc
PARIS = ZoneInfo("Europe/Paris")


def orm_values(model, attributes, values):
    """What Django itself sends for ``filter(attribute=value)``, part by part (instants in UTC)."""
    sent = []
    for attribute, value in zip(attributes, values, strict=True):
        field = model._meta.get_field(attribute)
        if isinstance(value, Account):
            value = value.pk
        prepped = field.get_prep_value(value)
        db_value = None if prepped is None else field.get_db_prep_value(prepped, connection, True)
        if isinstance(db_value, dt.datetime) and db_value.tzinfo is not None:
            # The same instant, given in UTC (PostgreSQL compares instants).
            db_value = db_value.astimezone(UTC)
        sent.append(db_value)
    return tuple(sent)


def outcome(function, *args):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = function(*args)
    except Exception as exc:
        return ("error", type(exc), str(exc))
    return ("value", repr(value), [str(w.message) for w in caught])


TRANSACTION_KEYS = [
    (Account(pk=7, number="A7"), dt.datetime(2024, 1, 5, 10, tzinfo=UTC), Decimal("12.5")),
    (7, dt.datetime(2024, 10, 27, 2, 30, tzinfo=PARIS), Decimal("-0.0010")),
    (7, dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=PARIS), Decimal("1E+3")),
    ("7", dt.datetime(2024, 1, 5, 10), Decimal("12")),  # a naive datetime warns
    ("x", dt.datetime(2024, 1, 5, 10, tzinfo=UTC), Decimal("1")),
    (7, dt.date(2024, 1, 5), "12.50"),
    (7, "2024-01-05 10:00:00+00:00", 12),
    (7, dt.datetime(2024, 1, 5, 10, tzinfo=UTC), Decimal("NaN")),
    (7, dt.datetime(2024, 1, 5, 10, tzinfo=UTC), 2.5),
    (True, dt.datetime(2024, 1, 5, 10, tzinfo=UTC), Decimal("Infinity")),
]


@pytest.mark.django_db
@pytest.mark.parametrize("key", TRANSACTION_KEYS, ids=range(len(TRANSACTION_KEYS)))
def test_transaction_key_values_are_what_the_orm_sends(key):
    spec = KeySpec.build(TransactionResource(), ["account", "datetime", "amount"], "default")
    attributes = ("account", "datetime", "amount")
    for _ in range(2):  # the second time, remembered values answer
        assert outcome(spec.db_values, key) == outcome(orm_values, Transaction, attributes, key)


PRODUCT_KEYS = [("ABC",), ("abc ",), ("",), (12,), (None,)]


@pytest.mark.django_db
@pytest.mark.parametrize("key", PRODUCT_KEYS, ids=range(len(PRODUCT_KEYS)))
def test_text_key_values_are_what_the_orm_sends(key):
    spec = KeySpec.build(ProductResource(), ["code"], "default")
    expected = outcome(orm_values, Product, ("code",), key)
    if key == (None,):
        assert spec.db_values(key) is None  # a NULL part: looked up the stock way
        return
    for _ in range(2):
        assert outcome(spec.db_values, key) == expected
