"""Cases where the engine once parted from stock DIE (issue 14): each compared with stock.

Old-signature ``full_clean`` overrides, resources whose ``__init__`` skips
``super().__init__()``, many-to-many columns (their diff, a failing
``save_m2m``) and the DEBUG line for a column missing from the file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from import_export.fields import Field
from import_export.resources import ModelResource
from import_export.widgets import ManyToManyWidget

from tests.differential import harness
from tests.differential.datasets import ResourceSpec, Scenario, product_spec
from tests.differential.harness import assert_equivalent, assert_same, bulk_base, run_import
from tests.testapp.models import Account, FidelityArticle, FidelityOldCleanNote, FidelityTag

# --- a full_clean() with the signature of older Django versions ---------------------------


def old_clean_notes(*rows: tuple[str, str], stored: tuple[dict[str, str], ...] = ()) -> Scenario:
    spec = ResourceSpec(
        FidelityOldCleanNote,
        ("code", "text"),
        ("code",),
        meta={"clean_model_instances": True},
    )
    return Scenario("OldCleanNote", spec, stored, ("code", "text"), rows)


@pytest.mark.django_db
def test_old_signature_full_clean_reports_its_errors():
    """``full_clean(exclude, validate_unique)`` without ``validate_constraints``: stock
    calls it with those two arguments, and its errors make invalid rows."""
    scenario = old_clean_notes(
        ("a", "fine"),
        ("b", "bad"),
        ("c", "fine too"),
        ("d", "bad"),
        stored=({"code": "c", "text": "old"},),
    )
    assert_equivalent(scenario, use_transactions=True)


# --- a resource whose __init__ does not call super().__init__() ----------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_init_without_super_init(batch_size):
    """DIE's docs set a value in ``__init__`` and read it in a hook, without calling
    ``super().__init__()``: the resource then uses its class's fields, and imports."""

    def __init__(self: Any, **kwargs: Any) -> None:
        self.stock_level = 7

    def before_save_instance(self: Any, instance: Any, row: Any, **kwargs: Any) -> None:
        instance.stock = self.stock_level

    spec = product_spec("code").with_meta(batch_size=batch_size)
    spec = replace(
        spec,
        declare=lambda: {"__init__": __init__, "before_save_instance": before_save_instance},
    )
    scenario = Scenario(
        "Product-no-super-init",
        spec,
        ({"code": "ABC", "name": "stored"},),
        ("code", "name", "price", "stock"),
        (
            ("ABC", "updated", "9.99", "1"),
            ("XYZ", "new", "", "2"),
        ),
    )
    assert_equivalent(scenario, use_transactions=True)


# --- many-to-many columns -------------------------------------------------------------------


TAG_NAMES = ("red", "green", "blue")


@pytest.fixture
def tags(django_db_setup, request) -> None:
    """Tags stored once per test, never touched by the imports: equal in both runs."""
    if request.node.get_closest_marker("django_db") is None:
        raise AssertionError("tests using `tags` need @pytest.mark.django_db")
    for name in TAG_NAMES:
        FidelityTag.objects.create(name=name)


def _tags_by_name() -> dict[str, Field]:
    return {"tags": Field("tags", "tags", widget=ManyToManyWidget(FidelityTag, field="name"))}


def articles(
    *rows: tuple[str, str, str],
    stored: tuple[tuple[str, str, tuple[str, ...]], ...] = (),
    declare: Callable[[], dict[str, Any]] = _tags_by_name,
    **meta: Any,
) -> tuple[Scenario, Callable[[], None]]:
    """Articles with a ``tags`` column of tag names; and what stores ``stored`` with its tags."""
    spec = ResourceSpec(
        FidelityArticle, ("code", "title", "tags"), ("code",), declare=declare, meta=meta
    )
    existing = tuple({"code": code, "title": title} for code, title, _ in stored)

    def tag_stored() -> None:
        for code, _, names in stored:
            article = FidelityArticle.objects.get(code=code)
            article.tags.set(FidelityTag.objects.filter(name__in=names))

    return Scenario("Article", spec, existing, ("code", "title", "tags"), rows), tag_stored


def article_tags() -> list[tuple[str, list[str]]]:
    return [
        (article.code, sorted(tag.name for tag in article.tags.all()))
        for article in FidelityArticle.objects.order_by("code")
    ]


def assert_equivalent_with_tags(
    scenario: Scenario, tag_stored: Callable[[], None], **import_kwargs: Any
) -> None:
    """:func:`assert_equivalent` for a model with tags: the tags afterwards are compared
    too (the outcome includes each row's diff, where stock shows the tags)."""
    original_reset = harness.reset_table

    def reset_then_tag(scenario: Scenario) -> dict[Any, int]:
        origins = original_reset(scenario)
        tag_stored()
        return origins

    outcomes = {}
    harness.reset_table = reset_then_tag
    try:
        for base in (ModelResource, bulk_base()):
            for dry_run in (False, True):
                outcome = run_import(base, scenario, dry_run=dry_run, **import_kwargs)
                outcomes[base, dry_run] = (outcome, article_tags())
    finally:
        harness.reset_table = original_reset
    for dry_run in (False, True):
        stock, stock_tags = outcomes[ModelResource, dry_run]
        other, other_tags = outcomes[bulk_base(), dry_run]
        stock, other = _without_article_pks(stock), _without_article_pks(other)
        assert_same(stock, other, f"{scenario.name} dry_run={dry_run} {import_kwargs}")
        assert stock_tags == other_tags, f"tags after dry_run={dry_run}"


#: PostgreSQL and MariaDB name the duplicate pair of a link table, whose article pk
#: differs between runs.
_DUPLICATE_PAIR = re.compile(
    r"(Key \(fidelityarticle_id, fidelitytag_id\)=\(|Duplicate entry ')\d+"
)


def _without_article_pks(outcome: harness.Outcome) -> harness.Outcome:
    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _DUPLICATE_PAIR.sub(r"\1<pk>", value)
        if isinstance(value, (list, tuple)):
            return type(value)(clean(item) for item in value)
        if isinstance(value, dict):
            return {key: clean(item) for key, item in value.items()}
        return value

    return replace(outcome, aspects=clean(outcome.aspects))


ARTICLE_ROWS = (
    ("new-1", "first", "red,blue"),
    ("old-1", "changed", "green"),
    ("old-2", "same tags", "red"),
    ("new-2", "no tags", ""),
    ("new-1", "again", "green"),
    ("old-1", "again", "red,green"),
)
STORED_ARTICLES = (("old-1", "stored", ("red",)), ("old-2", "stored", ("red",)))


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_many_to_many_diff_and_values(tags, batch_size):
    """Stock's diff shows each row's tags as saved (also in a dry run, before it is
    rolled back), and the tags before the row for an update (also where an earlier
    row of the file set them)."""
    scenario, tag_stored = articles(*ARTICLE_ROWS, stored=STORED_ARTICLES, batch_size=batch_size)
    assert_equivalent_with_tags(scenario, tag_stored, use_transactions=True)


def _duplicate_tag_on_request() -> dict[str, Any]:
    def save_m2m(self: Any, instance: Any, row: Any, **kwargs: Any) -> None:
        ModelResource.save_m2m(self, instance, row, **kwargs)
        if row["title"] == "tag twice":
            through = FidelityArticle.tags.through
            tag = FidelityTag.objects.get(name="red")
            for _ in range(2):
                through.objects.create(fidelityarticle=instance, fidelitytag=tag)

    return {**_tags_by_name(), "save_m2m": save_m2m}


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_save_m2m_refused_by_the_database(tags, batch_size):
    """A ``save_m2m`` the database refuses makes an error row; the rows after it are
    imported (and rolled back, with the error) as stock imports them."""
    rows = (*ARTICLE_ROWS[:2], ("new-3", "tag twice", "green"), *ARTICLE_ROWS[2:4])
    scenario, tag_stored = articles(
        *rows, stored=STORED_ARTICLES, declare=_duplicate_tag_on_request, batch_size=batch_size
    )
    assert_equivalent_with_tags(scenario, tag_stored, use_transactions=True)


@pytest.mark.django_db
def test_own_save_m2m_without_many_to_many_columns():
    """Stock calls ``save_m2m`` for every saved row, whatever the columns are."""

    def save_m2m(self: Any, instance: Any, row: Any, **kwargs: Any) -> None:
        if row["name"] == "refused":
            raise ValueError("no related rows for this one")

    spec = replace(product_spec("code"), declare=lambda: {"save_m2m": save_m2m})
    scenario = Scenario(
        "Product-own-save-m2m",
        spec,
        (),
        ("code", "name"),
        (("ABC", "fine"), ("XYZ", "refused"), ("K-9", "fine")),
    )
    assert_equivalent(scenario, use_transactions=True)


# --- DEBUG lines of import_export.resources -------------------------------------------------


def _debug_lines(caplog: pytest.LogCaptureFixture, base: type[ModelResource], scenario: Scenario):
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="import_export.resources"):
        run_import(base, scenario, use_transactions=True)
    return [
        (record.levelname, record.getMessage(), record.exc_info is not None)
        for record in caplog.records
        if record.name == "import_export.resources"
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_debug_lines_for_columns_missing_from_the_file(caplog, batch_size):
    """People debug their column mappings with stock's "skipping field" lines: the same
    lines, per row and field, at DEBUG on ``import_export.resources``; and the DEBUG line
    with the traceback of each error row."""

    def declare() -> dict[str, Any]:
        return {
            "note": Field(column_name="note"),
            "stock": Field("stock", "stock", readonly=True),
        }

    spec = replace(product_spec("code"), declare=declare).with_meta(batch_size=batch_size)
    spec = replace(spec, fields=(*spec.fields, "note"))
    scenario = Scenario(
        "Product-missing-columns",
        spec,
        ({"code": "ABC", "name": "stored"},),
        ("code", "name", "price"),
        (("ABC", "updated", "1.50"), ("XYZ", "new", ""), ("K-9", "bad price", "one euro")),
    )
    stock = _debug_lines(caplog, ModelResource, scenario)
    assert any("is not present in row" in message for _, message, _ in stock)
    assert _debug_lines(caplog, bulk_base(), scenario) == stock


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_after_import_row_refused_by_the_database(batch_size):
    """A hook's database error fails its row only: stock runs each row in a savepoint."""

    def after_import_row(self: Any, row: Any, row_result: Any, **kwargs: Any) -> None:
        if row["name"] == "twice":
            for _ in range(2):
                Account.objects.create(number="SAME")

    spec = replace(product_spec("code"), declare=lambda: {"after_import_row": after_import_row})
    scenario = Scenario(
        "Product-hook-refused",
        spec.with_meta(batch_size=batch_size),
        ({"code": "XYZ", "name": "stored"},),
        ("code", "name"),
        (("ABC", "fine"), ("K-9", "twice"), ("XYZ", "updated")),
    )
    assert_equivalent(scenario, use_transactions=True)
