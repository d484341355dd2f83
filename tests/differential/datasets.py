"""Seeded generators of import files and of the rows stored before the import.

Keys are drawn from a deliberately small universe, so that file rows collide with
stored rows and with each other (across chunks too), and each value is written in
several spellings that only match after cleaning: ``"12"`` against a stored
``12.000``, an aware datetime in another zone against a stored UTC value, a naive
one read in ``Europe/Paris``, ``"ABC "`` against ``"ABC"`` (equal on MariaDB only).
A share of cells is broken on purpose: blank keys, unknown foreign keys,
unparsable values, values too long or too large for the column.

Everything is a pure function of the seed and of the accounts' primary keys, so a
failing seed reproduces exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import tablib
from django.db import models
from import_export.fields import Field
from import_export.widgets import DateTimeWidget, ForeignKeyWidget

from tests.testapp.models import Account, Product

PARIS = ZoneInfo("Europe/Paris")
PLUS_FIVE = timezone(timedelta(hours=5))

#: Account numbers created before every test; "100" looks like a primary key on purpose.
ACCOUNT_NUMBERS = ("A001", "A002", "B-17", "100")

#: Instants (UTC) used as keys. 2024-10-27 00:30 and 01:30 UTC are both 02:30 in
#: Paris (the hour that repeats), so a naive "02:30" can only mean one of them.
INSTANTS = (
    datetime(2024, 1, 5, 9, 0, tzinfo=timezone.utc),
    datetime(2024, 7, 14, 20, 30, tzinfo=timezone.utc),
    datetime(2024, 10, 27, 0, 30, tzinfo=timezone.utc),
    datetime(2024, 10, 27, 1, 30, tzinfo=timezone.utc),
    datetime(2024, 1, 5, 9, 0, 0, 250000, tzinfo=timezone.utc),
    datetime(2023, 12, 31, 23, 30, tzinfo=timezone.utc),
)
AMOUNTS = tuple(Decimal(a) for a in ("12.000", "0.500", "-3.250", "1000000.000", "7.125"))
DESCRIPTIONS = ("rent", "coffee", "Café ☕", "", "salary for june")

CODES = ("ABC", "XYZ", "K-9", "Ünï")
NAMES = ("widget", "gadget", "", "thing")
PRICES = (Decimal("9.99"), Decimal("10.00"), None, Decimal("0.50"))
RELEASES = (date(2024, 1, 5), date(2024, 2, 29), date(2023, 12, 31), None)


class FlexibleDateTimeWidget(DateTimeWidget):
    """The stock input formats plus ISO 8601 with an offset ("...T10:00:00+05:00", "...Z"),
    which stock ``DateTimeWidget`` cannot parse: a custom widget the engine must respect."""

    def __init__(self) -> None:
        super().__init__()
        self.formats = (
            *self.formats,
            "%Y-%m-%dT%H:%M:%S%z",
            "%Y-%m-%dT%H:%M:%S.%f%z",
        )


@dataclass(frozen=True)
class ResourceSpec:
    """Everything a resource class body holds; built twice, on two different bases."""

    model: type[models.Model]
    fields: tuple[str, ...]
    import_id_fields: tuple[str, ...]
    #: Returns fresh declared fields; a callable so that the two classes share no widget.
    declare: Callable[[], dict[str, Field]] = dict
    meta: Mapping[str, Any] = field(default_factory=dict)

    def with_meta(self, **options: Any) -> ResourceSpec:
        return replace(self, meta={**self.meta, **options})

    def with_key(self, *import_id_fields: str) -> ResourceSpec:
        return replace(self, import_id_fields=import_id_fields)


@dataclass(frozen=True)
class Scenario:
    """One import: the resource, the rows stored beforehand, the file."""

    name: str
    spec: ResourceSpec
    existing: tuple[Mapping[str, Any], ...]
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    #: Primary keys the file sets explicitly (stock inserts a new record under them):
    #: the table state names new rows with these keys by key, others by values only.
    shown_pks: frozenset[Any] = frozenset()

    def dataset(self) -> tablib.Dataset:
        """A fresh dataset each time: ``before_import`` may change the one it is given."""
        return tablib.Dataset(*[list(row) for row in self.rows], headers=list(self.headers))

    def with_spec(self, spec: ResourceSpec) -> Scenario:
        return replace(self, spec=spec)


# --- resource shapes -------------------------------------------------------------------


def _declared_datetime() -> dict[str, Field]:
    return {"datetime": Field("datetime", "datetime", widget=FlexibleDateTimeWidget())}


def _declared_account_by_number() -> dict[str, Field]:
    return {
        "account": Field("account", "account", widget=ForeignKeyWidget(Account, "number")),
        **_declared_datetime(),
    }


#: How the account column is given: by number through a declared ``ForeignKeyWidget``,
#: as the plain foreign key id (DIE's default), or by number through ``Meta.widgets``.
ACCOUNT_SHAPES = ("number", "id", "meta_widgets")


def transaction_spec(model: type[models.Model], account_shape: str = "number") -> ResourceSpec:
    """The three-field key (account, datetime, amount) of ``Transaction``-like models."""
    fields = ("account", "datetime", "amount", "description")
    key = ("account", "datetime", "amount")
    if account_shape == "number":
        return ResourceSpec(model, fields, key, declare=_declared_account_by_number)
    if account_shape == "id":
        return ResourceSpec(model, fields, key, declare=_declared_datetime)
    if account_shape == "meta_widgets":
        return ResourceSpec(
            model,
            fields,
            key,
            declare=_declared_datetime,
            meta={"widgets": {"account": {"field": "number"}}},
        )
    raise ValueError(account_shape)


def product_spec(*key: str) -> ResourceSpec:
    return ResourceSpec(Product, ("code", "sku", "name", "price", "released", "stock"), key)


# --- spellings of one value -------------------------------------------------------------


def render_instant(rng: random.Random, instant: datetime) -> Any:
    """One of the ways a file may hold ``instant``; all of them clean to it (or, for the
    repeated Paris hour, to its twin: stock DIE decides which)."""
    local = instant.astimezone(PARIS).replace(tzinfo=None)
    plus_five = instant.astimezone(PLUS_FIVE)
    micro = ".%f" if instant.microsecond else ""
    choices: list[Any] = [
        local.strftime(f"%Y-%m-%d %H:%M:%S{micro}"),
        plus_five.isoformat(),
        instant.strftime(f"%Y-%m-%dT%H:%M:%S{micro}Z"),
        local,
        plus_five,
    ]
    if not instant.microsecond and not instant.second:
        choices.append(local.strftime("%Y-%m-%d %H:%M"))
    return rng.choice(choices)


def render_amount(rng: random.Random, amount: Decimal) -> Any:
    choices: list[Any] = [str(amount), str(amount.normalize()), f" {amount} ", amount]
    if amount == amount.to_integral_value():
        choices += [int(amount), f"{int(amount)}.0"]
    if float(amount) * 8 == int(float(amount) * 8):  # exact in binary
        choices.append(float(amount))
    return rng.choice(choices)


def render_account(rng: random.Random, number: str, accounts: Mapping[str, int], shape: str) -> Any:
    if shape == "id":
        pk = accounts[number]
        return rng.choice([str(pk), pk, f" {pk}"])
    return number


def code_spellings(code: str) -> tuple[str, ...]:
    """Spellings MariaDB's default collation treats as the same key (but the last)."""
    return (code, code.lower(), f"{code} ", f"{code.lower()}  ", f" {code}")


def render_date(rng: random.Random, day: date | None) -> Any:
    if day is None:
        return rng.choice(["", None])
    return rng.choice([day.isoformat(), day.strftime("%m/%d/%Y"), day])


# --- starting rows and files ----------------------------------------------------------------


def _pick_key(
    rng: random.Random, existing: Sequence[Any], seen: Sequence[Any], universe: Sequence[Any]
) -> Any:
    """Mostly keys that collide: stored ones, or ones an earlier file row used."""
    roll = rng.random()
    if existing and roll < 0.4:
        return rng.choice(existing)
    if seen and roll < 0.75:
        return rng.choice(seen)
    return rng.choice(universe)


def transaction_scenario(
    seed: int,
    *,
    model: type[models.Model],
    accounts: Mapping[str, int],
    account_shape: str = "number",
    rows: int = 40,
    stored_duplicates: bool = False,
    anomalies: float = 0.15,
    with_description: bool = True,
) -> Scenario:
    """A file for ``Transaction`` or ``LooseTransaction``.

    ``stored_duplicates`` stores some keys twice (only possible without a unique
    constraint): stock DIE reports those rows as ``MultipleObjectsReturned`` errors.
    """
    rng = random.Random(seed)
    numbers = rng.sample(ACCOUNT_NUMBERS, 3)
    universe = [
        (n, i, a) for n in numbers for i in rng.sample(INSTANTS, 4) for a in rng.sample(AMOUNTS, 3)
    ]
    stored_keys = rng.sample(universe, 6)
    existing = [
        {
            "account_id": accounts[n],
            "datetime": i,
            "amount": a,
            "description": rng.choice(DESCRIPTIONS),
        }
        for n, i, a in stored_keys
    ]
    if stored_duplicates:
        for n, i, a in stored_keys[:2]:
            existing.append(
                {"account_id": accounts[n], "datetime": i, "amount": a, "description": "twin"}
            )

    headers = ("account", "datetime", "amount", "description")
    if not with_description:
        headers = headers[:3]
    file_rows: list[tuple[Any, ...]] = []
    seen: list[Any] = []
    for _ in range(rows):
        number, instant, amount = _pick_key(rng, stored_keys, seen, universe)
        seen.append((number, instant, amount))
        row = [
            render_account(rng, number, accounts, account_shape),
            render_instant(rng, instant),
            render_amount(rng, amount),
            rng.choice(DESCRIPTIONS),
        ]
        if rng.random() < anomalies:
            _break_transaction_cell(rng, row, number, amount, account_shape)
        file_rows.append(tuple(row[: len(headers)]))
    name = f"{model.__name__}-{account_shape}-seed{seed}"
    return Scenario(
        name, transaction_spec(model, account_shape), tuple(existing), headers, tuple(file_rows)
    )


def _break_transaction_cell(
    rng: random.Random, row: list[Any], number: str, amount: Decimal, account_shape: str
) -> None:
    kind = rng.choice(
        [
            "blank_account",
            "unknown_account",
            "odd_account",
            "blank_datetime",
            "bad_datetime",
            "blank_amount",
            "bad_amount",
            "rounded_amount",
            "huge_amount",
            "long_description",
        ]
    )
    if kind == "blank_account":
        row[0] = rng.choice(["", None])
    elif kind == "unknown_account":
        row[0] = "999999" if account_shape == "id" else "Z999"
    elif kind == "odd_account":
        # id: not a number (ValueError); number: equal to a stored number on MariaDB only
        row[0] = (
            rng.choice(["abc", "1.0"])
            if account_shape == "id"
            else rng.choice([number.lower(), f"{number} "])
        )
    elif kind == "blank_datetime":
        row[1] = rng.choice(["", None])
    elif kind == "bad_datetime":
        row[1] = rng.choice(["2024-02-30 10:00:00", "soon"])
    elif kind == "blank_amount":
        row[2] = ""
    elif kind == "bad_amount":
        row[2] = rng.choice(["12,5", "abc"])
    elif kind == "rounded_amount":
        # more places than the column: the database rounds, the lookup does not
        row[2] = str(amount + rng.choice([Decimal("0.0004"), Decimal("0.0005")]))
    elif kind == "huge_amount":
        row[2] = "1234567890.5"
    else:
        row[3] = "x" * rng.randint(41, 60)


def _sku(code: str, day: date | None) -> str:
    """Each (code, released) pair has its own sku, so that updates keep it unique."""
    return f"S-{CODES.index(code)}{RELEASES.index(day)}"


def product_scenario(
    seed: int,
    *,
    key: Sequence[str] = ("code",),
    rows: int = 40,
    anomalies: float = 0.15,
) -> Scenario:
    """A file for ``Product``: a string key without a unique constraint (``code``), a
    unique non-key column (``sku``) and a date key (``released``)."""
    rng = random.Random(seed)
    universe = [(c, d) for c in CODES for d in RELEASES]
    stored_keys = rng.sample(universe, 5)
    existing = [
        {
            "code": code,
            "sku": _sku(code, day) if rng.random() < 0.7 else None,
            "name": rng.choice(NAMES),
            "price": rng.choice(PRICES),
            "released": day,
            "stock": rng.randint(0, 5),
        }
        for code, day in stored_keys
    ]
    headers = ("code", "sku", "name", "price", "released", "stock")
    file_rows: list[tuple[Any, ...]] = []
    seen: list[Any] = []
    for _ in range(rows):
        code, day = _pick_key(rng, stored_keys, seen, universe)
        seen.append((code, day))
        spelling = rng.choice([0, 0, 0, 1, 2, 3, 4])
        # another spelling of the code is another product except on MariaDB: give it its
        # own sku, or most of these rows would fail on the sku's unique constraint
        sku = _sku(code, day) + (f"-{spelling}" if spelling else "")
        row = [
            code_spellings(code)[spelling],
            rng.choice([sku, sku, sku, sku.lower()]),
            rng.choice(NAMES),
            rng.choice([str(p) if p is not None else "" for p in PRICES] + [Decimal("9.99"), 9.5]),
            render_date(rng, day),
            rng.choice(["5", 5, "5.0", "", "1e1", "-1", 3]),
        ]
        if rng.random() < anomalies:
            _break_product_cell(rng, row)
        file_rows.append(tuple(row))
    name = f"Product-{'+'.join(key)}-seed{seed}"
    return Scenario(name, product_spec(*key), tuple(existing), headers, tuple(file_rows))


def _break_product_cell(rng: random.Random, row: list[Any]) -> None:
    kind = rng.choice(["code", "sku", "price", "released", "stock", "name"])
    if kind == "sku":
        row[1] = rng.choice(["", None, _sku(rng.choice(CODES), rng.choice(RELEASES))])
    elif kind == "code":
        row[0] = rng.choice(["", "C" * 21])
    elif kind == "price":
        row[3] = rng.choice(["abc", "9.999", "123456789.00"])
    elif kind == "released":
        row[4] = rng.choice(["2024-02-30", "someday"])
    elif kind == "stock":
        row[5] = rng.choice(["abc", "99999999999", "2.5"])
    else:
        row[2] = "n" * rng.randint(41, 50)
