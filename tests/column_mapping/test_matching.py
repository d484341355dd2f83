"""Which field each file header is matched to, and by which rule, strongest rule first."""

from __future__ import annotations

import pytest

from admin_bulk_upsert.column_mapping.matching import (
    ColumnMatch,
    headers_match,
    match_columns,
    normalise,
)
from admin_bulk_upsert.column_mapping.targets import (
    ColumnTarget,
    import_targets,
    mapping_enabled,
)
from tests.adminapp.resources import (
    CatalogueResource,
    ProductResource,
    UnmappedTransactionResource,
)


def matched(headers, remembered=None, resource=CatalogueResource):
    targets = import_targets(resource())
    return {
        header: (match.field_name, match.rule)
        for header, match in match_columns(headers, targets, remembered).items()
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Unit price", "unit price"),
        ("unit_price", "unit price"),
        ("  UNIT-PRICE. ", "unit price"),
        ("Prix unitaire (€)", "prix unitaire"),
        ("Straße", "strasse"),
    ],
)
def test_normalise_ignores_case_spaces_and_punctuation(text, expected):
    assert normalise(text) == expected


def test_the_resource_offers_its_import_fields_with_their_names():
    targets = import_targets(CatalogueResource())

    # In the order of Meta.fields.
    assert [(t.field_name, t.column_name, t.verbose_name) for t in targets] == [
        ("code", "code", "code"),
        ("product_sku", "product_sku", "sku"),
        ("product_name", "product_name", "name"),
        ("unit_price", "unit_price", "price"),
        ("stock", "stock", "stock"),
    ]
    assert targets[4].aliases == ("Quantity on hand", "Qty")


def test_each_rule_matches_what_it_says():
    assert matched(["product_sku", "PRODUCT NAME", "Price", "Qty", "Remarks"]) == {
        "product_sku": ("product_sku", "exact"),
        "PRODUCT NAME": ("product_name", "name"),
        "Price": ("unit_price", "verbose_name"),
        "Qty": ("stock", "alias"),
        "Remarks": ("", ""),
    }


def test_verbose_names_in_another_case_with_an_extra_column():
    assert matched(["SKU", "CODE", "NAME", "PRICE", "Notes"]) == {
        "SKU": ("product_sku", "verbose_name"),
        "CODE": ("code", "name"),
        "NAME": ("product_name", "verbose_name"),
        "PRICE": ("unit_price", "verbose_name"),
        "Notes": ("", ""),
    }


def test_a_stronger_rule_wins_whatever_the_column_order():
    # "Unit Price" (name) comes first in the file but "unit_price" (exact) takes the field;
    # "Price" (verbose name) finds it taken.
    assert matched(["Unit Price", "Price", "unit_price"]) == {
        "Unit Price": ("", ""),
        "Price": ("", ""),
        "unit_price": ("unit_price", "exact"),
    }


def test_within_a_rule_the_first_column_takes_the_field():
    assert matched(["sku", "Sku"]) == {
        "sku": ("product_sku", "verbose_name"),
        "Sku": ("", ""),
    }


def test_remembered_choices_come_last():
    remembered = {"Ref": "product_sku", "Price": "stock", "Comment": "", "Old": "gone"}

    assert matched(["Ref", "Price", "Comment", "Old"], remembered) == {
        "Ref": ("product_sku", "remembered"),  # no other rule matches "Ref"
        "Price": ("unit_price", "verbose_name"),  # a verbose name beats a remembered choice
        "Comment": ("", "remembered"),  # remembered as ignored
        "Old": ("", ""),  # a field the resource no longer has
    }


def test_a_remembered_field_taken_by_a_stronger_match_is_not_given_twice():
    assert matched(["product_sku", "Ref"], {"Ref": "product_sku"}) == {
        "product_sku": ("product_sku", "exact"),
        "Ref": ("", ""),
    }


def test_match_columns_keeps_file_order_and_every_header():
    target = ColumnTarget("sku", "sku", "SKU")

    assert list(match_columns(["b", "sku", "a"], [target])) == ["b", "sku", "a"]
    assert match_columns(["x"], [target])["x"] == ColumnMatch()


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["code", "sku", "name"], True),  # a subset of the columns, with the key
        (["sku"], True),
        (["code", "name"], False),  # the key column is missing
        (["sku", "Notes"], False),  # a column the resource does not know
        (["SKU"], False),  # close is not the same
    ],
)
def test_headers_match_only_when_every_header_is_a_column_and_the_key_is_there(headers, expected):
    columns = {"code", "sku", "name", "price", "stock"}

    assert headers_match(headers, columns, ["sku"]) is expected


def test_a_resource_turns_the_step_off_with_meta_column_mapping():
    assert mapping_enabled(ProductResource) is True
    assert mapping_enabled(UnmappedTransactionResource) is False
