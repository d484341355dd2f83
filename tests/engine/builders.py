"""Small builders for engine tests: files as users write them."""

from __future__ import annotations

from contextlib import contextmanager

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


@contextmanager
def helper_threads():
    """Run imports as the ``bulk_import`` command and a worker's step do, helper threads on.

    ``HELPER_THREADS`` is off by default; these tests keep its path working.
    """
    from django.conf import settings
    from django.test import override_settings

    from admin_bulk_upsert.gc_pause import import_owns_process

    config = {**(getattr(settings, "ADMIN_BULK_UPSERT", None) or {}), "HELPER_THREADS": True}
    with override_settings(ADMIN_BULK_UPSERT=config), import_owns_process():
        yield
