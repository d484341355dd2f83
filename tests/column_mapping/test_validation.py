"""A mapping checked (keys mapped, no field twice, known fields) and carried out as renames."""

from __future__ import annotations

import io

import tablib

from admin_bulk_upsert.column_mapping.renames import apply_column_map, column_renames
from admin_bulk_upsert.column_mapping.targets import all_column_names, import_targets
from admin_bulk_upsert.column_mapping.validation import mapping_errors
from admin_bulk_upsert.files.streaming import open_dataset
from tests.adminapp.resources import CatalogueResource

TARGETS = import_targets(CatalogueResource())
KEYS = ["product_sku"]


def test_a_complete_mapping_has_no_errors():
    assert mapping_errors({"SKU": "product_sku", "Notes": ""}, TARGETS, KEYS) == []


def test_an_unmapped_key_column_is_named():
    assert mapping_errors({"SKU": "", "Name": "product_name"}, TARGETS, KEYS) == [
        "The key column “product_sku” is not mapped: choose the file column that holds it, "
        "to identify existing rows."
    ]


def test_a_field_mapped_twice_names_both_columns():
    column_map = {"SKU": "product_sku", "Price": "unit_price", "Unit price": "unit_price"}

    assert mapping_errors(column_map, TARGETS, KEYS) == [
        "The field “unit_price” is mapped from more than one column: “Price”, “Unit price”."
    ]


def test_an_unknown_field_is_named_with_the_fields_there_are():
    assert mapping_errors({"SKU": "product_sku", "Colour": "colour"}, TARGETS, KEYS) == [
        "“colour” is not a field this import can fill. Fields: code, product_sku, "
        "product_name, unit_price, stock."
    ]


def renames(column_map):
    return column_renames(column_map, TARGETS, all_column_names(CatalogueResource()))


def test_mapped_headers_become_column_names_and_others_stay():
    assert renames({"SKU": "product_sku", "code": "code", "Notes": ""}) == {"SKU": "product_sku"}


def test_an_ignored_column_named_like_a_column_is_moved_out_of_the_way():
    # The user reads "Ref" as the SKU and ignores the file's own "product_sku" column.
    assert renames({"Ref": "product_sku", "product_sku": "", "stock": ""}) == {
        "Ref": "product_sku",
        "product_sku": "product_sku (ignored)",
        "stock": "stock (ignored)",
    }


def test_the_renamed_header_never_clashes_with_another_one():
    assert renames({"stock": "", "stock (ignored)": ""}) == {"stock": "stock (ignored) "}


def test_apply_renames_a_tablib_dataset_and_keeps_its_rows():
    dataset = tablib.Dataset(["A-1", "9.50", "x"], headers=["SKU", "PRICE", "Notes"])

    apply_column_map(
        dataset, CatalogueResource(), {"SKU": "product_sku", "PRICE": "unit_price", "Notes": ""}
    )

    assert dataset.headers == ["product_sku", "unit_price", "Notes"]
    assert dataset.dict == [{"product_sku": "A-1", "unit_price": "9.50", "Notes": "x"}]


def test_apply_renames_a_streamed_dataset_and_keeps_its_rows():
    data = io.BytesIO(b"SKU,PRICE\nA-1,9.50\nA-2,3\n")
    dataset = open_dataset(data, filename="products.csv")

    apply_column_map(dataset, CatalogueResource(), {"SKU": "product_sku", "PRICE": "unit_price"})

    assert dataset.headers == ["product_sku", "unit_price"]
    assert [dict(zip(dataset.headers, row, strict=True)) for row in dataset] == [
        {"product_sku": "A-1", "unit_price": "9.50"},
        {"product_sku": "A-2", "unit_price": "3"},
    ]


def test_an_empty_mapping_changes_nothing():
    dataset = tablib.Dataset(["A-1"], headers=["sku"])

    assert apply_column_map(dataset, CatalogueResource(), {}).headers == ["sku"]
