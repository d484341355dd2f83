"""``bulk_import --map "File header=field"`` and ``--map-file``: the admin's mapping, typed."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from admin_bulk_upsert.jobs.compat import IMMEDIATE_BACKEND
from admin_bulk_upsert.jobs.models import ImportJob
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db

RESOURCE = "tests.adminapp.resources.CatalogueResource"


def run(*args):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("bulk_import", *map(str, args), "--no-progress", stdout=stdout, stderr=stderr)
    return stdout.getvalue()


def run_failing(*args):
    with pytest.raises(CommandError) as info:
        run(*args)
    return str(info.value)


@pytest.fixture
def products_csv(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("Ref,CODE,Label,Price,Notes\nA-1,C1,Chair,49.90,dry\nA-2,C2,Table,120,\n")
    return path


def imported():
    return sorted(Product.objects.values_list("sku", "code", "name", "price"))


CHAIR_AND_TABLE = [
    ("A-1", "C1", "Chair", Decimal("49.90")),
    ("A-2", "C2", "Table", Decimal("120.00")),
]


def test_map_reads_columns_into_the_fields_it_names(products_csv):
    run(
        RESOURCE,
        products_csv,
        "--map",
        "Ref=product_sku",
        "--map",
        "CODE=code",
        "--map",
        "Label=product_name",
        "--map",
        "Price=unit_price",
    )

    assert imported() == CHAIR_AND_TABLE


def test_a_column_name_is_accepted_for_its_field_and_header_equals_ignores(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("Ref,code,unit_price,product_name\nA-1,C1,5,Chair\n")

    run(RESOURCE, path, "--map", "Ref=product_sku", "--map", "product_name=")

    assert imported() == [("A-1", "C1", "", Decimal("5.00"))]


def test_a_json_mapping_file_as_the_job_page_shows_it(tmp_path, products_csv):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "Ref": "product_sku",
                "CODE": "code",
                "Label": "product_name",
                "Price": "unit_price",
                "Notes": "",
            }
        )
    )

    run(RESOURCE, products_csv, "--map-file", mapping)

    assert imported() == CHAIR_AND_TABLE


def test_a_csv_mapping_file_and_map_entries_overriding_it(tmp_path, products_csv):
    mapping = tmp_path / "mapping.csv"
    mapping.write_text(
        "header,field\nRef,product_sku\nCODE,code\nLabel,product_name\nPrice,stock\n"
    )

    run(RESOURCE, products_csv, "--map-file", mapping, "--map", "Price=unit_price")

    assert imported() == CHAIR_AND_TABLE


def test_an_unknown_field_is_named(products_csv):
    message = run_failing(
        RESOURCE, products_csv, "--map", "Ref=product_sku", "--map", "Label=title"
    )

    assert message == (
        "“title” is not a field this import can fill. Fields: code, product_sku, "
        "product_name, unit_price, stock."
    )
    assert not Product.objects.exists()


def test_an_unmapped_key_column_is_named(products_csv):
    message = run_failing(RESOURCE, products_csv, "--map", "Label=product_name")

    assert message == (
        "The key column “product_sku” is not mapped: choose the file column that holds it, "
        "to identify existing rows."
    )


def test_a_header_the_file_does_not_have_is_named(products_csv):
    message = run_failing(RESOURCE, products_csv, "--map", "Reference=product_sku")

    assert message.splitlines()[0] == (
        "The file has no column “Reference”. Columns found: “Ref”, “CODE”, “Label”, "
        "“Price”, “Notes”."
    )


def test_a_field_filled_from_two_columns_is_an_error(tmp_path):
    path = tmp_path / "products.csv"
    path.write_text("Ref,product_sku\nA-1,B-1\n")

    message = run_failing(RESOURCE, path, "--map", "Ref=product_sku")

    assert message == (
        "The field “product_sku” is mapped from more than one column: “Ref”, “product_sku”."
    )


@pytest.mark.parametrize(
    ("entry", "content", "expected"),
    [
        ("--map", "Ref", "--map takes “File header=field” (“File header=” ignores it), got “Ref”."),
        ("--map-file", "[1, 2]", "must hold one object"),
        ("--map-file", "{not json", "is not valid JSON"),
    ],
)
def test_a_malformed_mapping_is_refused(tmp_path, products_csv, entry, content, expected):
    value = content
    if entry == "--map-file":
        value = tmp_path / "mapping.json"
        value.write_text(content)

    assert expected in run_failing(RESOURCE, products_csv, entry, value)


@pytest.mark.django_db(transaction=True)
def test_background_job_carries_the_mapping(settings, tmp_path, products_csv):
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "jobs")}
    settings.TASKS = {"default": {"BACKEND": IMMEDIATE_BACKEND}}

    run(
        RESOURCE,
        products_csv,
        "--background",
        "--map",
        "Ref=product_sku",
        "--map",
        "CODE=code",
        "--map",
        "Label=product_name",
        "--map",
        "Price=unit_price",
    )

    job = ImportJob.objects.get()
    assert job.column_map == {
        "Ref": "product_sku",
        "CODE": "code",
        "Label": "product_name",
        "Price": "unit_price",
        "Notes": "",
    }
    assert job.state == "done"
    assert imported() == CHAIR_AND_TABLE


@pytest.mark.django_db(transaction=True)
def test_background_refuses_a_bad_mapping_before_queueing(settings, tmp_path, products_csv):
    settings.ADMIN_BULK_UPSERT = {"STAGING_DIR": str(tmp_path / "jobs")}

    message = run_failing(RESOURCE, products_csv, "--background", "--map", "Label=product_name")

    assert "The key column “product_sku” is not mapped" in message
    assert not ImportJob.objects.exists()
