"""Foreign keys given by natural key: one query per chunk, answering as the widget's get() would."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from import_export import fields
from import_export.widgets import ForeignKeyWidget

from admin_bulk_upsert.engine import prefetch
from tests.engine.builders import errors_of, stored, transactions_file
from tests.engine.resources import TransactionResource
from tests.testapp.models import Account, Transaction

pytestmark = pytest.mark.django_db

ACCOUNT_TABLE = Account._meta.db_table


class ActiveAccountWidget(ForeignKeyWidget):
    """A widget whose queryset leaves closed accounts out, as DIE's docs show."""

    def get_queryset(self, value, row, *args, **kwargs):
        return self.model.objects.filter(active=True)


class Die43CleanWidget(ActiveAccountWidget):
    """``clean`` as django-import-export 4.3 writes it: ``get_queryset(value, row).get(...)``."""

    def clean(self, value, row=None, **kwargs):
        if not value:
            return None
        lookup = self.get_lookup_kwargs(value, row, **kwargs)
        return self.get_queryset(value, row, **kwargs).get(**lookup)


class FilteringCleanWidget(ActiveAccountWidget):
    """A ``clean`` of its own that asks the queryset something other than ``get(number=...)``."""

    def clean(self, value, row=None, **kwargs):
        return self.get_queryset(value, row, **kwargs).filter(number=value).first()


def resource_with(widget):
    class Resource(TransactionResource):
        account = fields.Field(attribute="account", column_name="account_number", widget=widget)

    return Resource()


def account_queries(queries):
    return [q["sql"] for q in queries if ACCOUNT_TABLE in q["sql"] and "INSERT" not in q["sql"]]


@pytest.fixture
def accounts():
    Account.objects.create(number="A1")
    Account.objects.create(number="A2")
    Account.objects.create(number="C1", active=False)


def fifteen_rows():
    """Two chunks (the resource's batch_size is 10); row 4 names the closed account."""
    rows = []
    for number in range(1, 16):
        account = "C1" if number == 4 else ("A1" if number % 2 else "A2")
        rows.append([account, f"2024-01-{number:02d} 10:00:00", "1.5", f"row {number}"])
    return transactions_file(*rows)


def import_counting_account_queries(resource):
    with CaptureQueriesContext(connection) as queries:
        result = resource.import_data(fifteen_rows())
    return result, account_queries(queries.captured_queries)


def assert_closed_account_row_failed(result):
    assert errors_of(result) == [(4, "Account matching query does not exist.")]
    assert len(stored(Transaction, "description")) == 0  # the import rolled back


@pytest.mark.parametrize("die_43", [False, True], ids=["die-4.4-lookup", "die-4.3-clean"])
def test_the_widgets_queryset_is_asked_once_per_chunk(accounts, monkeypatch, die_43):
    if die_43:
        # DIE 4.3 has no get_instance_by_lookup_fields: the engine answers
        # through get_queryset instead, whatever the installed version.
        monkeypatch.setattr(prefetch, "_RESOLVES_BY_LOOKUP_FIELDS", False)
        widget = Die43CleanWidget(Account, "number")
    elif not prefetch._RESOLVES_BY_LOOKUP_FIELDS:
        pytest.skip("django-import-export 4.3 resolves cells through clean itself")
    else:
        widget = ActiveAccountWidget(Account, "number")

    result, queries = import_counting_account_queries(resource_with(widget))

    assert_closed_account_row_failed(result)
    assert len(queries) == 2, queries  # one per chunk, not one per row


@pytest.mark.parametrize(
    ("widget_class", "queries"),
    [
        # get(number=...) answered from the chunk's one query.
        (Die43CleanWidget, 1),
        # The chunk's query, then each row's filter() on the widget's own queryset.
        (FilteringCleanWidget, 3),
    ],
    ids=["get-answered", "filter-reaches-the-real-queryset"],
)
def test_rows_naming_open_accounts_are_imported_through_the_widgets_queryset(
    accounts, monkeypatch, widget_class, queries
):
    monkeypatch.setattr(prefetch, "_RESOLVES_BY_LOOKUP_FIELDS", False)
    rows = [["A1", "2024-01-01 10:00:00", "1.5", "one"], ["A2", "2024-01-02 10:00:00", "2", "two"]]

    with CaptureQueriesContext(connection) as captured:
        result = resource_with(widget_class(Account, "number")).import_data(
            transactions_file(*rows)
        )

    assert not result.has_errors()
    assert stored(Transaction, "account__number", "description") == [
        ("A1", "one"),
        ("A2", "two"),
    ]
    assert len(account_queries(captured.captured_queries)) == queries
