"""A dataset's headers renamed as the rows are read: how a column mapping reaches the engine.

The engine, DIE's hooks and the reports read each row by its header, so a
mapping (:mod:`admin_bulk_upsert.column_mapping`) is carried out by renaming
headers once, here, and nothing downstream knows a mapping was made. Rows are
not touched: both a ``tablib.Dataset`` and a
:class:`~.streaming.StreamedDataset` zip their rows with ``headers`` when
they are read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["rename_columns"]


def rename_columns(dataset: Any, renames: Mapping[str, str]) -> Any:
    """``dataset`` with each header in ``renames`` replaced by its new name; others kept.

    Returns the same object, changed in place.
    """
    if renames:
        dataset.headers = [renames.get(header, header) for header in dataset.headers]
    return dataset
