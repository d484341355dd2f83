"""Each file header matched to a resource field, by the first rule that finds one.

The rules, strongest first:

1. ``exact``: the header is the field's column name;
2. ``name``: the same name once case, spaces and punctuation are ignored
   ("SKU", "unit_price" and "Unit-Price" are ``unit price``), against the
   column name and the field's name;
3. ``verbose_name``: the model field's verbose name, compared the same way;
4. ``alias``: a header the resource declares in ``Meta.column_aliases``;
5. ``remembered``: the field this user mapped this header to last time for
   this model (:mod:`.remembered`).

Each rule runs over every header before the next one does, so that an exact
match is never taken away by a weaker one of another header; a field goes to
one header only, the first in file order. A header no rule matches is ignored
until the user says otherwise.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence

from .targets import ColumnTarget

__all__ = ["RULES", "ColumnMatch", "headers_match", "match_columns", "normalise"]

#: The rules' names, in the order they are tried.
RULES = ("exact", "name", "verbose_name", "alias", "remembered")

_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """``text`` lower-cased, accents kept, every run of spaces and punctuation one space."""
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return _NOT_WORD.sub(" ", folded).strip()


@dataclasses.dataclass(frozen=True)
class ColumnMatch:
    """The field a header was matched to (``""``: ignored) and the rule that found it."""

    field_name: str = ""
    rule: str = ""


def match_columns(
    headers: Sequence[str],
    targets: Sequence[ColumnTarget],
    remembered: Mapping[str, str] | None = None,
) -> dict[str, ColumnMatch]:
    """``{header: ColumnMatch}`` for every header of the file, in file order.

    ``remembered`` maps headers to the field last chosen for them (``""``:
    ignored); a remembered choice of a field that is no longer a target is
    dropped.
    """
    remembered = remembered or {}
    known = {target.field_name for target in targets}
    found: dict[str, ColumnMatch] = {}
    taken: set[str] = set()
    keys: dict[str, Callable[[ColumnTarget], Iterable[str]]] = {
        "exact": lambda target: [target.column_name],
        "name": lambda target: [normalise(target.column_name), normalise(target.field_name)],
        "verbose_name": lambda target: (
            [normalise(target.verbose_name)] if target.verbose_name else []
        ),
        "alias": lambda target: [normalise(alias) for alias in target.aliases],
    }
    for rule, names_of in keys.items():
        by_name: dict[str, str] = {}
        for target in targets:
            for name in names_of(target):
                by_name.setdefault(name, target.field_name)
        for header in headers:
            if header in found:
                continue
            wanted = header if rule == "exact" else normalise(header)
            field_name = by_name.get(wanted)
            if field_name and field_name not in taken:
                found[header] = ColumnMatch(field_name, rule)
                taken.add(field_name)
    for header in headers:
        if header in found or header not in remembered:
            continue
        field_name = remembered[header]
        if field_name == "":
            found[header] = ColumnMatch("", "remembered")
        elif field_name in known and field_name not in taken:
            found[header] = ColumnMatch(field_name, "remembered")
            taken.add(field_name)
    return {header: found.get(header, ColumnMatch()) for header in headers}


def headers_match(
    headers: Iterable[str], column_names: Iterable[str], key_columns: Iterable[str]
) -> bool:
    """Whether the file needs no mapping: every header is a column name, every key is there.

    ``column_names`` are all the resource's columns (export-only ones too), so
    that a file the resource exported comes back without a question.
    """
    present = set(headers)
    return present <= set(column_names) and set(key_columns) <= present
