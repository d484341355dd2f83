"""Naming the column of a row error that DIE reports without one."""

import pytest

from admin_bulk_upsert.reports.error_columns import blame_column, column_names
from tests.engine.resources import TransactionResource
from tests.testapp.models import Account

ROW = {"account_number": "NOPE", "datetime": "not a date", "amount": "1", "description": "x"}


def test_an_unknown_account_blames_the_account_column_without_a_query():
    # No django_db mark: any query would raise here.
    column = blame_column(TransactionResource(), ROW, Account.DoesNotExist("gone"))
    assert column == "account_number"


def test_an_unparsable_cell_is_blamed_by_cleaning_it_again():
    resource = TransactionResource()
    with pytest.raises(ValueError) as raised:
        resource.fields["datetime"].clean(ROW)
    assert blame_column(resource, ROW, raised.value) == "datetime"


def test_an_error_no_cell_raises_blames_nothing():
    assert blame_column(TransactionResource(), ROW, RuntimeError("disk full")) is None


def test_error_keys_map_to_file_columns():
    names = column_names(TransactionResource())
    assert names["account"] == "account_number"
    assert names["description"] == "description"
