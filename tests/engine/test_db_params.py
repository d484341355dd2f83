"""The one-step preparers give what Django's own method chain gives, errors included."""

import datetime as dt
import warnings
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from admin_bulk_upsert.engine.db_params import lookup_preparer, save_preparer
from tests.testapp.models import Account, Product, Transaction

UTC = dt.timezone.utc

VALUES = [
    dt.datetime(2024, 1, 5, 10, tzinfo=UTC),
    dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Paris")),
    dt.datetime(2024, 1, 5, 10),
    dt.date(2024, 1, 5),
    Decimal("12.5"),
    Decimal("-0.0010"),
    Decimal("NaN"),
    Decimal("1E+20"),
    "12.5",
    "",
    "text",
    "2024-01-05 10:00:00",
    7,
    0,
    True,
    2.5,
    None,
]

FIELDS = [
    (Transaction, "datetime"),
    (Transaction, "amount"),
    (Transaction, "account"),
    (Transaction, "description"),
    (Transaction, "id"),
    (Product, "code"),
    (Product, "stock"),
    (Product, "released"),
    (Account, "active"),
]


def outcome(function, value):
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = function(value)
    except Exception as exc:
        return ("error", type(exc), str(exc))
    return ("value", type(result), repr(result), [str(w.message) for w in caught])


def chain_for_lookup(field):
    def chain(value):
        prepped = field.get_prep_value(value)
        return None if prepped is None else field.get_db_prep_value(prepped, connection, True)

    return chain


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "name"), FIELDS, ids=[f"{m.__name__}.{n}" for m, n in FIELDS])
def test_save_preparer_is_get_db_prep_save(model, name):
    field = model._meta.get_field(name)
    prepare = save_preparer(field, connection)
    for value in VALUES * 2:  # twice: remembered answers too
        expected = outcome(lambda v: field.get_db_prep_save(v, connection), value)
        assert outcome(prepare, value) == expected, value


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "name"), FIELDS, ids=[f"{m.__name__}.{n}" for m, n in FIELDS])
def test_lookup_preparer_is_what_exact_sends(model, name):
    field = model._meta.get_field(name)
    prepare = lookup_preparer(field, connection)
    for value in VALUES * 2:
        assert outcome(prepare, value) == outcome(chain_for_lookup(field), value), value
