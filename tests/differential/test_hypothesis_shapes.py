"""Small files drawn by Hypothesis on the model shapes real projects have.

Many-to-many columns (by name and by pk, with and without an ``m2m_changed``
receiver), ``pre_save``/``post_save`` receivers (for all senders or the model;
recording, setting a value, refusing a row), pass-through ``save()`` overrides
(django-model-utils' ``TimeStampedModel``, ``@bulk_safe_save``), a ``save()``
doing real work (fills a slug), a ``FieldTracker``, and django-simple-history:
each drawn file is imported by stock DIE and by the engine, and the table (link
tables included), the ``Result``, the receivers' calls and the history rows are
compared (:mod:`.shapes`). Files are short, keys repeat, cells are blank or
invalid, and chunks are small enough for a file to span several.

Derandomized, as ``test_hypothesis.py``. ``ADMIN_BULK_UPSERT_SHAPE_EXAMPLES`` sets
the examples per test (default 50).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from import_export.fields import Field
from import_export.widgets import ManyToManyWidget

from tests.differential.datasets import ResourceSpec, Scenario
from tests.differential.harness import build_resource_class, bulk_base
from tests.differential.shapes import Receivers, assert_same_as_stock
from tests.testapp.models import (
    BulkSafeProduct,
    HistoryProduct,
    M2MLabel,
    M2MPost,
    SavingProduct,
    SignalledProduct,
    StampedHistoryProduct,
    StampedProduct,
    TrackedProduct,
)

EXAMPLES = settings(
    max_examples=int(os.environ.get("ADMIN_BULK_UPSERT_SHAPE_EXAMPLES", "50")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def modified_default() -> None:
    """``AutoLastModifiedField``'s default is computed once per process: read it before
    the clock is frozen (see test_save_signals)."""
    for model in (StampedProduct, StampedHistoryProduct):
        model._meta.get_field("modified").get_default()


def write_path_of(spec: ResourceSpec) -> str:
    from admin_bulk_upsert.engine.write_mode import write_path

    return write_path(build_resource_class(bulk_base(), spec), spec.model).how


# --- products: code (unique), name -----------------------------------------------------

#: "a" is "A" on MariaDB only; "C" * 21 is too long for the column.
CODES = st.sampled_from(["A", "B", "D", "E", "a", "", None, "C" * 21])
#: "boom" is refused by the refusing receiver, "explode" by SavingProduct's save().
NAMES = st.sampled_from(["apple", "date", "", None, "boom", "explode", "n" * 41])
PRODUCT_ROWS = st.lists(st.tuples(CODES, NAMES), max_size=8)
STORED_PRODUCTS = ({"code": "A", "name": "apple"}, {"code": "B", "name": "banana"})
SCOPES = st.sampled_from([None, "all", "one"])
RECEIVERS = st.builds(Receivers, record=SCOPES, set_value=SCOPES, refuse=st.booleans())
OPTIONS = st.fixed_dictionaries(
    {
        "batch_size": st.sampled_from([1, 2, 3, 1000]),
        "skip_unchanged": st.booleans(),
        "clean_model_instances": st.booleans(),
    }
)


def product_scenario(model, rows, stored, options) -> Scenario:
    spec = ResourceSpec(model, ("code", "name"), ("code",), meta=options)
    existing = tuple(STORED_PRODUCTS[i] for i in sorted(stored))
    return Scenario(model.__name__, spec, existing, ("code", "name"), tuple(rows))


@pytest.mark.django_db
@EXAMPLES
@given(
    model=st.sampled_from(
        [SignalledProduct, StampedProduct, BulkSafeProduct, SavingProduct, TrackedProduct]
    ),
    receivers=RECEIVERS,
    rows=PRODUCT_ROWS,
    stored=st.sets(st.sampled_from([0, 1])),
    options=OPTIONS,
    dry_run=st.booleans(),
)
def test_save_receivers_and_overrides(model, receivers, rows, stored, options, dry_run):
    scenario = product_scenario(model, rows, stored, options)
    from admin_bulk_upsert.engine.write_mode import SAVE_PER_ROW

    interleaved = write_path_of(scenario.spec) == SAVE_PER_ROW
    assert_same_as_stock(scenario, receivers, interleaved, use_transactions=True, dry_run=dry_run)


@pytest.mark.django_db
@EXAMPLES
@given(
    model=st.sampled_from([HistoryProduct, StampedHistoryProduct]),
    receivers=RECEIVERS,
    rows=PRODUCT_ROWS,
    stored=st.sets(st.sampled_from([0, 1])),
    options=OPTIONS,
    dry_run=st.booleans(),
)
def test_history_tracked(model, receivers, rows, stored, options, dry_run):
    scenario = product_scenario(model, rows, stored, options)
    assert_same_as_stock(scenario, receivers, use_transactions=True, dry_run=dry_run)


# --- posts with a many-to-many column ------------------------------------------------

#: "dup" names two labels, "Red" differs from "red" only in case, "7" is matched by a
#: number cell.
LABEL_NAMES = ("red", "green", "blue", "dup", "dup", "Red", "7")


@pytest.fixture
def stored_labels(django_db_setup) -> list[M2MLabel]:
    """Labels stored once per test, never changed by the imports: equal in both runs."""
    return [M2MLabel.objects.create(name=name) for name in LABEL_NAMES]


#: A cell: labels by position in ``LABEL_NAMES`` (written as names or pks), or text
#: that is neither (blank, unknown, not a number, a lone separator, another case).
LABEL_CELLS = st.one_of(
    st.lists(st.integers(0, len(LABEL_NAMES) - 1), max_size=3),
    st.sampled_from(["", None, "purple", "abc", " , ", "RED", 7, "999999"]),
)
POST_ROWS = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p2", "p3", "P1", "", "x" * 21]),
        st.sampled_from(["t", "", "boom", "x" * 41]),
        LABEL_CELLS,
    ),
    max_size=8,
)
STORED_POSTS = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p2"]), st.sets(st.integers(0, len(LABEL_NAMES) - 1), max_size=2)
    ),
    max_size=2,
    unique_by=lambda post: post[0],
)


def label_column(by: str):
    def declare() -> dict[str, Field]:
        if by == "pk":
            widget = ManyToManyWidget(M2MLabel)
        else:
            widget = ManyToManyWidget(M2MLabel, field="name")
        return {"labels": Field("labels", "labels", widget=widget, m2m_add=by == "name+add")}

    return declare


def render_cell(cell, by: str, labels: list[M2MLabel]):
    if not isinstance(cell, list):
        return cell
    if by == "pk":
        return ",".join(str(labels[i].pk) for i in cell)
    return ", ".join(labels[i].name for i in cell)


@pytest.mark.django_db
@EXAMPLES
@given(
    by=st.sampled_from(["name", "pk", "name+add"]),
    receivers=st.builds(Receivers, record=SCOPES, set_value=SCOPES, m2m=st.booleans()),
    rows=POST_ROWS,
    stored=STORED_POSTS,
    options=OPTIONS,
    dry_run=st.booleans(),
)
def test_m2m_columns(stored_labels, by, receivers, rows, stored, options, dry_run):
    spec = ResourceSpec(
        M2MPost, ("code", "title", "labels"), ("code",), declare=label_column(by), meta=options
    )
    existing = tuple(
        {"code": code, "title": "stored", "labels": [stored_labels[i] for i in sorted(names)]}
        for code, names in stored
    )
    file_rows = tuple(
        (code, title, render_cell(cell, by, stored_labels)) for code, title, cell in rows
    )
    headers = ("code", "title", "labels")
    scenario = Scenario(f"M2MPost-{by}", spec, existing, headers, file_rows)
    assert_same_as_stock(scenario, receivers, use_transactions=True, dry_run=dry_run)
