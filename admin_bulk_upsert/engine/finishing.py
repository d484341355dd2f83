"""The post-save part of each row, once its chunk is written, in stock order.

Stock finishes a row right after saving it: ``after_save_instance``,
``save_m2m``, the row's result (instance info, diff) and ``after_import_row``.
Here the chunk is written first (:mod:`.bulk_write` or :mod:`.per_row_save`)
and every row is then finished in file order by :func:`finish_rows` (or, where
the chunk's many-to-many links are written set-based, by :mod:`.m2m_finishing`),
which calls only the hooks a resource overrides and renders a diff only when stock
would read it before a hook could change the instance.

A row whose hooks break the transaction (a database error in ``save_m2m``)
raises :class:`FinishBroken` when the chunk shares one savepoint, so that
:mod:`.chunks` can replay the chunk row by row, as stock with its savepoint
per row would have failed that row only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model
from import_export.results import RowResult
from import_export.widgets import ManyToManyWidget

from .instances import overrides
from .m2m_diff import DiffLinks
from .m2m_links import ChunkLinks
from .planning import RowWork, fail, row_kwargs


def finish_hooks(resource: Any) -> tuple[bool, bool, bool]:
    """Whether finishing a row calls ``after_save_instance``, ``save_m2m``, ``after_import_row``."""
    return (
        overrides(resource, "after_save_instance"),
        overrides(resource, "save_m2m")
        or any(isinstance(f.widget, ManyToManyWidget) for f in resource.get_import_fields()),
        overrides(resource, "after_import_row"),
    )


class BlankSnapshots:
    """One shared snapshot for the many new rows whose blank instances are alike.

    The diff of a new row compares it with the instance as it was before the
    row was applied: for most files that is the same blank instance every
    time, and keeping one copy per row until the diff is read would cost a
    model instance per new row for the whole import.
    """

    def __init__(self) -> None:
        self._shared: Model | None = None
        # The last snapshot found alike: each chunk's rows share one blank
        # instance of their own, compared once rather than once per row.
        self._alike: Model | None = None

    def share(self, snapshot: Model | None) -> Model | None:
        if snapshot is None or snapshot is self._shared:
            return snapshot
        if snapshot is self._alike:
            return self._shared
        if self._shared is None:
            self._shared = snapshot
        elif _same_values(self._shared, snapshot):
            self._alike = snapshot
            return self._shared
        return snapshot


def _same_values(a: Model, b: Model) -> bool:
    if type(a) is not type(b) or a._state.fields_cache or b._state.fields_cache:
        return False
    left = {k: v for k, v in a.__dict__.items() if k != "_state"}
    right = {k: v for k, v in b.__dict__.items() if k != "_state"}
    return left == right


def finish_rows(
    resource: Any,
    chunk: Sequence[RowWork],
    kwargs: dict[str, Any],
    blanks: BlankSnapshots,
    connection: BaseDatabaseWrapper | None = None,
) -> None:
    """The post-save part of each row, in stock order, once the chunk is written.

    With ``connection`` (the chunk's write and finish share a savepoint),
    a row whose hooks leave the transaction unusable (a database error in
    ``save_m2m``, ``after_save_instance``, ...) raises :class:`FinishBroken`
    at once: stock, with a savepoint per row, would fail that row only.
    (A chunk whose many-to-many links are written set-based is finished by
    :mod:`.m2m_finishing` instead.)
    """
    finish_row = RowFinisher(resource, kwargs, blanks)
    for work in chunk:
        if work.result.import_type in FAILED:
            continue
        finish_row(work)
        if connection is not None and (finish_row.database_error or connection.needs_rollback):
            raise FinishBroken


class FinishBroken(Exception):
    """A row's hooks broke the chunk's transaction; the chunk must be replayed."""


FAILED = (RowResult.IMPORT_TYPE_ERROR, RowResult.IMPORT_TYPE_INVALID)
#: The keyword arguments of rows that call no hook (never passed to one).
_NO_KWARGS: dict[str, Any] = {}


class RowFinisher:
    """Finishes one row: ``after_save_instance``, ``save_m2m``, its result, ``after_import_row``."""

    def __init__(self, resource: Any, kwargs: dict[str, Any], blanks: BlankSnapshots) -> None:
        self.resource = resource
        self.kwargs = kwargs
        self.blanks = blanks
        meta = resource._meta
        self.after_save_instance, self.has_m2m, self.after_import_row = finish_hooks(resource)
        self.hooks = self.after_save_instance or self.has_m2m or self.after_import_row
        self.diff = not meta.skip_diff
        self.html_diff = self.diff and not meta.skip_html_diff
        # Hooks that write before stock reads the diff: read it when stock does.
        self.diff_now = self.html_diff and (self.has_m2m or self.after_save_instance)
        self.database_error = False

    def __call__(self, work: RowWork) -> None:
        begun = self.begin(work)
        if begun is not None:
            self.end(work, begun)

    def begin(self, work: RowWork) -> _Begun | None:
        """The row up to its ``save_m2m``; None if it failed there."""
        resource = self.resource
        hook_kwargs = row_kwargs(self.kwargs, work) if self.hooks else _NO_KWARGS
        try:
            before = work.original
            if self.html_diff and work.new:
                before = self.blanks.share(before)
            diff = resource.get_diff_class()(resource, before, work.new) if self.diff_now else None
            if work.saved and self.after_save_instance:
                resource.after_save_instance(work.instance, work.row, **hook_kwargs)
        except Exception as exc:
            self._fail(work, exc)
            return None
        return before, diff, hook_kwargs

    def end(
        self,
        work: RowWork,
        begun: _Begun,
        links: ChunkLinks | None = None,
        after: Model | None = None,
        diff_links: DiffLinks | None = None,
    ) -> None:
        """The row from its ``save_m2m`` on (with ``links``, already written but its errors);
        a deferred diff compares with ``after`` (a snapshot of the instance) if given, and
        shows ``diff_links``' links if given."""
        resource = self.resource
        result = work.result
        instance = work.instance
        before, diff, hook_kwargs = begun
        try:
            if work.saved and self.has_m2m:
                if links is None:
                    resource.save_m2m(instance, work.row, **hook_kwargs)
                else:
                    links.raise_for(work)
            result.add_instance_info(instance)
            if resource._store_instance:
                result.instance = instance
            if diff is not None:
                diff.compare_with(resource, instance)
                result.defer_diff_rendering(diff)
            elif self.html_diff:
                after_row = instance if after is None else after
                result.defer_diff(resource, before, after_row, work.new, diff_links)
            if self.diff and not work.new:
                result.original = work.original
            if self.after_import_row:
                resource.after_import_row(work.row, result, **hook_kwargs)
        except Exception as exc:
            self._fail(work, exc)

    def _fail(self, work: RowWork, exc: Exception) -> None:
        self.database_error = isinstance(exc, DatabaseError)
        fail(self.resource, work, exc)


#: What :meth:`RowFinisher.begin` hands to :meth:`RowFinisher.end`: the diff's
#: snapshot, the diff (when read before ``save_m2m``) and the hooks' arguments.
_Begun = tuple[Any, Any, dict[str, Any]]
