"""The equivalence tests again, with the engine importing through the streaming path.

The engine's side gets a dataset that can only be iterated (as a file read by
:func:`~admin_bulk_upsert.files.streaming.open_dataset` is) and a
``row_consumer``, so its result is a ``StreamingResult`` that keeps no rows;
the harness rebuilds stock's ``Result`` from what the consumer was given, and
everything is compared with stock DIE as in :mod:`.test_equivalence`. The
whole differential suite runs this way with
``ADMIN_BULK_UPSERT_DIFFERENTIAL_STREAMING=1``.
"""

from __future__ import annotations

import pytest

from tests.differential import harness, test_equivalence, test_stock_fidelity


@pytest.fixture(autouse=True)
def streaming(monkeypatch):
    monkeypatch.setattr(harness, "STREAMING", True)


test_generated_files_with_transactions = test_equivalence.test_generated_files_with_transactions
test_generated_files_without_transactions = (
    test_equivalence.test_generated_files_without_transactions
)
test_options = test_equivalence.test_options
test_options_without_transactions = test_equivalence.test_options_without_transactions
test_after_import_row_refused_by_the_database = (
    test_stock_fidelity.test_after_import_row_refused_by_the_database
)
