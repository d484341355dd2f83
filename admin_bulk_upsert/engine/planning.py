"""Decide, for each row of a chunk, what stock would do with it: new, update, skip, invalid, error.

This runs django-import-export's per-row hooks in stock order
(``before_import_row``, ``after_init_instance``, ``import_instance``,
``skip_row``, ``validate_instance``, ``before_save_instance``) but finds
existing records from one prefetched answer instead of one query per row, and
defers the saving to :mod:`admin_bulk_upsert.engine.bulk_write`.

Rows of one file that share a key (by the database's equality) form a group:
the first row creates or updates the record and each later row updates the
state the previous one left, exactly as stock would find it in the database.
A row that fails leaves its group as it was.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, connections
from django.db.models import Model
from django.db.transaction import TransactionManagementError
from import_export.results import RowResult

from .as_stored import ReadBack, as_stored
from .instances import (
    NewInstances,
    RowApplier,
    copy_instance,
    instance_factory,
    keep_stored_pk,
    key_cleaner,
    overrides,
    row_applier,
    stock_logger,
)
from .keys import KeyHint, KeySpec
from .prefetch import fetch_existing, multiple_returned, remembered_cleaning, single


@dataclasses.dataclass(eq=False, slots=True)
class Group:
    """The rows of a chunk that end in one stored record.

    ``states`` holds the instance each saving row left, in file order: stock
    saves every one of them, and each must be written (a state the database
    refuses fails its row even if a later row would have fixed the value).
    """

    states: list[Model]
    created: bool
    #: Row instances (and snapshots) that must get the record's pk once written.
    members: list[Model] = dataclasses.field(default_factory=list)
    #: The stored record as the lookup returned it (updates only, when the
    #: import records what it writes: see :mod:`.chunk_changes`).
    before: Model | None = None

    @property
    def instance(self) -> Model:
        """The record's state after the chunk."""
        return self.states[-1]


@dataclasses.dataclass(eq=False, slots=True)
class RowWork:
    """One row on its way through the chunk."""

    number: int
    row: dict[str, Any]
    result: RowResult
    instance: Model | None = None
    original: Model | None = None
    new: bool = False
    saved: bool = False
    group: Group | None = None
    #: The row's cleaned key cells, once the lookup has cleaned them.
    key_values: list[Any] | None = None
    #: The key the row was looked up with in the batched query, if it was.
    key_hint: KeyHint | None = None
    #: Whether the row started from the state an earlier row of the chunk left.
    follows: bool = False


@dataclasses.dataclass(frozen=True)
class ChunkPlan:
    """What to write for a chunk, and the rows in file order."""

    rows: list[RowWork]
    groups: list[Group]

    def rounds(self) -> list[tuple[list[Model], list[Model]]]:
        """``(to_create, to_update)`` per round: round ``r`` writes each key's ``r``-th state.

        Without duplicate keys in the chunk there is one round.
        """
        depth = max((len(g.states) for g in self.groups), default=0)
        rounds = []
        for r in range(depth):
            creates = [g.states[0] for g in self.groups if r == 0 and g.created]
            updates = [
                g.states[r] for g in self.groups if r < len(g.states) and (r or not g.created)
            ]
            rounds.append((creates, updates))
        return rounds


def fail(resource: Any, work: RowWork, exc: Exception) -> None:
    """Record an exception the way stock's ``import_row`` does."""
    result = work.result
    if isinstance(exc, ValidationError):
        result.import_type = RowResult.IMPORT_TYPE_INVALID
        result.validation_error = exc
    else:
        result.import_type = RowResult.IMPORT_TYPE_ERROR
        if not isinstance(exc, TransactionManagementError):
            stock_logger().debug(exc, exc_info=True)
        result.errors.append(
            resource.get_error_result_class()(exc, row=work.row, number=work.number)
        )
    work.instance = None
    work.saved = False


def plan_chunk(
    resource: Any,
    spec: KeySpec | None,
    rows: Sequence[RowWork],
    kwargs: dict[str, Any],
) -> ChunkPlan:
    """Run the pre-save part of every row; return what the chunk must write.

    ``spec`` is ``None`` when rows are never looked up (``force_init_instance``
    or a key column missing from the file): every row is then new.
    """
    key_names = spec.resource_field_names if spec is not None else ()
    apply_row = row_applier(resource, key_names)
    # Stock cleans a key cell twice (the lookup, then import_field). The fast
    # applier takes the lookup's values; a resource's own import_instance gets
    # them from a memo in front of each key field's clean().
    remembered = [] if apply_row.takes_keys else [resource.fields[name] for name in key_names]
    read_back = ReadBack.of(spec.using if spec is not None else None)
    plan_row = _RowPlanner(resource, apply_row, instance_factory(resource), read_back)
    plan_row.keep_before = getattr(resource, "_on_chunk_written", None) is not None
    live = []
    before_import_row = overrides(resource, "before_import_row")
    for work in rows:
        try:
            if before_import_row:
                resource.before_import_row(work.row, **row_kwargs(kwargs, work))
        except Exception as exc:
            fail(resource, work, exc)
        else:
            live.append(work)
    with remembered_cleaning(remembered):
        existing = _find_existing(resource, spec, live)
        groups = _Registry(spec)
        written: dict[int, Group] = {}
        try:
            for work in live:
                found = existing.get(id(work))
                if isinstance(found, Exception):
                    fail(resource, work, found)
                    continue
                try:
                    plan_row(work, found, groups, kwargs)
                except Exception as exc:
                    fail(resource, work, exc)
                if work.group is not None:
                    written.setdefault(id(work.group), work.group)
        finally:
            existing.close()
    return ChunkPlan(list(rows), list(written.values()))


def row_kwargs(kwargs: dict[str, Any], work: RowWork) -> dict[str, Any]:
    """The keyword arguments stock passes a row's hooks: the import's, plus ``row_number``."""
    return {**kwargs, "row_number": work.number}


@dataclasses.dataclass(eq=False)
class _Lookup:
    """One batched lookup of a chunk's rows, whose answer may still be on its way."""

    rows: list[RowWork] = dataclasses.field(default_factory=list)
    cleaned: list[list[Any]] = dataclasses.field(default_factory=list)
    keys: list[tuple[Any, ...]] = dataclasses.field(default_factory=list)
    result: Callable[[], dict[int, list[Model]]] = dict


class _Existing:
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
        self._pending: list[_Lookup] = []
        self._waiting: dict[int, _Lookup] = {}

    def expect(self, lookup: _Lookup) -> None:
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

    def _settle(self, lookup: _Lookup) -> None:
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


def _find_existing(resource: Any, spec: KeySpec | None, rows: Sequence[RowWork]) -> _Existing:
    """Clean every row's key and look the keys up; see :class:`_Existing`.

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
    existing = _Existing(resource, spec)
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
            lookup = _Lookup()
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


class _Registry:
    """The chunk's groups, found the way stock's ``get()`` would find their records.

    A record stored earlier in the chunk is found by its pk when the database
    lookup returned it, and a record the chunk creates is found by its key
    *as the database will store it* (``7.1254`` in a column of three places is
    stored as ``7.125`` and found by a later ``7.125``, not by ``7.1254``).
    """

    def __init__(self, spec: KeySpec | None) -> None:
        self.spec = spec
        self.by_pk: dict[Any, Group] = {}
        self.by_key: dict[Any, list[Group]] = {}

    def candidates(self, key: Any, stored: Model | None) -> list[Group | Model]:
        found: list[Group | Model] = []
        if stored is not None:
            found.append(self.by_pk.get(stored.pk, stored))
        if key is not None:
            found.extend(self.by_key.get(key, ()))
        return found

    def add(
        self,
        group: Group,
        key: Any,
        stored: Model | None,
        instance: Model,
        hint: KeyHint | None = None,
    ) -> None:
        if stored is not None:
            self.by_pk[stored.pk] = group
            return
        stored_key = self.spec.stored_key(instance, hint) if self.spec is not None else None
        key = stored_key if stored_key is not None else key
        if key is not None:
            self.by_key.setdefault(key, []).append(group)


class _RowPlanner:
    """The pre-save part of one row, as stock's ``import_row`` runs it.

    Built once per chunk: which hooks the resource overrides is decided here,
    not per row.
    """

    def __init__(
        self,
        resource: Any,
        apply_row: RowApplier,
        new_instance: NewInstances,
        read_back: ReadBack,
    ) -> None:
        self.resource = resource
        self.read_back = read_back
        self.apply_row = apply_row
        self.new_instance = new_instance
        meta = resource._meta
        self.model = meta.model
        self.skip_diff = meta.skip_diff
        self.after_init_instance = overrides(resource, "after_init_instance")
        self.before_save_instance = overrides(resource, "before_save_instance")
        self.may_skip = bool(meta.skip_unchanged) or overrides(resource, "skip_row")
        # A new instance still a copy of the blank has the shared blank as
        # its snapshot (never written, never given a pk).
        self.blank_snapshot = None if self.after_init_instance else new_instance.blank
        #: Whether updated groups keep the stored record's values (:attr:`Group.before`).
        self.keep_before = False

    def __call__(
        self,
        work: RowWork,
        found: tuple[Any, Model | None] | None,
        groups: _Registry,
        kwargs: dict[str, Any],
    ) -> None:
        resource = self.resource
        hook_kwargs = row_kwargs(kwargs, work)
        key, stored = found if found is not None else (None, None)
        candidates = groups.candidates(key, stored)
        if len(candidates) > 1:
            work.follows = True  # only a group of this chunk adds a second candidate
            raise multiple_returned(self.model, len(candidates))
        target = candidates[0] if candidates else None
        group = target if isinstance(target, Group) else None
        before: Model | None = None
        if group is not None:
            work.follows = True
            instance, new = as_stored(copy_instance(group.instance), self.read_back), False
        elif target is not None:
            instance, new = target, False
            if self.keep_before and (self.skip_diff or self.after_init_instance):
                # No diff snapshot to reuse, or a hook may change the instance first.
                before = copy_instance(instance)
        else:
            instance, new = self.new_instance(work.row), True
        work.instance, work.new = instance, new
        if self.after_init_instance:
            resource.after_init_instance(instance, new, work.row, **hook_kwargs)
        work.result.import_type = RowResult.IMPORT_TYPE_NEW if new else RowResult.IMPORT_TYPE_UPDATE
        if self.skip_diff:
            original = None
        elif new and self.blank_snapshot is not None:
            original = self.blank_snapshot
        else:
            original = copy_instance(instance)
        work.original = original
        if self.keep_before and before is None and group is None and not new:
            before = original  # the diff's snapshot of the stored record

        errors: dict[str, Any] = {}
        stored_pk = None if new else instance.pk
        try:
            self.apply_row(instance, work.row, hook_kwargs, work.key_values)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        keep_stored_pk(instance, stored_pk)
        if self.may_skip and resource.skip_row(instance, original, work.row, errors):
            work.result.import_type = RowResult.IMPORT_TYPE_SKIP
            _join(group, work)
            return
        resource.validate_instance(instance, errors, validate_unique=False)
        if self.before_save_instance:
            resource.before_save_instance(instance, work.row, **hook_kwargs)
        work.saved = True
        if group is None:
            group = Group(states=[], created=new, before=before)
            groups.add(group, key, target, instance, work.key_hint)
        group.states.append(instance)
        _join(group, work)


def _join(group: Group | None, work: RowWork) -> None:
    """Tie the row's instances to the record whose pk they get once written."""
    if group is None:
        return
    work.group = group
    group.members.append(work.instance)  # type: ignore[arg-type]
    # A new row's snapshot is the blank instance stock copied before saving:
    # it never gets a pk. An update's snapshot is the stored record: it has one.
    if work.original is not None and not work.new:
        group.members.append(work.original)
