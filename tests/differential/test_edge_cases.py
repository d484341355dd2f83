"""Hand-written files, one case each: the smallest file that shows the behaviour.

Each test imports with stock DIE and with the engine from the same stored rows and
compares the whole outcome; with transactions, dry runs of both are compared too
and must change nothing. The expectations are not written here: stock DIE, on the
database at hand, is the oracle (MariaDB treats "ABC", "abc" and "ABC " as one key,
PostgreSQL refuses a 41-character description, SQLite stores it).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from import_export.fields import Field

from tests.differential.datasets import PARIS, Scenario, product_spec, transaction_spec
from tests.differential.harness import assert_equivalent
from tests.testapp.models import LooseTransaction, Transaction

UTC = timezone.utc
PLUS_FIVE = timezone(timedelta(hours=5))
JAN5 = datetime(2024, 1, 5, 9, 0, tzinfo=UTC)  # 10:00 in Paris
TX_HEADERS = ("account", "datetime", "amount", "description")
PRODUCT_HEADERS = ("code", "sku", "name", "price", "released", "stock")


def transactions(
    accounts: dict[str, int],
    *rows: tuple[Any, ...],
    stored: tuple[tuple[str, datetime, str, str], ...] = (),
    model: type = Transaction,
    shape: str = "number",
    headers: tuple[str, ...] = TX_HEADERS,
    **meta: Any,
) -> Scenario:
    """A ``Transaction``-like file; ``stored`` rows are (account number, instant, amount,
    description)."""
    existing = tuple(
        {"account_id": accounts[n], "datetime": i, "amount": Decimal(a), "description": d}
        for n, i, a, d in stored
    )
    spec = transaction_spec(model, shape).with_meta(**meta)
    return Scenario(f"{model.__name__}-edge", spec, existing, headers, rows)


def products(
    *rows: tuple[Any, ...],
    key: tuple[str, ...] = ("code",),
    stored: tuple[dict[str, Any], ...] = (),
    **meta: Any,
) -> Scenario:
    return Scenario(
        "Product-edge", product_spec(*key).with_meta(**meta), stored, PRODUCT_HEADERS, rows
    )


def product(code: str, sku: str | None = None, **values: Any) -> dict[str, Any]:
    return {"code": code, "sku": sku, **values}


# --- duplicate keys within one file ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Transaction, LooseTransaction])
@pytest.mark.parametrize("batch_size", [1, 2, 1000])
def test_later_row_updates_what_an_earlier_row_created(accounts, model, batch_size):
    """Rows 2 and 3 update the row that row 1 created, in its chunk or a later one."""
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "12", "first"),
        ("A001", "2024-01-05T14:00:00+05:00", "12.000", "second"),
        ("A001", datetime(2024, 1, 5, 10, 0), 12, "third"),
        model=model,
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_later_row_updates_what_an_earlier_row_updated(accounts, batch_size):
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "12", "first"),
        ("A002", "2024-01-05 10:00:00", "12", "other"),
        ("A001", "2024-01-05 10:00:00", "12.0", "second"),
        stored=(("A001", JAN5, "12.000", "stored"),),
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


# --- keys that match only after cleaning -----------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["12", "12.0", " 12 ", "1.2e1", 12, 12.0, Decimal("12.00")])
def test_amount_spelled_otherwise_matches_stored_decimal(accounts, amount):
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", amount, "changed"),
        stored=(("A001", JAN5, "12.000", "stored"),),
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "released",
    ["2024-01-05", "01/05/2024", date(2024, 1, 5), datetime(2024, 1, 5, 0, 0)],
    ids=["iso", "us", "date", "datetime"],
)
def test_date_key_spelled_otherwise_matches_stored_date(released):
    scenario = products(
        ("ABC", "S-1", "changed", "1.00", released, "3"),
        key=("released",),
        stored=(product("ABC", "S-1", released=date(2024, 1, 5)),),
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "when",
    [
        "2024-01-05T14:00:00+05:00",
        "2024-01-05T09:00:00Z",
        datetime(2024, 1, 5, 14, 0, tzinfo=PLUS_FIVE),
        "2024-01-05 10:00:00",
        "2024-01-05 10:00",
        datetime(2024, 1, 5, 10, 0),
    ],
    ids=["iso+05", "iso-Z", "aware+05", "naive-paris", "naive-paris-minutes", "naive-object"],
)
def test_datetime_in_any_zone_matches_stored_utc(accounts, when):
    scenario = transactions(
        accounts,
        ("A001", when, "12", "changed"),
        stored=(("A001", JAN5, "12.000", "stored"),),
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
def test_naive_time_in_the_repeated_paris_hour(accounts):
    """02:30 on 2024-10-27 happens twice in Paris: stock reads it as the first."""
    scenario = transactions(
        accounts,
        ("A001", "2024-10-27 02:30:00", "1", "naive"),
        ("A001", "2024-10-27T01:30:00Z", "1", "second 02:30"),
        stored=(
            ("A001", datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "1", "first 02:30"),
            ("A001", datetime(2024, 10, 27, 1, 30, tzinfo=UTC), "1", "second 02:30"),
        ),
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Transaction, LooseTransaction])
@pytest.mark.parametrize("aware", [False, True], ids=["naive", "aware-paris"])
def test_both_occurrences_of_the_repeated_paris_hour_in_one_file(accounts, model, aware):
    """02:30 with fold=0 and with fold=1 are two instants (00:30 and 01:30 UTC), yet
    Python calls them equal (same tzinfo: fold is ignored): two new rows in stock."""
    tzinfo = PARIS if aware else None
    first = datetime(2024, 10, 27, 2, 30, tzinfo=tzinfo)
    second = datetime(2024, 10, 27, 2, 30, tzinfo=tzinfo, fold=1)
    scenario = transactions(
        accounts,
        ("A001", first, "1", "first 02:30"),
        ("A001", second, "1", "second 02:30"),
        model=model,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["number", "id", "meta_widgets"])
def test_account_by_number_or_by_id(accounts, shape):
    account = accounts["A002"] if shape == "id" else "A002"
    scenario = transactions(
        accounts,
        (account, "2024-01-05 10:00:00", "12", "changed"),
        (account, "2024-01-05 11:00:00", "12", "new"),
        stored=(("A002", JAN5, "12.000", "stored"), ("A001", JAN5, "12.000", "other")),
        shape=shape,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
def test_account_number_that_looks_like_an_id(accounts):
    """Account "100" by number, next to account id 100 (which does not exist)."""
    scenario = transactions(
        accounts,
        ("100", "2024-01-05 10:00:00", "12", "by number"),
        stored=(("100", JAN5, "12.000", "stored"),),
    )
    assert_equivalent(scenario)


# --- broken cells -----------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("column", [0, 1, 2])
@pytest.mark.parametrize("blank", ["", None])
@pytest.mark.parametrize("clean", [False, True], ids=["plain", "clean_model_instances"])
def test_blank_key_column(accounts, column, blank, clean):
    row = ["A001", "2024-01-05 10:00:00", "12", "blank key"]
    row[column] = blank
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "12", "good"),
        tuple(row),
        stored=(("A001", JAN5, "12.000", "stored"),),
        clean_model_instances=clean,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("blank", ["", None])
def test_blank_string_key_and_unique_blank_sku(blank):
    """A blank code is the key "" (CharWidget); two blank skus collide on the unique sku."""
    scenario = products(
        (blank, blank, "no code", "1.00", "", "1"),
        (blank, blank, "again", "1.00", "", "1"),
        ("XYZ", blank, "blank sku", "1.00", "", "1"),
        stored=(product("ABC", "S-1"),),
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("shape", ["number", "id"])
@pytest.mark.parametrize("value", ["Z999", "999999", "abc", "1.0", "a001", "A001 "])
def test_unknown_or_odd_foreign_key(accounts, shape, value):
    scenario = transactions(
        accounts,
        ("A001" if shape == "number" else accounts["A001"], "2024-01-05 10:00:00", "1", "ok"),
        (value, "2024-01-05 10:00:00", "12", "odd account"),
        stored=(("A001", JAN5, "12.000", "stored"),),
        shape=shape,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "column, value",
    [(1, "2024-02-30 10:00:00"), (1, "soon"), (2, "12,5"), (2, "abc"), (2, "NaN")],
)
def test_unparsable_key_value(accounts, column, value):
    """In a key column, stock fails the lookup: an ERROR row."""
    row = ["A001", "2024-01-05 10:00:00", "12", "bad key"]
    row[column] = value
    scenario = transactions(accounts, tuple(row), stored=(("A001", JAN5, "12.000", "s"),))
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "column, value",
    [(4, "2024-02-30"), (4, "someday"), (3, "abc"), (5, "abc"), (5, "2.5")],
    ids=["bad-date", "word-date", "bad-price", "bad-stock", "fractional-stock"],
)
@pytest.mark.parametrize("clean", [False, True], ids=["plain", "clean_model_instances"])
def test_unparsable_value_outside_the_key(column, value, clean):
    """A ValueError outside the key is INVALID; a decimal.InvalidOperation is an ERROR."""
    row = ["ABC", "S-1", "name", "1.00", "2024-01-05", "3"]
    row[column] = value
    scenario = products(
        ("XYZ", "S-2", "fine", "1.00", "2024-01-05", "3"),
        tuple(row),
        stored=(product("ABC", "S-1"),),
        clean_model_instances=clean,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("clean", [False, True], ids=["plain", "clean_model_instances"])
def test_value_too_long_for_the_column(accounts, clean):
    """PostgreSQL and MariaDB refuse 41 characters in a varchar(40); SQLite stores them."""
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "12", "x" * 41),
        ("A001", "2024-01-05 11:00:00", "12", "y" * 41),
        ("A001", "2024-01-05 12:00:00", "12", "fine"),
        stored=(("A001", JAN5, "12.000", "stored"),),
        clean_model_instances=clean,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
def test_key_too_long_for_the_column():
    scenario = products(
        ("C" * 21, "S-9", "long code", "1.00", "", "1"),
        ("ABC", "S-1", "fine", "1.00", "", "1"),
        stored=(product("ABC", "S-1"),),
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("clean", [False, True], ids=["plain", "clean_model_instances"])
def test_numbers_out_of_range(accounts, clean):
    scenario = products(
        ("ABC", "S-1", "big stock", "1.00", "", "99999999999"),
        ("XYZ", "S-2", "big price", "123456789.00", "", "1"),
        ("K-9", "S-3", "fine", "1.00", "", "1"),
        stored=(product("ABC", "S-1"),),
        clean_model_instances=clean,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_failing_row_whose_key_a_later_row_repeats(accounts, batch_size):
    """PostgreSQL and MariaDB refuse row 1 (41 characters); row 2 has the same key and
    is new. Writing only the last state of each key would hide row 1's error."""
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "12", "x" * 41),
        ("A001", "2024-01-05 10:00:00", "12", "fine"),
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_out_of_range_decimal_read_back_later_in_the_file(batch_size):
    """PostgreSQL and MariaDB refuse row 1's price; SQLite stores it, and reading it
    back for row 2 fails in Django's decimal converter: stock reports row 2."""
    scenario = products(
        ("ABC", "S-1", "too big", "123456789.00", "", "1"),
        ("ABC", "S-1", "again", "1.00", "", "1"),
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("extra", ["0.0004", "0.0005"])
def test_amount_with_more_places_than_the_column(accounts, extra):
    """The lookup compares 12.0004 (no match), the database then rounds it to a stored key."""
    amount = str(Decimal("12.000") + Decimal(extra))
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", amount, "rounded"),
        stored=(("A001", JAN5, "12.000", "stored"), ("A001", JAN5, "12.001", "stored too")),
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Transaction, LooseTransaction])
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_amount_rounded_by_the_database_then_repeated(accounts, model, batch_size):
    """Row 2's 7.1254 misses row 1's 7.125 in the lookup, then PostgreSQL and MariaDB
    store it as 7.125: a second row with row 1's key (an IntegrityError with the
    constraint), so row 3 finds two rows (MultipleObjectsReturned) on LooseTransaction."""
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "7.125", "first"),
        ("A001", "2024-01-05 10:00:00", "7.1254", "rounded"),
        ("A001", "2024-01-05 10:00:00", "7.125", "which one?"),
        model=model,
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


# --- keys without a database constraint ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_no_duplicates_appear_without_a_constraint(accounts, batch_size):
    scenario = transactions(
        accounts,
        *[("A001", "2024-01-05 10:00:00", "12", f"row {i}") for i in range(5)],
        model=LooseTransaction,
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
def test_stored_duplicates_are_multiple_objects_returned(accounts):
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "12", "which one?"),
        ("A002", "2024-01-05 10:00:00", "12", "fine"),
        stored=(("A001", JAN5, "12.000", "one"), ("A001", JAN5, "12.000", "two")),
        model=LooseTransaction,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
def test_stored_duplicate_codes():
    scenario = products(
        ("ABC", "S-3", "which one?", "1.00", "", "1"),
        ("XYZ", "S-4", "fine", "1.00", "", "1"),
        stored=(product("ABC", "S-1"), product("ABC", "S-2")),
    )
    assert_equivalent(scenario)


# --- string keys and collations --------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["abc", "ABC ", "abc  ", " ABC", "Abc"])
def test_string_key_in_another_case_or_with_spaces(code):
    """MariaDB's default collation finds the stored "ABC"; PostgreSQL and SQLite do not."""
    scenario = products(
        (code, f"S-{code.strip()}", "changed", "1.00", "", "1"),
        stored=(product("ABC", "S-1"),),
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_new_string_key_in_two_spellings_in_one_file(batch_size):
    scenario = products(
        ("XYZ", "S-1", "first", "1.00", "", "1"),
        ("xyz", "S-2", "second", "1.00", "", "1"),
        ("XYZ ", "S-3", "third", "1.00", "", "1"),
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
def test_sku_held_by_another_row():
    """A new code whose sku belongs to another row: stock reports an IntegrityError; an
    upsert on every unique key (MariaDB's ON DUPLICATE KEY) would update that row."""
    scenario = products(
        ("NEW", "S-1", "steals S-1", "1.00", "", "1"),
        ("XYZ", "s-2", "case of S-2", "1.00", "", "1"),
        stored=(product("ABC", "S-1"), product("K-9", "S-2")),
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
def test_sku_as_the_key():
    scenario = products(
        ("ABC", "S-1", "by sku", "1.00", "", "1"),
        ("XYZ", "s-1", "sku in lower case", "1.00", "", "1"),
        ("K-9", "S-9", "new", "1.00", "", "1"),
        key=("sku",),
        stored=(product("ABC", "S-1"),),
    )
    assert_equivalent(scenario)


# --- options -----------------------------------------------------------------------------


def _mixed_file(accounts: dict[str, int], **meta: Any) -> Scenario:
    """New, updated, unchanged, invalid (with clean_model_instances) and failing rows."""
    return transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "12", "stored"),  # unchanged after cleaning
        ("A001", "2024-01-05 11:00:00", "12", "new"),
        ("A001", "2024-01-05 11:00", 12, "new"),  # unchanged after the row above
        ("Z999", "2024-01-05 10:00:00", "12", "unknown account"),
        ("A002", "2024-01-05 10:00:00", "1", "x" * 41),
        ("A002", "2024-01-05 10:00:00", "2", "updated"),
        ("A002", "2024-01-05 12:00:00", "", "blank amount"),
        ("A001", "2024-01-05 13:00:00", "3", "last"),
        stored=(("A001", JAN5, "12.000", "stored"), ("A002", JAN5, "2.000", "before")),
        **meta,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("report_skipped", [True, False])
def test_skip_unchanged(accounts, report_skipped):
    scenario = _mixed_file(accounts, skip_unchanged=True, report_skipped=report_skipped)
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "meta, options",
    [
        ({"clean_model_instances": True}, {}),
        ({"store_instance": True}, {}),
        ({"force_init_instance": True}, {}),
        ({}, {"collect_failed_rows": True}),
        ({"clean_model_instances": True}, {"rollback_on_validation_errors": True}),
        ({"clean_model_instances": True}, {"raise_errors": True}),
        ({}, {"raise_errors": True}),
        ({"skip_diff": True}, {}),
        ({"skip_html_diff": True}, {}),
        ({"store_row_values": True}, {}),
    ],
    ids=[
        "clean_model_instances",
        "store_instance",
        "force_init_instance",
        "collect_failed_rows",
        "rollback_on_validation_errors",
        "raise_errors_on_invalid",
        "raise_errors",
        "skip_diff",
        "skip_html_diff",
        "store_row_values",
    ],
)
@pytest.mark.parametrize("batch_size", [3, 1000])
def test_options(accounts, meta, options, batch_size):
    assert_equivalent(_mixed_file(accounts, batch_size=batch_size, **meta), **options)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "meta, options",
    [
        ({}, {}),
        ({"skip_unchanged": True}, {}),
        ({"clean_model_instances": True}, {}),
        ({"force_init_instance": True}, {}),
        ({}, {"raise_errors": True}),
        ({}, {"collect_failed_rows": True}),
    ],
    ids=[
        "plain",
        "skip_unchanged",
        "clean_model_instances",
        "force_init_instance",
        "raise_errors",
        "collect_failed_rows",
    ],
)
@pytest.mark.parametrize("batch_size", [3, 1000])
def test_options_without_transactions(accounts, meta, options, batch_size):
    """Rows around a failing one stay; with raise_errors, rows after it are not written."""
    scenario = _mixed_file(accounts, batch_size=batch_size, **meta)
    assert_equivalent(scenario, use_transactions=False, dry_run_too=False, **options)


@pytest.mark.django_db
def test_force_init_instance_inserts_every_row(accounts):
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "12", "again"),
        stored=(("A001", JAN5, "12.000", "stored"),),
        force_init_instance=True,
    )
    assert_equivalent(scenario)


# --- files -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_key_column_missing_from_the_file(accounts):
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "no amount column"),
        headers=("account", "datetime", "description"),
        stored=(("A001", JAN5, "12.000", "stored"),),
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
def test_non_key_column_missing_from_the_file(accounts):
    """Without a description column, updates keep the stored description."""
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "12"),
        ("A001", "2024-01-05 11:00:00", "12"),
        headers=("account", "datetime", "amount"),
        stored=(("A001", JAN5, "12.000", "stored"),),
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
def test_empty_file(accounts):
    assert_equivalent(transactions(accounts, stored=(("A001", JAN5, "12.000", "stored"),)))


# --- hooks that change a key --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("model", [Transaction, LooseTransaction])
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_a_hook_that_changes_the_key_before_saving(accounts, model, batch_size):
    """Row 1 is saved with amount 13: row 2's key finds that record, row 3's does not."""
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "12", "first"),
        ("A001", "2024-01-05 10:00:00", "13", "second"),
        ("A001", "2024-01-05 10:00:00", "12", "third"),
        model=model,
        batch_size=batch_size,
    )
    spec = scenario.spec

    def before_save_instance(self: Any, instance: Any, row: Any, **kwargs: Any) -> None:
        if row["description"] == "first":
            instance.amount += 1

    def declare() -> dict[str, Any]:
        return {**spec.declare(), "before_save_instance": before_save_instance}

    assert_equivalent(scenario.with_spec(replace(spec, declare=declare)))


# --- declared field options ---------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "default", ["n/a", lambda: "computed", None], ids=["value", "callable", "none"]
)
@pytest.mark.parametrize("saves_null_values", [True, False])
def test_a_declared_default_fills_blank_cells(accounts, default, saves_null_values):
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "1", ""),
        ("A001", "2024-01-05 11:00:00", "1", None),
        ("A001", "2024-01-05 12:00:00", "1", "given"),
        stored=(("A001", JAN5, "1.000", "stored"),),
    )
    spec = scenario.spec

    def declare() -> dict[str, Any]:
        description = Field(
            attribute="description",
            column_name="description",
            default=default,
            saves_null_values=saves_null_values,
        )
        return {**spec.declare(), "description": description}

    assert_equivalent(scenario.with_spec(replace(spec, declare=declare)))


@pytest.mark.django_db
@pytest.mark.parametrize("skip_unchanged", [False, True])
def test_a_hook_that_fills_new_instances(accounts, skip_unchanged):
    """The snapshot of a new row is taken after after_init_instance, as stock takes it."""
    scenario = transactions(
        accounts,
        ("A001", "2024-01-05 10:00:00", "1", "from hook"),
        ("A001", "2024-01-05 11:00:00", "1", "other"),
        skip_unchanged=skip_unchanged,
        report_skipped=True,
    )
    spec = scenario.spec

    def after_init_instance(self: Any, instance: Any, new: bool, row: Any, **kwargs: Any) -> None:
        if new:
            instance.description = "from hook"
            instance.amount = Decimal(1)
            instance.datetime = datetime(2024, 1, 5, 9, 0, tzinfo=UTC)

    def declare() -> dict[str, Any]:
        return {**spec.declare(), "after_init_instance": after_init_instance}

    assert_equivalent(scenario.with_spec(replace(spec, declare=declare)))


# --- blank key cells (DIE's default key ``id``, nullable key columns) ----------------------

PRODUCT_WITH_ID = ("id", *PRODUCT_HEADERS)


def products_by(key: tuple[str, ...], *rows: tuple[Any, ...], **meta: Any) -> Scenario:
    """Products keyed on ``key``, with an ``id`` column in the file.

    The diff would show each new record's id, which differs between the two runs (the
    sequences move on), so it is not rendered; the rows' outcomes are compared."""
    spec = replace(product_spec(*key), fields=PRODUCT_WITH_ID)
    spec = spec.with_meta(skip_html_diff=True, **meta)
    stored = ({**product("OLD", "sku-old", name="stored", stock=1), "id": 900},)
    return Scenario("Product-blank-key", spec, stored, PRODUCT_WITH_ID, rows)


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 2, 1000])
@pytest.mark.parametrize("blanks", [(None, "", None), ("", "", ""), (None, None, None)])
def test_blank_ids_are_new_records_each(batch_size, blanks):
    """Stock's ``get(id=None)`` finds nothing, not even the record an earlier row created:
    three rows with a blank ``id`` are three new records, never one record updated twice."""
    rows = [(blank, f"N{n}", f"s{n}", f"new {n}", "1.50", "", n) for n, blank in enumerate(blanks)]
    assert_equivalent(products_by(("id",), *rows, batch_size=batch_size))


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_blank_id_next_to_an_existing_record(batch_size):
    """A blank-id row beside rows that update the stored record by its id: the blank one is
    new, and the stored record is updated twice, whatever their order."""
    rows = (
        ("900", "UPD", "s1", "u", "", "", 6),
        ("", "NEW", "s2", "n", "", "", 5),
        (900, "UPD2", "s3", "u2", "", "", 7),
        (None, "NEW2", "s4", "n2", "", "", 8),
    )
    stock, _ = assert_equivalent(products_by(("id",), *rows, batch_size=batch_size))
    kinds = sorted(repr(kind) for kind, _ in stock.aspects["table"])
    assert kinds == ["('new',)", "('new',)", "('stored', 0)"]


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
@pytest.mark.parametrize("stored_null", [False, True])
def test_blank_nullable_key_matches_null_as_get_does(batch_size, stored_null):
    """A nullable non-pk key column: a blank cell matches what ``get(released=None)``
    matches (``IS NULL``), a record an earlier row created included; two matches are
    ``MultipleObjectsReturned``."""
    stored = [product("OLD", "sku-old", name="stored", released=date(2024, 1, 5))]
    if stored_null:
        stored.append(product("NUL", "sku-nul", name="stored null"))
    rows = (
        ("A", "s1", "first", "", "", 1),
        ("B", "s2", "second", "", None, 2),
        ("C", "s3", "third", "", "2024-01-05", 3),
        ("D", "s4", "fourth", "", "", 4),
    )
    scenario = products(*rows, key=("released",), stored=tuple(stored), batch_size=batch_size)
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_empty_text_key_matches_empty_text(batch_size):
    """``""`` matches ``""``: the rows update one record, the first one creating it."""
    rows = (
        ("", "s1", "first", "", "", 1),
        ("", "s2", "second", "", "", 2),
        ("ABC", "s3", "third", "", "", 3),
    )
    assert_equivalent(products(*rows, batch_size=batch_size))


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_blank_id_with_a_bad_value_in_another_key_part(batch_size):
    """``get(id=None, stock="x")`` still raises for the bad part: the row fails as stock's."""
    rows = (
        ("", "A", "s1", "n", "", "", "x"),
        ("", "B", "s2", "n", "", "", "4"),
        (None, "C", "s3", "n", "", "", "4"),
    )
    assert_equivalent(products_by(("id", "stock"), *rows, batch_size=batch_size))
