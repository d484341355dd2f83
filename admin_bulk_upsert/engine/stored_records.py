"""The stored record each row of a chunk finds: its key cleaned, the keys looked up in batches.

Stock finds a row's record with one ``get()`` per row, just before planning
it. Here every row of the chunk has its key cleaned first and the keys go to
the database together (:func:`~.prefetch.fetch_existing`, one query per batch),
so that :mod:`.planning` finds each row's record in an answer already on its
way. What a row finds is what its own ``get()`` would have found: the same
record, or the same exception (more than one match, a key cell that fails to
clean, a stored value Django cannot read back), raised for that row only.

A key that cannot go in a batch (a NULL part, an attribute that is not a plain
column) is looked up alone the stock way, with ``get()``.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, connections
from django.db.models import Model

from .instances import key_cleaner
from .keys import KeySpec
from .prefetch import fetch_existing, single

if TYPE_CHECKING:
    from .planning import RowWork  # annotations only: planning imports this module


@dataclasses.dataclass(eq=False)
class BatchLookup:
    """One batched lookup of a chunk's rows, whose answer may still be on its way."""

    rows: list[RowWork] = dataclasses.field(default_factory=list)
    cleaned: list[list[Any]] = dataclasses.field(default_factory=list)
    keys: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    result: Callable[[], dict[int, list[Model]]] = dict


class ExistingRecords:
    """Per row (by ``id``): ``(key, stored instance or None)``, or the exception stock raised.

    Rows looked up in a batch get their answer when first asked for: the
    batch's statement may still be running when the first rows are planned.
    :meth:`close` must be called once planning is done (it waits for any
    statement still running, whatever happened meanwhile).
    """

    def __init__(self, resource: Any, spec: KeySpec | None) -> None:
        self.resource = resource
        self.spec = spec
        self.answers: dict[int, Any] = {}
        self._pending: list[BatchLookup] = []
        self._waiting: dict[int, BatchLookup] = {}

    def expect(self, lookup: BatchLookup) -> None:
        self._pending.append(lookup)
        for work in lookup.rows:
            self._waiting[id(work)] = lookup

    def get(self, row_id: int) -> Any:
        lookup = self._waiting.get(row_id)
        while lookup is not None and self._pending:
            current = self._pending.pop(0)
            try:
                self._settle(current)
            except BaseException:
                self.close()
                raise
            if current is lookup:
                break
        return self.answers.get(row_id)

    def close(self) -> None:
        pending, self._pending = self._pending, []
        self._waiting.clear()
        for lookup in pending:
            # Only waited for: an earlier failure is what is being raised.
            with contextlib.suppress(Exception):
                lookup.result()

    def _settle(self, lookup: BatchLookup) -> None:
        answers = self.answers
        for work in lookup.rows:
            self._waiting.pop(id(work), None)
        try:
            found = lookup.result()
        except DatabaseError:
            raise
        except Exception:
            # A stored record that cannot be read back (a value Django's
            # converter rejects) fails only the rows whose get() reads it.
            for work, cleaned in zip(lookup.rows, lookup.cleaned, strict=True):
                try:
                    stored = _stock_get(self.resource, self.spec, cleaned)  # type: ignore[arg-type]
                except Exception as exc:
                    answers[id(work)] = exc
                else:
                    if stored is not None:
                        answers[id(work)] = (("pk", stored.pk), stored)
            return
        model = self.resource._meta.model
        for index, work in enumerate(lookup.rows):
            matches = found.get(index)
            if not matches:
                continue
            try:
                instance = single(model, matches)
            except Exception as exc:
                answers[id(work)] = exc
            else:
                answers[id(work)] = (answers[id(work)][0], instance)


def find_existing(resource: Any, spec: KeySpec | None, rows: Sequence[RowWork]) -> ExistingRecords:
    """Clean every row's key and look the keys up; see :class:`ExistingRecords`.

    Keys are cleaned with the resource's own fields (foreign keys answer from
    the chunk's prefetch); the stored rows come from one batched query.
    Keys with a NULL part, and keys on attributes that are not plain columns,
    are looked up with one ``get()`` each, the stock way.

    Where helper threads are allowed (PostgreSQL, see
    :func:`~admin_bulk_upsert.engine.statement_thread.helper_threads_allowed`), the
    chunk's keys go in two halves, each looked up on a helper thread: the
    database looks up the first half while the second half's cells are
    cleaned, and the second while the first half's rows are planned.
    Either way, the keys are read from the same transaction with nothing
    written in between.
    """
    existing = ExistingRecords(resource, spec)
    if spec is None:
        existing.answers.update({id(w): (None, None) for w in rows})
        return existing
    answers = existing.answers
    clean_key = key_cleaner([resource.fields[name] for name in spec.resource_field_names])
    background = spec.batchable and len(rows) > 1 and connections[spec.using].vendor == "postgresql"
    half = len(rows) // 2
    parts = [rows[:half], rows[half:]] if background else [rows]
    try:
        for part in parts:
            lookup = BatchLookup()
            for work in part:
                try:
                    cleaned = work.key_values = clean_key(work.row)
                    hint = spec.lookup_key(cleaned) if spec.batchable else None
                    if hint is None:
                        answers[id(work)] = _look_up_alone(resource, spec, cleaned)
                        continue
                except Exception as exc:
                    answers[id(work)] = exc
                    continue
                answers[id(work)] = (hint.key, None)
                work.key_hint = hint
                lookup.rows.append(work)
                lookup.keys.append(hint.db_values)
                lookup.cleaned.append(cleaned)
            if lookup.keys:
                lookup.result = fetch_existing(resource, spec, lookup.keys, background)
                existing.expect(lookup)
    except BaseException:
        existing.close()
        raise
    return existing


def _look_up_alone(
    resource: Any, spec: KeySpec, cleaned: Sequence[Any]
) -> tuple[Any, Model | None]:
    """``(group key, stored record or None)`` of a key that is not looked up in the batch.

    A blank pk matches nothing: no group key, so that no later row of the
    file finds this row's record by it (``get(pk=None)`` never would).
    """
    if spec.matches_nothing(cleaned):
        if spec.batchable:
            spec.prepare_parts(cleaned)
        else:
            _stock_get(resource, spec, cleaned)
        return (None, None)
    stored = _stock_get(resource, spec, cleaned)
    return (spec.alone_key(cleaned), stored)


def _stock_get(resource: Any, spec: KeySpec, cleaned: Sequence[Any]) -> Model | None:
    model = resource._meta.model
    try:
        return resource.get_queryset().get(**spec.lookup_kwargs(cleaned))  # type: ignore[no-any-return]
    except model.DoesNotExist:
        return None
