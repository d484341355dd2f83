"""Small builders for engine tests: files as users write them."""

from __future__ import annotations

import tablib

TRANSACTION_HEADERS = ["account_number", "datetime", "amount", "description"]


def transactions_file(*rows, headers=TRANSACTION_HEADERS):
    dataset = tablib.Dataset(headers=list(headers))
    for row in rows:
        dataset.append(list(row))
    return dataset


def stored(model, *fields):
    """Every stored row as a sorted list of tuples (pks left out)."""
    return sorted(model.objects.values_list(*fields))


def errors_of(result):
    return [
        (error.number, str(error.error)) for _, errors in result.row_errors() for error in errors
    ]


def invalid_of(result):
    return [(row.number, row.error_dict) for row in result.invalid_rows]
