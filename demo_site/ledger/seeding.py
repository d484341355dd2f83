"""Put the sample ledger into a database, and fingerprint what a database holds.

The benchmark resets the table to the same starting state before every
contender and compares fingerprints afterwards: equal fingerprints mean the
contenders left the same rows (same keys and same descriptions).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

from django.db import transaction

from ledger.models import FinancialAccount, FinancialTransaction
from ledger.sample_data import SEED, SampleTransaction, sample_accounts, sample_transactions

_BATCH_SIZE = 1000


@dataclass(frozen=True)
class LedgerState:
    """How many transactions a table holds, and a checksum of their content."""

    rows: int
    checksum: str

    def __str__(self) -> str:
        return f"{self.rows} rows, sha256 {self.checksum[:12]}"


def reset_ledger(using: str) -> dict[str, int]:
    """Empty both ledger tables, create the sample accounts; return their pks by number."""
    with transaction.atomic(using=using):
        FinancialTransaction.objects.using(using).all().delete()
        FinancialAccount.objects.using(using).all().delete()
        FinancialAccount.objects.using(using).bulk_create(
            FinancialAccount(number=a.number, name=a.name) for a in sample_accounts()
        )
    return account_pks(using)


def ensure_accounts(using: str) -> dict[str, int]:
    """Create whichever sample accounts are missing; return all pks by number."""
    existing = set(FinancialAccount.objects.using(using).values_list("number", flat=True))
    FinancialAccount.objects.using(using).bulk_create(
        FinancialAccount(number=a.number, name=a.name)
        for a in sample_accounts()
        if a.number not in existing
    )
    return account_pks(using)


def account_pks(using: str) -> dict[str, int]:
    return dict(FinancialAccount.objects.using(using).values_list("number", "pk"))


def reset_transactions(count: int, using: str, seed: int = SEED) -> int:
    """Make the transactions table hold exactly the starting state for a file of ``count``.

    Returns how many transactions that is (half of ``count``, rounded up).
    """
    pks = account_pks(using)
    starting = [
        FinancialTransaction(
            financial_account_id=pks[t.account_number],
            datetime=t.datetime,
            amount=t.amount,
            description=t.original_description,
        )
        for t in sample_transactions(count, seed)
        if t.preexisting
    ]
    with transaction.atomic(using=using):
        FinancialTransaction.objects.using(using).all().delete()
        FinancialTransaction.objects.using(using).bulk_create(starting, batch_size=_BATCH_SIZE)
    return len(starting)


def ledger_state(using: str) -> LedgerState:
    """Fingerprint the transactions table (sorted in Python: collations differ)."""
    rows = FinancialTransaction.objects.using(using).values_list(
        "financial_account__number", "datetime", "amount", "description"
    )
    return _fingerprint(rows)


def expected_state(count: int, seed: int = SEED) -> LedgerState:
    """The fingerprint after a correct import of the file of ``count`` rows."""
    return _fingerprint(_as_tuples(sample_transactions(count, seed), final=True))


def starting_state(count: int, seed: int = SEED) -> LedgerState:
    """The fingerprint before the import (and after a dry run)."""
    transactions = [t for t in sample_transactions(count, seed) if t.preexisting]
    return _fingerprint(_as_tuples(transactions, final=False))


def _as_tuples(
    transactions: Iterable[SampleTransaction], *, final: bool
) -> Iterable[tuple[str, datetime, Decimal, str]]:
    for t in transactions:
        description = t.description if final else t.original_description
        yield (t.account_number, t.datetime, t.amount, description)


def _fingerprint(rows: Iterable[tuple[str, datetime, Decimal, str]]) -> LedgerState:
    lines = sorted(
        f"{number}\t{moment.astimezone(timezone.utc).isoformat()}\t{amount:.2f}\t{description}"
        for number, moment, amount, description in rows
    )
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return LedgerState(rows=len(lines), checksum=digest)
