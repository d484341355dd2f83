"""Many-to-many columns written per chunk (issue 22), each case compared with stock DIE.

The engine resolves a chunk's ``ManyToManyWidget`` cells with one query per column and
writes the links set-based (:mod:`admin_bulk_upsert.engine.m2m_links`); these tests
import the same files with stock DIE and compare tables, link sets, totals, row results
and diffs, dry runs included, and count the statements per chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from django.db import connection
from django.db.models.signals import m2m_changed
from django.test.utils import CaptureQueriesContext
from import_export.fields import Field
from import_export.resources import ModelResource
from import_export.widgets import ManyToManyWidget

from tests.differential.datasets import ResourceSpec, Scenario
from tests.differential.harness import assert_equivalent, build_resource_class, bulk_base
from tests.testapp.models import M2MLabel, M2MPost

#: "dup" is stored twice (a name matching two labels links both); "Red" differs from
#: "red" only in case (MariaDB's default collation finds both for either); "7" is
#: matched by a number cell.
LABEL_NAMES = ("red", "green", "blue", "dup", "dup", "Red", "7")


@pytest.fixture
def labels(django_db_setup, request) -> list[M2MLabel]:
    """Labels stored once per test, never changed by the imports: equal in both runs."""
    if request.node.get_closest_marker("django_db") is None:
        raise AssertionError("tests using `labels` need @pytest.mark.django_db")
    return [M2MLabel.objects.create(name=name) for name in LABEL_NAMES]


def by_name(**options: Any) -> Callable[[], dict[str, Field]]:
    def declare() -> dict[str, Field]:
        widget = ManyToManyWidget(M2MLabel, field="name")
        return {"labels": Field("labels", "labels", widget=widget, **options)}

    return declare


def by_pk() -> dict[str, Field]:
    return {"labels": Field("labels", "labels", widget=ManyToManyWidget(M2MLabel))}


def posts(
    *rows: tuple[Any, ...],
    stored: Sequence[tuple[str, Sequence[str]]] = (),
    declare: Callable[[], dict[str, Field]] | None = None,
    **meta: Any,
) -> Scenario:
    """Posts keyed by ``code``; ``stored`` posts get the labels of exactly these names."""
    spec = ResourceSpec(
        M2MPost, ("code", "title", "labels"), ("code",), declare=declare or by_name(), meta=meta
    )
    everyone = list(M2MLabel.objects.order_by("pk"))
    existing = tuple(
        {
            "code": code,
            "title": "stored",
            "labels": [label for label in everyone if label.name in names],
        }
        for code, names in stored
    )
    return Scenario("Post", spec, existing, ("code", "title", "labels"), rows)


STORED = (("old-1", ("red",)), ("old-2", ("red", "green")), ("old-3", ()), ("old-4", ("blue",)))

CHANGES = (
    ("new-1", "added", "red,blue"),
    ("old-1", "added one", "red, green"),
    ("old-2", "removed one", "green"),
    ("old-3", "unchanged, none", ""),
    ("old-4", "unchanged", "blue"),
    ("new-2", "empty cell", None),
    ("old-1x", "nothing matches", "purple, , orange"),
    ("new-3", "duplicates in a cell", "green,green, green ,"),
    ("new-4", "two labels of one name", "dup"),
    ("new-5", "case", "RED"),
    ("new-6", "number cell", 7),
    ("new-7", "float cell", 7.0),
    ("new-8", "separator only", ","),
)


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_links_added_removed_unchanged(labels, batch_size):
    scenario = posts(*CHANGES, stored=STORED, batch_size=batch_size)
    assert_equivalent(scenario, use_transactions=True)


@pytest.mark.django_db
@pytest.mark.parametrize("meta", [{"skip_unchanged": True}, {"skip_diff": True}])
def test_skip_unchanged_and_no_diff(labels, meta):
    scenario = posts(*CHANGES, stored=STORED, **meta)
    assert_equivalent(scenario, use_transactions=True)
    assert_equivalent(scenario, use_transactions=True, dry_run=True)


@pytest.mark.django_db
def test_m2m_add_adds_to_the_stored_links(labels):
    scenario = posts(*CHANGES, stored=STORED, declare=by_name(m2m_add=True))
    assert_equivalent(scenario, use_transactions=True)


@pytest.mark.django_db
@pytest.mark.parametrize("skip_unchanged", [False, True])
def test_repeated_key_in_the_chunk(labels, skip_unchanged):
    rows = (*CHANGES[:3], ("old-1", "again", "blue"), ("new-1", "again", ""), *CHANGES[3:])
    scenario = posts(*rows, stored=STORED, skip_unchanged=skip_unchanged)
    assert_equivalent(scenario, use_transactions=True)


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_by_pk_with_a_value_the_database_cannot_compare(labels, batch_size):
    """``"abc"`` for an integer pk: stock's ``filter(pk__in=...)`` raises, an error row."""
    red, green = labels[0].pk, labels[1].pk
    rows = (
        ("new-1", "pks", f"{red},{green}"),
        ("old-1", "one pk", str(green)),
        ("new-2", "not a number", f"{red},abc"),
        ("old-2", "number cell", red),
        ("new-3", "unknown pk", "999999"),
    )
    scenario = posts(*rows, stored=STORED, declare=by_pk, batch_size=batch_size)
    assert_equivalent(scenario, use_transactions=True)
    valid = (*rows[:2], *rows[3:])
    assert_equivalent(posts(*valid, stored=STORED, declare=by_pk), use_transactions=True)


@pytest.mark.django_db
def test_out_of_range_and_odd_cells_keep_stock_outcome(labels):
    """A pk past 64 bits, a decimal or a date cell: stock's per-row path decides."""
    from datetime import date
    from decimal import Decimal

    for cell in ("99999999999999999999999", Decimal("3"), date(2024, 1, 1), float("nan")):
        rows = (("new-1", "odd", cell), ("old-1", "fine", str(labels[1].pk)))
        assert_equivalent(posts(*rows, stored=STORED, declare=by_pk), use_transactions=True)


class _Receiver:
    """An ``m2m_changed`` receiver that records what it is sent, by label name."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, sender: Any, instance: Any, action: str, **kwargs: Any) -> None:
        pk_set = kwargs["pk_set"]
        names = (
            None if pk_set is None else sorted(M2MLabel.objects.get(pk=pk).name for pk in pk_set)
        )
        self.calls.append((str(instance), action, kwargs["reverse"], kwargs["model"], names))


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    receiver = _Receiver()
    m2m_changed.connect(receiver, sender=M2MPost.labels.through, weak=False)
    try:
        yield receiver
    finally:
        m2m_changed.disconnect(receiver, sender=M2MPost.labels.through)


@pytest.mark.django_db
def test_m2m_changed_receivers_see_what_stock_sends(labels, receiver):
    scenario = posts(*CHANGES, stored=STORED)
    assert_equivalent(scenario, use_transactions=True, dry_run_too=False)
    # Stock's import, then the engine's: each sent the same signals.
    half = len(receiver.calls) // 2
    assert half and receiver.calls[:half] == receiver.calls[half:]


# --- statements per chunk ----------------------------------------------------------------


def _link_statements(base: type[ModelResource], scenario: Scenario) -> list[str]:
    """The statements an import sends to the label and link tables."""
    from tests.differential.harness import reset_table

    reset_table(scenario)
    resource = build_resource_class(base, scenario.spec)()
    tables = (M2MLabel._meta.db_table, M2MPost.labels.through._meta.db_table)
    with CaptureQueriesContext(connection) as captured:
        result = resource.import_data(scenario.dataset(), use_transactions=True)
    assert not result.has_errors() and not result.has_validation_errors()
    return [q["sql"] for q in captured.captured_queries if any(t in q["sql"] for t in tables)]


def _kind(sql: str) -> str:
    word = sql.split()[0].upper()
    return "SELECT" if word == "WITH" else word


def _eight_rows(labels: Sequence[M2MLabel]) -> tuple[tuple[Any, ...], ...]:
    return (
        ("old-1", "a", "red,green"),
        ("old-2", "b", "blue"),
        ("new-1", "c", "red"),
        ("new-2", "d", ""),
        ("old-3", "e", "green,dup"),
        ("old-4", "f", "blue"),
        ("new-3", "g", "purple"),
        ("new-4", "h", "red,blue"),
    )


@pytest.mark.django_db
def test_four_statements_per_chunk(labels):
    """Per chunk: the labels looked up, the updated records' links read, the removed
    links deleted, the added ones inserted; none per row (no diff to read them)."""
    scenario = posts(*_eight_rows(labels), stored=STORED, batch_size=4, skip_diff=True)
    statements = _link_statements(bulk_base(), scenario)
    kinds = [_kind(sql) for sql in statements]
    # chunk 1 (old-1, old-2, new-1, new-2): old-1 +green; old-2 -red -green +blue; new-1
    # +red. chunk 2 (old-3, old-4, new-3, new-4): old-3 +green +dup +dup, nothing removed.
    assert kinds == ["SELECT", "SELECT", "DELETE", "INSERT", "SELECT", "SELECT", "INSERT"]
    stock = _link_statements(ModelResource, scenario)
    assert len(stock) >= 2 * len(_eight_rows(labels))  # 21 on SQLite


@pytest.mark.django_db
def test_no_statement_for_what_does_not_change(labels):
    """A chunk of new records with no labels: one lookup, nothing read, deleted, inserted."""
    rows = (("new-1", "a", "purple"), ("new-2", "b", ""), ("new-3", "c", None))
    scenario = posts(*rows, skip_diff=True)
    statements = _link_statements(bulk_base(), scenario)
    assert [_kind(sql) for sql in statements] == ["SELECT"]


@pytest.mark.django_db
def test_m2m_changed_receiver_keeps_the_per_row_path(labels, receiver):
    scenario = posts(*_eight_rows(labels), stored=STORED, batch_size=4, skip_diff=True)
    engine = _link_statements(bulk_base(), scenario)
    stock = _link_statements(ModelResource, scenario)
    assert len(engine) == len(stock)


@pytest.mark.django_db
def test_diff_reads_one_query_per_chunk(labels):
    """The diff shows each record's labels before and after its row: they are known from
    the chunk's links, and one query orders the labels they name (``M2MLabel`` is ordered
    by name and pk, so each record's labels come in the order of stock's per-row read)."""
    scenario = posts(*_eight_rows(labels), stored=STORED, batch_size=4)
    kinds = [_kind(sql) for sql in _link_statements(bulk_base(), scenario)]
    chunk_1 = ["SELECT", "SELECT", "SELECT", "DELETE", "INSERT"]
    chunk_2 = ["SELECT", "SELECT", "SELECT", "INSERT"]
    assert kinds == chunk_1 + chunk_2


@pytest.mark.django_db
def test_raise_errors_stops_at_the_failing_cell(labels):
    red, blue = str(labels[0].pk), str(labels[2].pk)
    rows = (("new-1", "fine", red), ("new-2", "not a pk", "abc"), ("old-1", "after", blue))
    scenario = posts(*rows, stored=STORED, declare=by_pk)
    assert_equivalent(scenario, use_transactions=True, raise_errors=True)


@pytest.mark.django_db(transaction=True)
def test_without_transactions(labels):
    """No chunk savepoint to replay from: stock's per-row links, as stock."""
    scenario = posts(*CHANGES, stored=STORED)
    assert_equivalent(scenario, use_transactions=False)
