"""``admin_bulk_upsert.E011``: ``Meta.column_aliases`` and ``Meta.column_mapping`` checked."""

from __future__ import annotations

import pytest
from django.core.checks import Error

from admin_bulk_upsert import BulkUpsertResource
from admin_bulk_upsert.checks import check_resource_class
from tests.adminapp.resources import CatalogueResource, UnmappedTransactionResource
from tests.testapp.models import Product

HINT = (
    "Declare Meta.column_aliases = {'field_name': ['Header', ...]} with the resource's field "
    "names, each header listed under one field only, and Meta.column_mapping = False only to "
    "turn the mapping step off."
)


def resource_with(**options):
    meta = type(
        "Meta",
        (),
        {"model": Product, "fields": ("sku", "name", "price"), "import_id_fields": ("sku",)}
        | options,
    )
    return type("AliasResource", (BulkUpsertResource,), {"Meta": meta, "__module__": __name__})


def e011(resource_class, message):
    return Error(message, hint=HINT, obj=resource_class, id="admin_bulk_upsert.E011")


@pytest.mark.parametrize("resource_class", [CatalogueResource, UnmappedTransactionResource])
def test_well_formed_options_pass(resource_class):
    assert check_resource_class(resource_class) == []


def test_aliases_that_are_not_a_dict():
    resource_class = resource_with(column_aliases=["Qty"])

    assert check_resource_class(resource_class) == [
        e011(
            resource_class,
            "tests.column_mapping.test_checks.AliasResource.Meta.column_aliases is ['Qty']; "
            "it must be a dict.",
        )
    ]


def test_an_alias_of_a_field_the_resource_does_not_have():
    resource_class = resource_with(column_aliases={"title": ["Name"]})

    assert check_resource_class(resource_class) == [
        e011(
            resource_class,
            "tests.column_mapping.test_checks.AliasResource.Meta.column_aliases names "
            "'title', which is not a field of the resource.",
        )
    ]


@pytest.mark.parametrize("headers", ["Name", ["Name", ""], [3]])
def test_aliases_that_are_not_a_list_of_headers(headers):
    resource_class = resource_with(column_aliases={"name": headers})

    assert check_resource_class(resource_class) == [
        e011(
            resource_class,
            f"tests.column_mapping.test_checks.AliasResource.Meta.column_aliases['name'] is "
            f"{headers!r}; it must be a list of non-blank headers.",
        )
    ]


def test_one_header_given_to_two_fields():
    resource_class = resource_with(column_aliases={"name": ["Label"], "sku": ["label "]})

    assert check_resource_class(resource_class) == [
        e011(
            resource_class,
            "tests.column_mapping.test_checks.AliasResource.Meta.column_aliases gives "
            "'label ' to both 'name' and 'sku'.",
        )
    ]


def test_column_mapping_must_be_a_boolean():
    resource_class = resource_with(column_mapping="no")

    assert check_resource_class(resource_class) == [
        e011(
            resource_class,
            "tests.column_mapping.test_checks.AliasResource.Meta.column_mapping is 'no'; "
            "it must be True or False.",
        )
    ]
