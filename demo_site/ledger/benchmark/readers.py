"""Reading time of the sample file: CSV, XLSX with calamine, XLSX with openpyxl read-only.

Issue 17's targets: an XLSX read in at most twice the time of the same rows as
CSV at 100,000 rows, and 1,000,000 XLSX rows in under 10 s. Each format is
read two ways: ``read_dataset`` (the whole file into a Dataset, as the admin's
preview does) and ``open_dataset`` from the file on disk plus one pass over its
rows (what ``bulk_import`` and the jobs do before the import's own pass: the
checking pass, then the rows). "openpyxl" is the reader this project used
before calamine (read-only, values only, rows into lists), kept here only to
measure against.
"""

from __future__ import annotations

import gc
import io
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from admin_bulk_upsert.files.reading import read_dataset
from admin_bulk_upsert.files.streaming import open_dataset
from admin_bulk_upsert.gc_pause import paused_collection
from ledger.sample_data import sample_file


@dataclass(frozen=True)
class ReaderTiming:
    rows: int
    reader: str
    file_bytes: int
    seconds: float
    #: This reader's time over the same way of reading the CSV.
    times_csv: float


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


def _streamed(path: Path) -> int:
    with path.open("rb") as file:
        return sum(1 for _row in open_dataset(file, filename=path.name))


def time_readers(
    rows: int, *, repeat: int, with_openpyxl: bool, folder: Path
) -> list[ReaderTiming]:
    """Median read time of each reader on the same ``rows`` sample rows (files built untimed)."""
    csv_path = sample_file(folder, rows, "csv")
    xlsx_path = sample_file(folder, rows, "xlsx")
    csv_data, xlsx_data = csv_path.read_bytes(), xlsx_path.read_bytes()
    # (name, file size, read, the CSV reader it is compared with)
    readers: list[tuple[str, int, Callable[[], Any], int]] = [
        ("csv read_dataset", len(csv_data), lambda: read_dataset(csv_data, filename="t.csv"), 0),
        ("xlsx read_dataset", len(xlsx_data), lambda: read_dataset(xlsx_data), 0),
        ("csv open_dataset + rows", len(csv_data), lambda: _streamed(csv_path), 2),
        ("xlsx open_dataset + rows", len(xlsx_data), lambda: _streamed(xlsx_path), 2),
    ]
    if with_openpyxl:
        readers.append(
            ("xlsx openpyxl read-only", len(xlsx_data), lambda: _openpyxl_rows(xlsx_data), 0)
        )
    # Interleaved rounds (csv, xlsx, openpyxl, csv, ...): on a shared machine whose
    # load drifts, each reader's median then comes from the same stretches of time.
    times: list[list[float]] = [[] for _ in readers]
    for _ in range(repeat):
        for index, (_name, _size, read, _csv) in enumerate(readers):
            times[index].append(_seconds(read))
    medians = [statistics.median(seconds) for seconds in times]
    return [
        ReaderTiming(rows, name, size, median, median / medians[csv])
        for (name, size, _read, csv), median in zip(readers, medians, strict=True)
    ]
