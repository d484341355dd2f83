"""A blank ``id`` cell in a file keyed on another column updates the found record in place.

Before 4.4.6, stock DIE sets the found record's pk to ``None`` and ``save()``
inserts a copy while the row is reported as an update: the stored record is left
as it was and a duplicate appears. The engine keeps the record's pk, on every
path a row can take (bulk, a chunk replayed row by row after a refused write, a
resource imported the stock way): a deliberate difference there, listed in
docs/semantics.md. DIE 4.4.6 keeps the pk too, and fails a row that changes it
(tests/differential/test_wide_edge_cases.py compares the engine with it).
"""

import pytest
import tablib
from import_export.resources import ModelResource

from admin_bulk_upsert import BulkUpsertResource
from admin_bulk_upsert.engine.instances import STOCK_CHECKS_PK
from tests.testapp.models import Product

pytestmark = pytest.mark.django_db

HEADERS = ["id", "code", "sku", "name"]


def product_resource(base, **overrides):
    meta = type("Meta", (), {"model": Product, "fields": HEADERS, "import_id_fields": ["code"]})
    return type("ProductByCode", (base,), {"Meta": meta, **overrides})


def dataset(*rows):
    return tablib.Dataset(*[list(row) for row in rows], headers=HEADERS)


def stored():
    return sorted(Product.objects.values_list("id", "code", "sku", "name"))


@pytest.fixture
def record():
    return Product.objects.create(code="OLD", sku="s-old", name="before")


@pytest.mark.skipif(STOCK_CHECKS_PK, reason="DIE 4.4.6 keeps the found record's pk itself")
def test_older_stock_inserts_a_copy(record):
    """The defect the engine does not copy, shown on stock itself."""
    product_resource(ModelResource)().import_data(dataset(["", "OLD", "s-new", "after"]))
    assert Product.objects.count() == 2
    assert Product.objects.get(pk=record.pk).name == "before"


@pytest.mark.parametrize("blank", ["", None])
def test_bulk_path_updates_in_place(record, blank):
    result = product_resource(BulkUpsertResource)().import_data(
        dataset([blank, "OLD", "s-new", "after"], ["", "NEW", "s2", "new"])
    )
    assert result.totals["update"] == 1 and result.totals["new"] == 1
    assert stored()[0] == (record.pk, "OLD", "s-new", "after")
    assert [code for _, code, _, _ in stored()] == ["OLD", "NEW"]


@pytest.mark.django_db(transaction=True)
def test_replayed_chunk_updates_in_place(record):
    """Row 3 repeats row 2's unique sku: the chunk is refused and replayed the stock way."""
    result = product_resource(BulkUpsertResource)().import_data(
        dataset(["", "OLD", "s-new", "after"], ["", "A", "dup", "a"], ["", "B", "dup", "b"]),
        use_transactions=False,
    )
    assert [error.number for _, errors in result.row_errors() for error in errors] == [3]
    assert (record.pk, "OLD", "s-new", "after") in stored()
    assert Product.objects.filter(code="OLD").count() == 1


def test_stock_path_updates_in_place(record):
    """A resource with its own ``get_instance`` is imported row by row through stock's code."""

    def get_instance(self, instance_loader, row):
        return ModelResource.get_instance(self, instance_loader, row)

    resource = product_resource(BulkUpsertResource, get_instance=get_instance)()
    assert resource.stock_path_reason() is not None
    resource.import_data(dataset(["", "OLD", "s-new", "after"]))
    assert stored() == [(record.pk, "OLD", "s-new", "after")]


def test_another_records_pk_fails_the_row(record):
    """On every DIE version: where stock checks the pk, with its message; before, the
    row would update the other record (stock's own outcome there)."""
    other = Product.objects.create(code="OTHER", sku="s-other", name="other")
    result = product_resource(BulkUpsertResource)().import_data(
        dataset([other.pk, "OLD", "s-new", "after"], ["", "NEW", "s2", "new"])
    )
    assert result.totals["new"] == 1
    if STOCK_CHECKS_PK:
        [(number, [error])] = [(n, errs) for n, errs in result.row_errors()]
        assert number == 1
        assert "primary key of an existing instance cannot be changed" in str(error.error)
        assert Product.objects.get(pk=record.pk).name == "before"
        assert Product.objects.get(pk=other.pk).name == "other"
    else:
        assert not result.has_errors()
        assert Product.objects.get(pk=other.pk).name == "after"
