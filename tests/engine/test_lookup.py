"""The batched lookup finds exactly the stored rows the ORM's ``get()`` would find."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import signals
from django.test import override_settings

from admin_bulk_upsert.engine.lookup import match_keys
from tests.testapp.models import Account, Product, Transaction

pytestmark = pytest.mark.django_db

ODD_TEXT = [
    'say "hi"',
    "back\\slash",
    "it's",
    "{brace}",
    "comma,x",
    " spaced ",
    "NULL",
    "",
    "üñí",
    "tab\there",
]


def field(model, name):
    return model._meta.get_field(name)


def prepared(fields, key):
    """What the engine passes: each value as the ORM sends it (KeySpec.db_values)."""
    return tuple(
        f.get_db_prep_value(f.get_prep_value(value), connection, prepared=True)
        for f, value in zip(fields, key, strict=True)
    )


def found_pks(model, fields, keys):
    answer = match_keys(
        model.objects.all(), fields, [prepared(fields, key) for key in keys], "default"
    )
    return [sorted(obj.pk for obj in answer.get(i, [])) for i in range(len(keys))]


def orm_pks(model, names, keys):
    return [
        sorted(
            model.objects.filter(**dict(zip(names, key, strict=True))).values_list("pk", flat=True)
        )
        for key in keys
    ]


def test_text_keys_with_quotes_backslashes_and_braces():
    for code in ODD_TEXT:
        Product.objects.create(code=code)
    keys = [(code,) for code in [*ODD_TEXT, "absent", 'say "hi" ']]
    code = field(Product, "code")
    assert found_pks(Product, [code], keys) == orm_pks(Product, ["code"], keys)
    assert all(found_pks(Product, [code], [(c,)]) != [[]] for c in ODD_TEXT)


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2024, 1, 5, 9, 0, 0, 123456, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 10, 27, 2, 30, tzinfo=ZoneInfo("Europe/Paris")),
        dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Paris")),
        dt.datetime(1890, 1, 1, 12, 0, tzinfo=ZoneInfo("Europe/Paris")),  # offset in seconds
        dt.datetime(2024, 1, 5, 14, 0, tzinfo=dt.timezone(dt.timedelta(hours=5))),
    ],
)
@pytest.mark.parametrize("amount", [Decimal("12.5"), Decimal("1E+1"), Decimal("-0.001")])
def test_datetime_and_decimal_keys(when, amount):
    account = Account.objects.create(number="A1")
    Transaction.objects.create(account=account, datetime=when, amount=amount)
    Transaction.objects.create(
        account=account, datetime=when + dt.timedelta(microseconds=1), amount=amount
    )
    names = ["account", "datetime", "amount"]
    fields = [field(Transaction, name) for name in names]
    keys = [
        (account.pk, when, amount),
        (account.pk, when.astimezone(dt.timezone.utc), amount.normalize()),
        (account.pk, when, amount + Decimal("0.0001")),
        (account.pk, when - dt.timedelta(microseconds=1), amount),
    ]
    assert found_pks(Transaction, fields, keys) == orm_pks(Transaction, names, keys)
    assert found_pks(Transaction, fields, keys)[0] != []


def test_matched_instances_are_what_the_orm_reads():
    account = Account.objects.create(number="A1")
    when = dt.datetime(2024, 1, 5, 9, tzinfo=dt.timezone.utc)
    Transaction.objects.create(account=account, datetime=when, amount="12.5", description="x")
    fields = [field(Transaction, name) for name in ["account", "datetime", "amount"]]
    key = prepared(fields, (account.pk, when, Decimal("12.5")))
    (matched,) = match_keys(Transaction.objects.all(), fields, [key], "default")[0]
    orm = Transaction.objects.get()
    assert type(matched) is Transaction
    assert {k: v for k, v in vars(matched).items() if k != "_state"} == {
        k: v for k, v in vars(orm).items() if k != "_state"
    }
    assert (matched._state.adding, matched._state.db) == (False, "default")
    assert matched.account == account  # the relation loads as usual


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(2024, 1, 5, 9, 0, 0, 123456, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Paris")),
        dt.datetime(1890, 1, 1, 12, 0, tzinfo=ZoneInfo("Europe/Paris")),
        dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.timezone.utc),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.timezone.utc),
    ],
)
def test_matched_datetimes_are_the_orms_to_the_tzinfo(when):
    """On PostgreSQL the lookup reads timestamps with a faster loader: same values as Django's."""
    account = Account.objects.create(number="A1")
    Transaction.objects.create(account=account, datetime=when, amount="1")
    fields = [field(Transaction, name) for name in ["account", "datetime", "amount"]]
    key = prepared(fields, (account.pk, when, Decimal("1")))
    (matched,) = match_keys(Transaction.objects.all(), fields, [key], "default")[0]
    orm = Transaction.objects.get().datetime
    assert matched.datetime == orm
    assert matched.datetime.tzinfo is orm.tzinfo
    assert (matched.datetime.isoformat(), matched.datetime.fold) == (orm.isoformat(), orm.fold)


def test_matched_datetimes_are_naive_without_time_zone_support():
    account = Account.objects.create(number="A1")
    when = dt.datetime(2024, 1, 5, 9, 0, 0, 123456)
    with override_settings(USE_TZ=False):
        Transaction.objects.create(account=account, datetime=when, amount="1")
        fields = [field(Transaction, name) for name in ["account", "datetime", "amount"]]
        key = prepared(fields, (account.pk, when, Decimal("1")))
        (matched,) = match_keys(Transaction.objects.all(), fields, [key], "default")[0]
        assert Transaction.objects.get().datetime == when
    assert matched.datetime == when
    assert matched.datetime.tzinfo is None


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the timestamp loader swap is PostgreSQL's"
)
def test_the_faster_timestamp_loader_stays_on_the_lookups_cursor():
    account = Account.objects.create(number="A1")
    when = dt.datetime(2024, 1, 5, 9, tzinfo=dt.timezone.utc)
    Transaction.objects.create(account=account, datetime=when, amount="1")
    fields = [field(Transaction, name) for name in ["account", "datetime", "amount"]]
    match_keys(
        Transaction.objects.all(), fields, [prepared(fields, (account.pk, when, 1))], "default"
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT datetime FROM testapp_transaction")
        (value,) = cursor.fetchone()
    assert value == when
    assert value.tzinfo is Transaction.objects.get().datetime.tzinfo


def test_post_init_receivers_see_matched_instances():
    account = Account.objects.create(number="A1")
    when = dt.datetime(2024, 1, 5, 9, tzinfo=dt.timezone.utc)
    Transaction.objects.create(account=account, datetime=when, amount="12.5")
    fields = [field(Transaction, name) for name in ["account", "datetime", "amount"]]
    key = prepared(fields, (account.pk, when, Decimal("12.5")))
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    signals.post_init.connect(receiver, sender=Transaction)
    try:
        (matched,) = match_keys(Transaction.objects.all(), fields, [key], "default")[0]
    finally:
        signals.post_init.disconnect(receiver, sender=Transaction)
    assert seen == [matched]
