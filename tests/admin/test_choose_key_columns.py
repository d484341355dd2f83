"""The user picks which columns identify existing rows, among those the resource allows."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.admin.conftest import confirm, token_from, upload, url
from tests.testapp.models import Product

HEADER = "code,sku,name,price,stock"


def product_file(*lines):
    return SimpleUploadedFile("products.csv", "\n".join([HEADER, *lines]).encode())


def test_form_offers_the_allowed_key_fields_with_the_default_checked(importer_client):
    response = importer_client.get(url("product", "import"))

    field = response.context["form"]["import_id_fields"]
    assert [value for value, _label in field.field.choices] == ["sku", "code"]
    assert field.initial == ["sku"]


def test_matching_on_another_column_updates_by_that_column(importer_client):
    Product.objects.create(code="P-1", sku="SKU-OLD", name="Chair", stock=1)
    Product.objects.create(code="P-2", sku="SKU-2", name="Table", stock=2)
    file = product_file("P-1,SKU-NEW,Chair,10.00,5", "P-3,SKU-3,Lamp,3.00,7")

    preview = upload(importer_client, file, model="product", import_id_fields=["code"])

    totals = preview.context["result"].totals
    assert (totals["new"], totals["update"]) == (1, 1)
    [update] = [row for row in preview.context["result"].rows if row.import_type == "update"]
    assert ("sku", "SKU-OLD", "SKU-NEW") in [(c.column, c.old, c.new) for c in update.changed_cells]

    response = confirm(importer_client, token_from(preview), model="product")

    assert response.status_code == 302
    assert sorted(Product.objects.values_list("code", "sku", "stock")) == [
        ("P-1", "SKU-NEW", 5),
        ("P-2", "SKU-2", 2),
        ("P-3", "SKU-3", 7),
    ]


def test_default_key_matches_on_sku(importer_client):
    Product.objects.create(code="P-1", sku="SKU-1", name="Chair", stock=1)
    preview = upload(importer_client, product_file("P-9,SKU-1,Chair,10.00,5"), model="product")

    confirm(importer_client, token_from(preview), model="product")

    assert list(Product.objects.values_list("code", "sku")) == [("P-9", "SKU-1")]


def test_a_field_outside_the_allowed_set_is_refused(importer_client):
    response = upload(
        importer_client,
        product_file("P-1,SKU-1,Chair,1,1"),
        model="product",
        import_id_fields=["name"],
    )

    errors = response.context["form"].errors["import_id_fields"]
    assert errors == ["Select a valid choice. name is not one of the available choices."]
    assert Product.objects.count() == 0
