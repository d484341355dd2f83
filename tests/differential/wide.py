"""Seeded files for the wide models: any nullable column, or several, as the key.

``WideRecord`` has a nullable column of each type DIE has a widget for, an optional
foreign key given by account number and a many-to-many column given by tag names.
The key is drawn from the primary key (``id``, DIE's default), the nullable
columns and composites of them; every key cell may be blank (``""``, None) and a
key column may be missing from the file. Stock DIE's rule is the oracle: a row's
key is what ``queryset.get(**key)`` finds at that row's turn, so ``id=None``
matches nothing (not even a record an earlier row of the same file created) and a
blank non-pk value matches what ``get(column=None)`` (``IS NULL``) or
``get(column="")`` matches.

Stored rows get explicit primary keys (``STORED_IDS``), and files name a few
unknown ones (``UNKNOWN_IDS``) that stock inserts under that very key; the harness
shows those keys in the table state and diffs, the automatic ones it cannot (they
differ between the two runs on MariaDB and SQLite).

A file only has an ``id`` column when ``id`` is part of the key: with another key,
stock assigns a blank ``id`` cell to the record it found and so inserts a copy
while reporting an update, which the engine deliberately does not copy (see
``test_wide_edge_cases.test_blank_id_column_with_another_key``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from django.db import models
from import_export.fields import Field
from import_export.widgets import ForeignKeyWidget, ManyToManyWidget

from tests.differential.datasets import (
    ACCOUNT_NUMBERS,
    FlexibleDateTimeWidget,
    ResourceSpec,
    Scenario,
    render_instant,
)
from tests.testapp.models import Account, Tag, WideRecord

ID_BASE = 10**9
#: Primary keys of the stored rows, and ones the files name that nothing has: far
#: apart, so that no automatic key (always above the largest key stored so far on
#: MariaDB and SQLite, after the starting rows on PostgreSQL) ever equals one of them.
STORED_IDS = tuple(ID_BASE + 10 + i for i in range(8))
UNKNOWN_IDS = (ID_BASE + 10**6, ID_BASE + 2 * 10**6, ID_BASE + 3 * 10**6)
TAG_NAMES = ("red", "blue", "green")

COLUMNS = ("label", "code", "ratio", "price", "flag", "stamp", "rank", "level", "account")
FIELDS = ("id", *COLUMNS, "tags")
KEYS: tuple[tuple[str, ...], ...] = (
    ("id",),
    ("id",),
    ("label",),
    ("code",),
    ("ratio",),
    ("price",),
    ("flag",),
    ("stamp",),
    ("rank",),
    ("level",),
    ("account",),
    ("label", "ratio"),
    ("code", "flag"),
    ("account", "stamp"),
    ("flag", "rank", "price"),
    ("ratio", "level"),
    ("id", "code"),
)

#: Each column's stored values (None included: every column is nullable).
VALUES: dict[str, tuple[Any, ...]] = {
    "label": ("alpha", "Beta", "", None),
    "code": ("K1", "k2", "", None),
    "ratio": (0.5, 0.1, 2.0, None),
    "price": (Decimal("1.50"), Decimal("0.00"), Decimal("99.99"), None),
    "flag": (True, False, None),
    "stamp": (
        datetime(2024, 1, 5, 9, 0, tzinfo=timezone.utc),
        datetime(2024, 10, 27, 0, 30, tzinfo=timezone.utc),
        None,
    ),
    "rank": (1, -3, 0, None),
    "level": (0, 7, None),
    "account": (*ACCOUNT_NUMBERS[:2], None),
}

#: Cells no widget parses, or that the column cannot hold.
BROKEN: dict[str, tuple[Any, ...]] = {
    "id": ("abc", "1.5", -1),
    "label": ("x" * 21,),
    "code": ("y" * 21,),
    "ratio": ("abc", "1,5"),
    "price": ("x", "1234567.00", "1.505"),
    "flag": ("maybe", 2),
    "stamp": ("2024-02-30 10:00", "soon"),
    "rank": ("abc", "40000", "1.5"),
    "level": ("-1", "70000", "z"),
    "account": ("Z999",),
    "tags": ("red,,blue", "nope", 7),
}
BROKEN_TAG_PKS = ("abc", "1,x", "999999", 1.5)


def _declared() -> dict[str, Field]:
    return {
        "stamp": Field("stamp", "stamp", widget=FlexibleDateTimeWidget()),
        "account": Field("account", "account", widget=ForeignKeyWidget(Account, "number")),
        "tags": Field("tags", "tags", widget=ManyToManyWidget(Tag, field="name")),
    }


def _declared_tags_by_pk() -> dict[str, Field]:
    """Tags by primary key (DIE's default widget): a cell that is not a number makes
    ``save_m2m`` raise, after the row itself was saved."""
    return {**_declared(), "tags": Field("tags", "tags", widget=ManyToManyWidget(Tag))}


def wide_spec(
    model: type[models.Model] = WideRecord, *key: str, tags_by_pk: bool = False
) -> ResourceSpec:
    declare = _declared_tags_by_pk if tags_by_pk else _declared
    return ResourceSpec(model, FIELDS, key or ("id",), declare=declare)


@dataclass(frozen=True)
class Options:
    """What one seed imports with, besides the file."""

    batch_size: int
    skip_unchanged: bool
    report_skipped: bool
    clean_model_instances: bool
    dry_run: bool

    @classmethod
    def draw(cls, rng: random.Random) -> Options:
        return cls(
            batch_size=rng.choice([2, 3, 4, 5, 1000]),
            skip_unchanged=rng.random() < 0.4,
            report_skipped=rng.random() < 0.7,
            clean_model_instances=rng.random() < 0.4,
            dry_run=rng.random() < 0.25,
        )

    def meta(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "skip_unchanged": self.skip_unchanged,
            "report_skipped": self.report_skipped,
            "clean_model_instances": self.clean_model_instances,
        }


# --- spellings -------------------------------------------------------------------------


def _render(rng: random.Random, column: str, value: Any) -> Any:
    """One way a file may hold ``value`` in ``column``; all clean to it."""
    if value is None:
        return rng.choice(["", None])
    if column == "ratio":
        return rng.choice([value, str(value), f"{value:.2f}", f" {value}"])
    if column == "price":
        return rng.choice([value, str(value), str(value.normalize()), float(value)])
    if column == "flag":
        return rng.choice([value, "1" if value else "0", str(value).upper(), int(value)])
    if column == "stamp":
        return render_instant(rng, value)
    if column in ("rank", "level"):
        return rng.choice([value, str(value), f"{value}.0", f" {value}"])
    if column == "id":
        return rng.choice([value, str(value), float(value)])
    return value


def _render_tags(rng: random.Random, names: Sequence[str], pks: Mapping[str, int] | None) -> Any:
    """Tag names, or (``pks`` given) their primary keys, joined by commas."""
    if not names:
        return rng.choice(["", None])
    items = list(names) if pks is None else [str(pks[name]) for name in names]
    if pks is not None and len(items) == 1 and rng.random() < 0.3:
        return int(items[0])
    return rng.choice([",".join(items), ",".join(reversed(items)), " , ".join(items)])


def _stored_values(rng: random.Random, pk: int) -> dict[str, Any]:
    """A stored row as the file would name it (account number, tag names)."""
    values = {column: rng.choice(VALUES[column]) for column in COLUMNS}
    values["id"] = pk
    values["tags"] = tuple(rng.sample(TAG_NAMES, rng.randint(0, 2)))
    return values


def _model_values(
    values: Mapping[str, Any], accounts: Mapping[str, int], tags: Mapping[str, int]
) -> dict[str, Any]:
    """What ``reset_table`` creates for a stored row (m2m as target primary keys)."""
    created = {c: values[c] for c in ("id", *COLUMNS) if c != "account"}
    number = values["account"]
    created["account_id"] = None if number is None else accounts[number]
    created["tags"] = [tags[name] for name in values["tags"]]
    return created


def _fresh_values(rng: random.Random) -> dict[str, Any]:
    values = {column: rng.choice(VALUES[column]) for column in COLUMNS}
    values["id"] = rng.choice([*UNKNOWN_IDS, None])
    values["tags"] = tuple(rng.sample(TAG_NAMES, rng.randint(0, 2)))
    return values


def _headers(rng: random.Random, key: Sequence[str]) -> list[str]:
    """Every field, but ``id`` only in an ``id`` key; now and then a column is missing
    (a key column too: stock then finds nothing and creates every row)."""
    headers = [f for f in FIELDS if f != "id" or "id" in key]
    if rng.random() < 0.1:
        headers.remove(rng.choice(list(key)))
    for column in [h for h in headers if h not in key]:
        if rng.random() < 0.08:
            headers.remove(column)
    return headers


def _file_row(
    rng: random.Random,
    key: Sequence[str],
    stored: Sequence[Mapping[str, Any]],
    seen: list[dict[str, Any]],
    blanks: float,
) -> dict[str, Any]:
    """A row's values: mostly the key of a stored or earlier row (a blank part now
    and then), its other values unchanged or new."""
    roll = rng.random()
    if stored and roll < 0.45:
        values = dict(rng.choice(stored))
    elif seen and roll < 0.75:
        values = dict(rng.choice(seen))
    else:
        values = _fresh_values(rng)
    if rng.random() < 0.5:
        fresh = _fresh_values(rng)
        values.update({c: fresh[c] for c in (*COLUMNS, "tags") if c not in key})
    for column in key:
        if rng.random() < blanks:
            values[column] = None
    seen.append(values)
    return values


def wide_scenario(
    seed: int,
    *,
    accounts: Mapping[str, int],
    tags: Mapping[str, int],
    model: type[models.Model] = WideRecord,
    rows: int = 20,
    anomalies: float = 0.12,
    blanks: float = 0.2,
) -> tuple[Scenario, Options]:
    """A file for a wide model, its key and the options it is imported with."""
    rng = random.Random(seed)
    # drawn apart, so that the other draws of a seed stay what they were before
    tags_by_pk = random.Random(f"tags-{seed}").random() < 0.3
    key = rng.choice(KEYS)
    options = Options.draw(rng)
    stored = [_stored_values(rng, pk) for pk in STORED_IDS[: rng.randint(2, 6)]]
    headers = _headers(rng, key)
    seen: list[dict[str, Any]] = []
    file_rows = []
    for _ in range(rows):
        values = _file_row(rng, key, stored, seen, blanks)
        cells = {c: _render(rng, c, values[c]) for c in ("id", *COLUMNS)}
        cells["tags"] = _render_tags(rng, values["tags"], tags if tags_by_pk else None)
        if rng.random() < anomalies:
            column = rng.choice(headers)
            cells[column] = rng.choice(
                BROKEN_TAG_PKS if column == "tags" and tags_by_pk else BROKEN[column]
            )
        file_rows.append(tuple(cells[h] for h in headers))
    spec = wide_spec(model, *key, tags_by_pk=tags_by_pk).with_meta(**options.meta())
    scenario = Scenario(
        f"{model.__name__}-{'+'.join(key)}-seed{seed}",
        spec,
        tuple(_model_values(v, accounts, tags) for v in stored),
        tuple(headers),
        tuple(file_rows),
        shown_pks=frozenset(UNKNOWN_IDS),
    )
    return scenario, options
