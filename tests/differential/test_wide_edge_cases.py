"""Hand-written files over ``WideRecord``: blank keys, the pk as the key, m2m.

Stock DIE's rule for a key is ``queryset.get(**key)`` at the row's turn: ``id=None``
matches nothing, not even the record an earlier row of the same file created; a
blank cell in a nullable column matches what ``get(column=None)`` matches
(``IS NULL``), and ``""`` matches ``""``. Stock is the oracle here too, except in
a blank ``id`` column in a file keyed on other columns before DIE 4.4.6, a deliberate
difference.
"""

from __future__ import annotations

from typing import Any

import pytest
from import_export.resources import ModelResource

from admin_bulk_upsert.engine import chunks
from admin_bulk_upsert.engine.instances import STOCK_CHECKS_PK
from tests.differential.datasets import Scenario
from tests.differential.harness import assert_equivalent, bulk_base, run_import
from tests.differential.wide import UNKNOWN_IDS, wide_spec
from tests.testapp.models import WideBase, WideRecord, WideSavedRecord, WideSignalledRecord

STORED = 10**9 + 10


def wide(
    headers: tuple[str, ...],
    *rows: tuple[Any, ...],
    key: tuple[str, ...] = ("id",),
    stored: tuple[dict[str, Any], ...] = (),
    model: type[WideBase] = WideRecord,
    **meta: Any,
) -> Scenario:
    spec = wide_spec(model, *key).with_meta(**meta)
    return Scenario(
        f"{model.__name__}-{'+'.join(key)}-edge",
        spec,
        stored,
        headers,
        rows,
        shown_pks=frozenset((*UNKNOWN_IDS, STORED)),
    )


# --- the primary key as the key (issue 14 item 1) ------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("blanks", [(None, None), ("", ""), (None, "")], ids=repr)
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_each_blank_id_creates_a_record(blanks, batch_size):
    """``get(id=None)`` finds nothing: every row with a blank id is new, also when an
    earlier row of the file created a record from a blank id too."""
    scenario = wide(
        ("id", "label"),
        (blanks[0], "first"),
        (blanks[1], "second"),
        (STORED, "stored"),
        (blanks[0], "third"),
        stored=({"id": STORED, "label": "old"},),
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_explicit_unknown_id_creates_then_updates(batch_size):
    """An id nothing has: stock inserts under that id, and a later row updates it."""
    unknown = UNKNOWN_IDS[0]
    scenario = wide(
        ("id", "label"),
        (unknown, "first"),
        (str(unknown), "second"),
        (float(unknown), "third"),
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


# --- blank cells in nullable key columns ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("column", ["ratio", "price", "flag", "stamp", "rank", "level", "code"])
@pytest.mark.parametrize("blank", ["", None])
@pytest.mark.parametrize("stored_nulls", [0, 1, 2])
def test_blank_cell_matches_null(column, blank, stored_nulls):
    """A blank cell looks up ``column IS NULL``: no stored NULL creates, one updates it,
    two are ``MultipleObjectsReturned``."""
    stored = tuple({"label": f"stored {i}", column: None} for i in range(stored_nulls))
    scenario = wide(
        (column, "label"),
        (blank, "first"),
        (blank, "second"),
        key=(column,),
        stored=stored,
        batch_size=1000,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("blank", ["", None])
@pytest.mark.parametrize("stored_label", ["", None])
def test_blank_label_matches_the_empty_string(blank, stored_label):
    """``label`` is ``blank=True``: DIE cleans a blank cell to ``""``, which matches a
    stored ``""`` and not a stored NULL."""
    scenario = wide(
        ("label", "code"),
        (blank, "first"),
        (blank, "second"),
        key=("label",),
        stored=({"label": stored_label, "code": "stored"},),
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_composite_key_with_a_blank_part(accounts, batch_size):
    scenario = wide(
        ("account", "stamp", "label"),
        ("A001", "", "first"),
        ("A001", None, "second"),
        ("", "2024-01-05 10:00:00", "third"),
        ("", "2024-01-05T09:00:00Z", "fourth"),
        key=("account", "stamp"),
        stored=({"account_id": accounts["A001"], "stamp": None, "label": "stored"},),
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


# --- many-to-many -------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_m2m_sets_are_part_of_the_table(tags, batch_size):
    scenario = wide(
        ("code", "tags"),
        ("K1", "red,blue"),
        ("K2", ""),
        ("K1", "green"),
        ("K3", "nope"),
        key=("code",),
        stored=({"code": "K2", "tags": [tags["red"]]},),
        batch_size=batch_size,
    )
    assert_equivalent(scenario, ignore_diff_columns=("tags",))


# --- save() and its receivers (issue 14 item 2) ----------------------------------------

SAVE_MODELS = pytest.mark.parametrize(
    "model", [WideSavedRecord, WideSignalledRecord], ids=lambda m: m.__name__
)


@pytest.mark.django_db
@SAVE_MODELS
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_save_runs_for_each_row_with_an_m2m_column(tags, model, batch_size):
    """An m2m column (a post-save hook) must not send the rows through bulk writes: each
    row is saved with ``save()``, which leaves its mark in ``trace``."""
    scenario = wide(
        ("id", "label", "tags"),
        (STORED, "changed", "red"),
        (UNKNOWN_IDS[0], "new", "blue"),
        stored=({"id": STORED, "label": "old"},),
        model=model,
        batch_size=batch_size,
    )
    assert_equivalent(scenario, use_transactions=True, ignore_diff_columns=("tags",))


# --- an id column in a file keyed on other columns -------------------------------------


def _blank_id_column_with_another_key(batch_size: int) -> Scenario:
    return wide(
        ("id", "code", "label"),
        ("", "K1", "changed"),
        (None, "K2", "changed"),
        key=("code",),
        stored=({"id": STORED, "code": "K1", "label": "stored"}, {"code": "K2", "label": "stored"}),
        batch_size=batch_size,
    )


def _labels(outcome: Any) -> list[tuple[Any, ...]]:
    return [(origin, values[1], values[0]) for origin, values in outcome.aspects["table"]]


@pytest.mark.django_db
@pytest.mark.skipif(STOCK_CHECKS_PK, reason="DIE 4.4.6 keeps the found record's pk itself")
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_older_stock_copies_the_record_for_a_blank_id_column(batch_size):
    """Before 4.4.6, with another key, stock assigns the file's blank ``id`` to the record
    it found, so ``save()`` inserts a copy while reporting an update, and the stored record
    stays as it was: what the engine deliberately does not copy (next test)."""
    stock = run_import(ModelResource, _blank_id_column_with_another_key(batch_size))
    assert [r[0] for r in stock.aspects["rows"]] == ["update", "update"]
    assert _labels(stock) == [
        (("new",), "K1", "changed"),
        (("new",), "K2", "changed"),
        (("stored", 0), "K1", "stored"),
        (("stored", 1), "K2", "stored"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_engine_updates_in_place_for_a_blank_id_column(batch_size):
    """The engine updates the record the key found, in place, as its report says (on DIE
    4.4.6 and later, as stock does: next test)."""
    ours = run_import(bulk_base(), _blank_id_column_with_another_key(batch_size))
    assert [r[0] for r in ours.aspects["rows"]] == ["update", "update"]
    assert _labels(ours) == [
        (("stored", 0), "K1", "changed"),
        (("stored", 1), "K2", "changed"),
    ]


@pytest.mark.django_db
@pytest.mark.skipif(not STOCK_CHECKS_PK, reason="DIE before 4.4.6 does not check the pk")
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_blank_id_column_with_another_key_as_stock(batch_size):
    assert_equivalent(_blank_id_column_with_another_key(batch_size))


@pytest.mark.django_db
@pytest.mark.skipif(not STOCK_CHECKS_PK, reason="DIE before 4.4.6 does not check the pk")
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_another_records_id_fails_the_row_as_stock(batch_size):
    """Found by its code, a record cannot take another record's id, nor an unused one:
    stock fails the row ("The primary key of an existing instance cannot be changed"),
    and the rows around it are imported; the same id again is an update."""
    scenario = wide(
        ("id", "code", "label"),
        (STORED + 1, "K1", "taken"),
        (UNKNOWN_IDS[0], "K1", "unused"),
        (STORED, "K1", "same id"),
        ("", "K2", "new"),
        key=("code",),
        stored=({"id": STORED, "code": "K1", "label": "one"}, {"id": STORED + 1, "code": "K9"}),
        batch_size=batch_size,
    )
    stock, _ = assert_equivalent(scenario)
    assert [r[0] for r in stock.aspects["rows"]] == ["error", "error", "update", "new"]


@pytest.mark.django_db
@pytest.mark.skipif(not STOCK_CHECKS_PK, reason="DIE before 4.4.6 does not check the pk")
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_an_id_for_a_record_the_file_created_fails_the_row_as_stock(batch_size):
    """The record an earlier row created has the pk the database gave it, which the error
    names (and which differs between runs on MariaDB, whose counter a rollback does not
    reset): the rows and the table are compared, not the message."""
    scenario = wide(
        ("id", "code", "label"),
        ("", "K2", "new"),
        (STORED, "K2", "an id for a new record"),
        ("", "K3", "after"),
        key=("code",),
        stored=({"id": STORED, "code": "K1", "label": "one"},),
        batch_size=batch_size,
    )
    stock = run_import(ModelResource, scenario)
    ours = run_import(bulk_base(), scenario)
    rows = [[r[0] for r in outcome.aspects["rows"]] for outcome in (stock, ours)]
    assert rows == [["new", "error", "new"]] * 2
    assert ours.aspects["table"] == stock.aspects["table"]


# --- skip_unchanged on a key repeated within a chunk --------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_skip_unchanged_repeated_key_with_the_same_m2m(tags, batch_size):
    """The second row repeats the first exactly: stock finds the record the first row
    wrote, its tags included, and skips the row."""
    row = ("K1", "a", "blue")
    scenario = wide(
        ("code", "label", "tags"),
        row,
        row,
        key=("code",),
        skip_unchanged=True,
        batch_size=batch_size,
    )
    assert_equivalent(scenario, ignore_diff_columns=("tags",))


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
@pytest.mark.parametrize("second", ["blue", "red"], ids=["same again", "back to the stored"])
def test_skip_unchanged_repeated_stored_key_with_m2m(tags, batch_size, second):
    """The first row changes a stored record's tags; stock compares the second row's
    tags with the ones the first row wrote, not with the ones stored before the file."""
    scenario = wide(
        ("code", "label", "tags"),
        ("K1", "a", "blue"),
        ("K1", "a", second),
        key=("code",),
        stored=({"code": "K1", "label": "a", "tags": [tags["red"]]},),
        skip_unchanged=True,
        batch_size=batch_size,
    )
    assert_equivalent(scenario, ignore_diff_columns=("tags",))


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
@pytest.mark.parametrize(
    "first,second",
    [
        ("2024-10-27 02:30:00", "2024-10-27 02:30:00"),
        ("2024-10-27 02:30:00", "2024-10-27T00:30:00Z"),
        ("2024-07-01 12:00:00", "2024-07-01 12:00:00"),
    ],
    ids=["repeated hour twice", "repeated hour then UTC", "summer time twice"],
)
def test_skip_unchanged_repeated_key_in_the_repeated_hour(first, second, batch_size):
    """Stock compares the second row's time with the first's as read back (in UTC).
    "02:30" in Paris on 2024-10-27 falls in the repeated hour, which Python never
    finds equal to a time of another zone (PEP 495): stock updates the row. The same
    instant given in UTC, or an ordinary time repeated, is equal: stock skips."""
    scenario = wide(
        ("code", "stamp"),
        ("K1", first),
        ("K1", second),
        key=("code",),
        skip_unchanged=True,
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "headers,replayed",
    [(("code", "label", "tags"), [3]), (("code", "label"), [])],
    ids=["m2m column", "no m2m column"],
)
def test_only_a_chunk_where_skip_row_reads_written_links_is_replayed(
    tags, headers, replayed, monkeypatch
):
    """The engine replays the stock way only the chunk where a repeated key meets an
    m2m column: the second chunk here (rows 3 and 4). Without an m2m column nothing is
    replayed."""
    rows = [("K1", "a", "blue"), ("K2", "a", "red"), ("K3", "a", "blue"), ("K3", "a", "blue")]
    scenario = wide(
        headers,
        *(row[: len(headers)] for row in rows),
        key=("code",),
        skip_unchanged=True,
        batch_size=2,
    )
    calls = []
    real = chunks.replay_rows
    monkeypatch.setattr(
        chunks,
        "replay_rows",
        lambda resource, chunk, *args, **kwargs: (
            calls.append(chunk[0].number),
            real(resource, chunk, *args, **kwargs),
        ),
    )
    ours = run_import(bulk_base(), scenario)
    assert [r[0] for r in ours.aspects["rows"]] == ["new", "new", "new", "skip"]
    assert calls == replayed  # the first row number of each chunk replayed


# --- found by the generated files (issue 14) ------------------------------------------------


@pytest.mark.django_db
def test_invalid_row_reports_uniqueness_errors_too():
    """``full_clean()`` checks uniqueness on the fields that passed; stock reports both
    the blank field and the taken id. (``Product.sku`` shows the same.)"""
    scenario = wide(
        ("id", "code", "label"),
        (STORED, "", "changed"),
        key=("id", "code"),
        stored=({"id": STORED, "code": "K1", "label": "stored"},),
        clean_model_instances=True,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("later", ["2024-10-27T05:30:00+05:00", "2024-10-27T00:30:00Z"])
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_repeated_hour_under_a_key_with_a_blank_part(accounts, later, batch_size):
    """ "02:30" in Paris on 2024-10-27 is 00:30 UTC (the first of the two); the second
    row gives that instant in another zone, with the same blank account: stock's
    ``get()`` finds the record the first row created."""
    scenario = wide(
        ("account", "stamp", "label"),
        ("", "2024-10-27 02:30", "first"),
        ("", later, "second"),
        key=("account", "stamp"),
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


# --- key values the column cannot hold ----------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "column,value", [("level", "70000"), ("level", "-1"), ("rank", "40000"), ("rank", "-40000")]
)
@pytest.mark.parametrize("clean", [False, True])
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_key_out_of_the_columns_range(column, value, clean, batch_size):
    """Django's lookups find nothing for an integer out of the field's range (no query
    at all); stock then inserts the row, which the database or ``full_clean`` refuses."""
    scenario = wide(
        (column, "label"),
        (value, "first"),
        ("7", "second"),
        key=(column,),
        stored=({column: 7, "label": "stored"},),
        clean_model_instances=clean,
        batch_size=batch_size,
    )
    assert_equivalent(scenario)


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["K1", ""], ids=["key", "blank key"])
@pytest.mark.parametrize("price", ["1.505", "1.515", "-1.505"])
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_decimal_half_way_then_repeated(code, price, batch_size):
    """PostgreSQL and MariaDB round a decimal exactly half way to the column's places
    away from zero (1.505 is stored as 1.51); the second row's ``original`` is what
    the database returned."""
    scenario = wide(
        ("code", "price", "label"),
        (code, price, "first"),
        (code, "2.00", "second"),
        key=("code",),
        batch_size=batch_size,
    )
    assert_equivalent(scenario)
