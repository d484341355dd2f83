"""Reading time of the sample file: CSV, XLSX with calamine, XLSX with openpyxl read-only.

Issue 17's targets: an XLSX read in at most twice the time of the same rows as
CSV at 100,000 rows, and 1,000,000 XLSX rows in under 10 s. "openpyxl" is the
reader this project used before calamine (read-only, values only, rows into
lists), kept here only to measure against.
"""

from __future__ import annotations

import gc
import io
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from admin_bulk_upsert.files.reading import read_dataset
from admin_bulk_upsert.garbage import paused_collection
from ledger.sample_data import csv_bytes, xlsx_bytes


@dataclass(frozen=True)
class ReaderTiming:
    rows: int
    reader: str
    file_bytes: int
    seconds: float


def _openpyxl_rows(data: bytes) -> list[list[Any]]:
    import openpyxl

    with paused_collection():
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            return [list(row) for row in workbook.active.iter_rows(values_only=True)]
        finally:
            workbook.close()


def _seconds(read: Callable[[], Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    result = read()
    seconds = time.perf_counter() - start
    del result
    return seconds


def time_readers(rows: int, *, repeat: int, with_openpyxl: bool) -> list[ReaderTiming]:
    """Median read time of each reader on the same ``rows`` sample rows (files built untimed)."""
    csv_data = csv_bytes(rows)
    xlsx_data = xlsx_bytes(rows)
    readers: list[tuple[str, bytes, Callable[[], Any]]] = [
        ("csv (read_dataset)", csv_data, lambda: read_dataset(csv_data, filename="t.csv")),
        ("xlsx (read_dataset, calamine)", xlsx_data, lambda: read_dataset(xlsx_data)),
    ]
    if with_openpyxl:
        readers.append(("xlsx (openpyxl read-only)", xlsx_data, lambda: _openpyxl_rows(xlsx_data)))
    # Interleaved rounds (csv, xlsx, openpyxl, csv, ...): on a shared machine whose
    # load drifts, each reader's median then comes from the same stretches of time.
    times: list[list[float]] = [[] for _ in readers]
    for _ in range(repeat):
        for index, (_name, _data, read) in enumerate(readers):
            times[index].append(_seconds(read))
    return [
        ReaderTiming(rows, name, len(data), statistics.median(seconds))
        for (name, data, _read), seconds in zip(readers, times, strict=True)
    ]
