"""Deterministic sample ledgers, shared by the ``demo`` and ``benchmark`` commands.

Transaction number ``i`` is the same whatever the size asked for: rows are drawn
in order from one seeded generator, so the file of 1,000 rows is the first
1,000 of the file of 100,000 (in another order). For a file of ``n`` rows:

- the even-numbered transactions exist in the database before the import
  (half of the file's keys), the odd-numbered ones are new;
- one existing transaction in five (``i % 10 == 0``) comes with a corrected
  description; the other existing ones are unchanged.

Keys are unique by construction: transaction ``i`` happens within the
``i``-th five-minute slot after :data:`BASE_DATETIME`.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import tablib

SEED = 20240401
ACCOUNT_COUNT = 250
BASE_DATETIME = datetime(2024, 1, 1, tzinfo=timezone.utc)
SLOT = timedelta(minutes=5)
#: Header of the sample files: the resource's column names.
HEADERS = ("account_number", "datetime", "amount", "description")
#: What a corrected row's description ends with.
CORRECTION = " (corrected)"
#: How the files write date and time: naive, in the project's time zone (UTC).
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

_PAYEES = (
    "Acme Supplies",
    "Café Lumière",
    "City Power",
    "Nordwind GmbH",
    "Payroll",
    "Rent",
    "Søren & Co",
    "Telecom",
    "Travel desk",
    "Water board",
)
_PURPOSES = ("invoice", "refund", "subscription", "fee", "transfer", "deposit", "salary")


@dataclass(frozen=True)
class SampleAccount:
    number: str
    name: str


@dataclass(frozen=True)
class SampleTransaction:
    """One transaction as the database should hold it after an import of its file."""

    index: int
    account_number: str
    datetime: datetime
    amount: Decimal
    description: str

    @property
    def preexisting(self) -> bool:
        """Whether the database holds this transaction before the import."""
        return self.index % 2 == 0

    @property
    def corrected(self) -> bool:
        """Whether the file changes this (pre-existing) transaction's description."""
        return self.index % 10 == 0

    @property
    def original_description(self) -> str:
        """The description stored before the import."""
        if self.corrected:
            return self.description.removesuffix(CORRECTION)
        return self.description


def sample_accounts(count: int = ACCOUNT_COUNT) -> list[SampleAccount]:
    """Accounts ``ACC-00001`` onwards; every transaction belongs to one of them."""
    return [
        SampleAccount(number=f"ACC-{n:05d}", name=f"{_PAYEES[n % len(_PAYEES)]} account {n}")
        for n in range(1, count + 1)
    ]


def iter_transactions(
    seed: int = SEED, accounts: int = ACCOUNT_COUNT
) -> Iterator[SampleTransaction]:
    """Transactions 0, 1, 2, ... without end; the same sequence for the same seed."""
    rng = random.Random(seed)
    index = 0
    while True:
        account = rng.randrange(1, accounts + 1)
        moment = BASE_DATETIME + index * SLOT + timedelta(seconds=rng.randrange(300))
        cents = rng.randrange(-50_000, 500_000) or 1
        description = f"{rng.choice(_PAYEES)} {rng.choice(_PURPOSES)} {rng.randrange(10_000):04d}"
        if index % 10 == 0:
            description += CORRECTION
        yield SampleTransaction(
            index=index,
            account_number=f"ACC-{account:05d}",
            datetime=moment,
            amount=Decimal(cents).scaleb(-2),
            description=description,
        )
        index += 1


def sample_transactions(count: int, seed: int = SEED) -> list[SampleTransaction]:
    """The first ``count`` transactions: what the database holds after importing the file."""
    generated = iter_transactions(seed)
    return [next(generated) for _ in range(count)]


def starting_transactions(count: int, seed: int = SEED) -> list[SampleTransaction]:
    """The transactions present before importing the file of ``count`` rows."""
    return [t for t in sample_transactions(count, seed) if t.preexisting]


def file_order(count: int, seed: int = SEED) -> list[SampleTransaction]:
    """The file's rows in the order they are written: shuffled, as exports from elsewhere are."""
    rows = sample_transactions(count, seed)
    random.Random(seed + count).shuffle(rows)
    return rows


def csv_bytes(count: int, seed: int = SEED) -> bytes:
    """The sample file of ``count`` rows as UTF-8 CSV with a header row."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS)
    for row in file_order(count, seed):
        writer.writerow(
            (
                row.account_number,
                row.datetime.strftime(DATETIME_FORMAT),
                str(row.amount),
                row.description,
            )
        )
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(count: int, seed: int = SEED) -> bytes:
    """The sample file as XLSX with real date-time and number cells.

    Excel has no time zones, so date-times are written naive, in UTC like the
    CSV; amounts become Excel numbers, as in a spreadsheet someone typed.
    """
    dataset = tablib.Dataset(headers=list(HEADERS))
    for row in file_order(count, seed):
        dataset.append(
            (
                row.account_number,
                row.datetime.replace(tzinfo=None),
                float(row.amount),
                row.description,
            )
        )
    data: bytes = dataset.export("xlsx")
    return data


#: Rows of data an XLSX sheet can hold (Excel's 1,048,576 rows, less the header).
XLSX_MAX_ROWS = 1_048_575


def sample_file(folder: Path, rows: int, extension: str, seed: int = SEED) -> Path:
    """``folder/transactions_<rows>.<extension>`` (``csv`` or ``xlsx``), written if missing.

    Writing a 1,000,000-row XLSX takes about a minute and a half, so benchmarks reuse it.
    """
    path = folder / f"transactions_{rows}.{extension}"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        render = csv_bytes if extension == "csv" else xlsx_bytes
        partial = path.with_suffix(".partial")
        partial.write_bytes(render(rows, seed))
        partial.rename(path)
    return path


def write_sample_files(folder: Path, sizes: list[int], seed: int = SEED) -> list[Path]:
    """Write ``transactions_<n>.csv`` and ``.xlsx`` for each size; return the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for size in sizes:
        for extension, render in (("csv", csv_bytes), ("xlsx", xlsx_bytes)):
            path = folder / f"transactions_{size}.{extension}"
            path.write_bytes(render(size, seed))
            written.append(path)
    return written
