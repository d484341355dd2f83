"""The mapping step: files whose headers differ from the resource's columns, in the admin.

A file whose headers are the resource's columns goes straight to the preview, as
before. Any other file gets a page pairing each of its columns with a field,
pre-filled; the key columns must be mapped, extra columns may be ignored, and
the user's choices are remembered for the next file (theirs only).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from admin_bulk_upsert.column_mapping.models import RememberedMapping
from tests.admin.column_mapping import (
    chosen,
    continue_mapping,
    mapping_site,  # noqa: F401 - fixture
    product_file,
)
from tests.admin.conftest import confirm, csv_file, make_staff, token_from, upload
from tests.testapp.models import Product, Transaction

pytestmark = pytest.mark.usefixtures("mapping_site")

PRODUCT_KEY = {"import_id_fields": ["product_sku"]}


def upload_products(client, file=None, **extra):
    return upload(client, file or product_file(), model="product", **{**PRODUCT_KEY, **extra})


def test_headers_that_match_go_straight_to_the_preview(importer_client):
    file = product_file("product_sku,code,product_name", ["A-1,C1,Chair"])

    with CaptureQueriesContext(connection) as queries:
        response = upload_products(importer_client, file)

    assert "mapping_form" not in response.context
    assert response.context["result"].totals["new"] == 1
    assert not [q for q in queries if RememberedMapping._meta.db_table in q["sql"]]


def test_other_headers_get_the_mapping_page_pre_filled(importer_client):
    response = upload_products(importer_client)

    assert response.status_code == 200
    assert "result" not in response.context
    assert chosen(response) == {
        "SKU": "product_sku",
        "CODE": "code",
        "NAME": "product_name",
        "PRICE": "unit_price",
        "Notes": "",
    }
    page = response.content.decode()
    assert "Match the file&#x27;s columns" in page
    assert "field&#x27;s verbose name" in page
    assert "— ignore this column —" in page
    assert 'extends "admin/base_site.html"' not in page  # rendered, with the admin's chrome
    assert 'id="site-name"' in page
    assert Product.objects.count() == 0


def test_continue_previews_then_confirm_imports_with_the_mapping(importer_client):
    Product.objects.create(code="C1", sku="A-1", name="Old chair", price=Decimal("40"))
    mapping_page = upload_products(importer_client)

    preview = continue_mapping(importer_client, mapping_page)

    assert preview.status_code == 200
    totals = preview.context["result"].totals
    assert (totals["new"], totals["update"]) == (1, 1)
    assert Product.objects.get(sku="A-1").name == "Old chair"  # a dry run
    response = confirm(importer_client, token_from(preview), model="product")
    assert response.status_code == 302
    assert sorted(Product.objects.values_list("sku", "code", "name", "price")) == [
        ("A-1", "C1", "Chair", Decimal("49.90")),
        ("A-2", "C2", "Table", Decimal("120.00")),
    ]


def test_a_column_can_be_read_into_another_field_than_proposed(importer_client):
    mapping_page = upload_products(importer_client)

    preview = continue_mapping(importer_client, mapping_page, NAME="", Notes="product_name")
    confirm(importer_client, token_from(preview), model="product")

    assert sorted(Product.objects.values_list("sku", "name")) == [
        ("A-1", "keep dry"),
        ("A-2", ""),
    ]


def test_the_key_column_must_be_mapped(importer_client, admin_site_urls):
    mapping_page = upload_products(importer_client)

    response = continue_mapping(importer_client, mapping_page, SKU="")

    assert response.status_code == 200
    assert "result" not in response.context
    assert response.context["mapping_form"].non_field_errors() == [
        "The key column “product_sku” is not mapped: choose the file column that holds it, "
        "to identify existing rows."
    ]
    assert chosen(response)["SKU"] == ""  # the user's choices are shown again
    # Corrected on the same page, with the same staged file: no new upload needed.
    preview = continue_mapping(importer_client, response, SKU="product_sku")
    assert preview.context["result"].totals["new"] == 2


def test_a_field_mapped_twice_names_both_columns(importer_client):
    mapping_page = upload_products(importer_client)

    response = continue_mapping(importer_client, mapping_page, Notes="unit_price")

    assert response.context["mapping_form"].non_field_errors() == [
        "The field “unit_price” is mapped from more than one column: “PRICE”, “Notes”."
    ]
    assert Product.objects.count() == 0


def test_the_mapping_is_remembered_for_the_same_user_only(importer_client, client):
    file = product_file("Ref,Label", ["A-1,Chair"])
    mapping_page = upload_products(importer_client, file)
    assert chosen(mapping_page) == {"Ref": "", "Label": ""}
    continue_mapping(importer_client, mapping_page, Ref="product_sku", Label="product_name")

    again = upload_products(importer_client, product_file("Ref,Label,Colour", ["A-1,Chair,red"]))

    assert chosen(again) == {"Ref": "product_sku", "Label": "product_name", "Colour": ""}
    assert "your last choice" in again.content.decode()
    other = make_staff(
        "other", "testapp.view_product", "testapp.add_product", "testapp.change_product"
    )
    client.force_login(other)
    assert chosen(upload_products(client, product_file("Ref,Label", ["A-1,Chair"]))) == {
        "Ref": "",
        "Label": "",
    }


def test_an_alias_the_resource_declares_is_matched(importer_client):
    file = product_file("SKU,Quantity on hand", ["A-1,7"])

    response = upload_products(importer_client, file)

    assert chosen(response) == {"SKU": "product_sku", "Quantity on hand": "stock"}
    assert "declared alias" in response.content.decode()


def test_a_tampered_token_is_refused(importer_client):
    mapping_page = upload_products(importer_client)
    tampered = mapping_page.context["token"][:-2] + "xx"

    response = continue_mapping(importer_client, mapping_page, token=tampered)

    assert response.status_code == 400
    assert Product.objects.count() == 0


def test_another_users_token_is_forbidden(importer_client, client):
    mapping_page = upload_products(importer_client)
    other = make_staff(
        "other", "testapp.view_product", "testapp.add_product", "testapp.change_product"
    )
    client.force_login(other)

    response = continue_mapping(client, mapping_page)

    assert response.status_code == 403


def test_a_resource_without_the_step_refuses_a_missing_key_column(importer_client, accounts):
    response = upload(
        importer_client,
        csv_file(["A1,1.000,rent"], header="account,amount,description"),
    )

    assert "mapping_form" not in response.context
    assert response.context["form"].errors["import_file"] == [
        "The file has no column “datetime”, which is needed to identify existing rows. "
        "Columns found: “account”, “amount”, “description”."
    ]
    assert Transaction.objects.count() == 0


def test_a_file_none_of_whose_columns_matches_is_told_so(importer_client):
    # Prose saved as .csv reads as one column named by its first line.
    prose = product_file("Dear team: please find the figures below", ["Kind regards"])

    response = upload_products(importer_client, prose)

    assert chosen(response) == {"Dear team: please find the figures below": ""}
    assert response.context["nothing_matched"] is True
    assert "None of the file's columns matches a field of" in response.content.decode()


def test_a_file_with_some_matching_columns_gets_no_such_note(importer_client):
    response = upload_products(importer_client)

    assert response.context["nothing_matched"] is False
    assert 'id="nothing-matched"' not in response.content.decode()


def test_extra_columns_no_field_would_take_are_ignored_without_the_step(importer_client):
    # Stock ignores a column the resource has no field for; so does the upload.
    file = product_file("product_sku,code,product_name,Remarks", ["A-1,C1,Chair,fragile"])

    response = upload_products(importer_client, file)

    assert "mapping_form" not in response.context
    assert response.context["result"].totals["new"] == 1


def test_an_extra_column_a_field_would_take_gets_the_step(importer_client):
    # "PRICE" is unit_price's verbose name: stock would drop it silently; the step asks.
    file = product_file("product_sku,code,product_name,PRICE", ["A-1,C1,Chair,9.50"])

    response = upload_products(importer_client, file)

    assert chosen(response)["PRICE"] == "unit_price"
