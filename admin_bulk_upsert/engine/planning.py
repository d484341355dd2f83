"""Decide, for each row of a chunk, what stock would do with it: new, update, skip, invalid, error.

This runs django-import-export's per-row hooks in stock order
(``before_import_row``, ``after_init_instance``, ``import_instance``,
``skip_row``, ``validate_instance``, ``before_save_instance``) but finds
each row's stored record in one batched answer (:mod:`.stored_records`)
instead of one query per row, and defers the saving to
:mod:`admin_bulk_upsert.engine.bulk_write`.

Rows of one file that share a key (by the database's equality) form a group:
the first row creates or updates the record and each later row updates the
state the previous one left, exactly as stock would find it in the database.
A row that fails leaves its group as it was.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.db.transaction import TransactionManagementError
from import_export.results import RowResult

from .as_stored import ReadBack, as_stored
from .instances import (
    NewInstances,
    RowApplier,
    copy_instance,
    gives_pk_to_unsaved,
    instance_factory,
    keep_stored_pk,
    overrides,
    row_applier,
    stock_logger,
    stored_pk,
)
from .keys import KeyHint, KeySpec
from .prefetch import multiple_returned, remembered_cleaning
from .stored_records import find_existing


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
    #: Whether the row gives a pk to a record the chunk creates, which stock
    #: compares with the pk the database gave it (known once it is written).
    awaits_pk: bool = False


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
        existing = find_existing(resource, spec, live)
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
        pk = None if new else stored_pk(resource, instance)
        try:
            self.apply_row(instance, work.row, hook_kwargs, work.key_values)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if not new:
            work.awaits_pk = group is not None and gives_pk_to_unsaved(resource, instance, pk)
            keep_stored_pk(resource, instance, pk)
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
