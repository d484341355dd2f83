"""Finishing a chunk whose many-to-many links are written set-based, laid around its write.

Stock finishes each row right after saving it: the row's ``save_m2m`` (its
``.set()``), then its result and diff. For a chunk whose links are written
set-based (:mod:`.m2m_links`), the same work is laid around the chunk's write so
that Python and the database work at the same time where they can (PostgreSQL,
:mod:`.statement_thread`):

1. before the write, for bulk writes: the chunk's cells are resolved to related
   records, the updated records' current links read and the related records the
   diff shows read in order. The write touches neither table, and nothing runs
   between two rows' ``save_m2m`` (:func:`.m2m_links.bulk_columns`). With the save
   signals, this waits until the write and its receivers are done, as before;
2. while the database updates the chunk's records (the write's ``meanwhile``,
   once every row has its pk): the links each record ends with, and what each
   row's diff reads before and after its ``save_m2m``; Python only. A diff that
   is rendered later and shows only the chunk's columns keeps those links
   (:class:`.m2m_diff.DiffLinks`) and gives them to copies of the row's
   instances when it is rendered, if it ever is;
3. after the write: the removed links are deleted, then the added ones inserted
   on a helper thread while each row's result is finished, as stock does after
   its ``save_m2m`` (a query a result makes waits for the insert).

If a statement fails, :class:`.finishing.FinishBroken` is raised: the chunk's
savepoint is rolled back and the chunk replayed row by row the stock way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from .finishing import FAILED, BlankSnapshots, FinishBroken, RowFinisher, finish_rows
from .m2m_diff import (
    DiffLinks,
    diff_attributes,
    diff_reads_only,
    forget_links,
    prefetch_links,
    snapshot,
)
from .m2m_links import ChunkLinks, chunk_links
from .planning import RowWork
from .statement_thread import helper_threads_allowed, in_background, statement_sent
from .write_mode import BULK, SAVE_PER_ROW

logger = logging.getLogger(__name__)


def linked_finish(
    resource: Any,
    chunk: Sequence[RowWork],
    kwargs: dict[str, Any],
    blanks: BlankSnapshots,
    connection: BaseDatabaseWrapper,
    write_how: str,
) -> LinkedFinish | None:
    """The chunk's finishing with its links written set-based, to be started before the
    chunk's write; ``None`` where each row's ``save_m2m`` runs (:func:`.finishing.finish_rows`).

    Called inside the savepoint that covers the chunk's write and finish.
    """
    finish_row = RowFinisher(resource, kwargs, blanks)
    if not finish_row.has_m2m or write_how == SAVE_PER_ROW:
        return None
    linked = LinkedFinish(finish_row, chunk, connection, write_how)
    if write_how == BULK and not linked.resolve():
        return None
    return linked


class LinkedFinish:
    """One chunk's rows finished with its links written set-based (see the module)."""

    def __init__(
        self,
        finish_row: RowFinisher,
        chunk: Sequence[RowWork],
        connection: BaseDatabaseWrapper,
        write_how: str,
    ) -> None:
        self.finish_row = finish_row
        self.chunk = chunk
        self.connection = connection
        self.write_how = write_how
        self.rows = [work for work in chunk if work.result.import_type not in FAILED]
        self.links: ChunkLinks | None = None
        self.resolved = False
        self.prepared = False
        self.started: list[tuple[RowWork, Any]] = []
        # The many-to-many attributes the diff reads, whether the diff is deferred, those
        # known from the chunk's links (their related records ranked) and those joined.
        self.read: list[str] = []
        self.defer = False
        self.known: list[str] = []
        self.joined: list[str] = []
        self.ranks: dict[str, Any] = {}
        # Whether each deferred diff keeps its links until it is rendered (DiffLinks, by
        # id of the row's RowWork) rather than on snapshots taken now.
        self.lazy = False
        self.diff_links: dict[int, DiffLinks] = {}

    def resolve(self) -> bool:
        """Resolve the cells, read the stored links and the diff's related records (once);
        False where the chunk keeps each row's ``save_m2m``."""
        if self.resolved:
            return self.links is not None
        self.resolved = True
        finish_row = self.finish_row
        saved = [work for work in self.rows if work.saved]
        links = chunk_links(finish_row.resource, saved, self.connection, self.write_how)
        if links is None:
            return False
        self.read = diff_attributes(finish_row.resource) if finish_row.diff_now else []
        # With every link the diff shows held by a snapshot, the diff is rendered when
        # first read, as for a model without many-to-many columns.
        self.defer = diff_reads_only(finish_row.resource, self.read)
        if self.defer:
            finish_row.diff_now = False
        # The links of the chunk's columns are known from the chunk (one query orders the
        # related records); other many-to-many fields the diff shows are read with a join.
        self.known = [attribute for attribute in self.read if attribute in links.attributes()]
        self.joined = [attribute for attribute in self.read if attribute not in self.known]
        self.lazy = self.defer and not self.joined
        try:
            links.read_current([work.instance.pk for work in self.rows if not work.new])
            self.ranks = links.ranked(self.known) if self.known else {}
        except DatabaseError as exc:
            logger.info("Reading the chunk's many-to-many links stopped (%s)", exc)
            raise FinishBroken from exc
        self.links = links
        return True

    def before_links(self) -> None:
        """Everything up to the links' statements, once every row has its pk (the write's
        ``meanwhile``; done at most once)."""
        if self.prepared:
            return
        self.prepared = True
        if not self.resolve():
            return
        links = self.links
        assert links is not None
        finish_row, read = self.finish_row, self.read
        pks = [work.instance.pk for work in self.rows if work.saved]
        if None in pks or len(set(pks)) != len(pks):
            raise FinishBroken  # not what the write leaves; replay rather than guess
        if self.lazy:
            # The diff shows only the chunk's columns, and is rendered later if at all:
            # each row keeps what it shows, given to copies of its instances on rendering.
            for work in self.rows:
                self.started.append((work, finish_row.begin(work)))
            self._plan_writes(links)
            alias = self.connection.alias
            for work, begun in self.started:
                if begun is None:
                    continue
                before = () if work.new else tuple(links.shown(work.instance.pk, self.ranks, False))
                after = tuple(links.shown(work.instance.pk, self.ranks, True))
                self.diff_links[id(work)] = DiffLinks(alias, before, after)
            return
        stored = [work.original for work in self.rows if not work.new and work.original is not None]
        links.attach(stored, self.ranks, after=False)
        prefetch_links(stored, self.joined)
        for work in self.rows:
            begun = finish_row.begin(work)
            if begun is not None and self.defer and not work.new:
                begun = (snapshot(begun[0]), None, begun[2])
            self.started.append((work, begun))
            if not work.new:
                forget_links(work.original, read)
        finished = self._plan_writes(links)
        links.attach(finished, self.ranks, after=True)
        prefetch_links(finished, self.joined)

    def _plan_writes(self, links: ChunkLinks) -> list[Model]:
        """Plan the links of the rows begun; their instances."""
        begun_rows = [work for work, begun in self.started if begun is not None]
        links.plan_writes([work for work in begun_rows if work.saved])
        return [work.instance for work in begun_rows]

    def finish(self) -> None:
        """Write the links and finish every row's result, once the chunk is written."""
        try:
            self.before_links()
        except DatabaseError as exc:
            logger.info("Reading the chunk's many-to-many links stopped (%s)", exc)
            raise FinishBroken from exc
        links = self.links
        if links is None:
            finish_rows(
                self.finish_row.resource,
                self.chunk,
                self.finish_row.kwargs,
                self.finish_row.blanks,
                self.connection,
            )
            return
        connection = self.connection
        try:
            links.delete_removed()
            statements = links.insert_statements()
            with connection.cursor() as cursor:
                if len(statements) == 1 and helper_threads_allowed(connection):
                    # One statement: a query a row's result makes is sent after it.
                    ((sql, params),) = statements
                    inserted = in_background(
                        lambda: cursor.execute(sql, params), "links", statement_sent(connection)
                    )
                    try:
                        self._end_rows()
                    finally:
                        inserted()
                else:
                    for sql, params in statements:
                        cursor.execute(sql, params)
                    self._end_rows()
        except DatabaseError as exc:
            logger.info("Writing the chunk's many-to-many links stopped (%s)", exc)
            raise FinishBroken from exc

    def _end_rows(self) -> None:
        """Each row from its ``save_m2m`` on, in file order."""
        finish_row, links, read = self.finish_row, self.links, self.read
        lazy, defer, diff_links = self.lazy, self.defer, self.diff_links
        for work, begun in self.started:
            if begun is not None:
                if lazy:
                    finish_row.end(work, begun, links, diff_links=diff_links.get(id(work)))
                else:
                    after = snapshot(work.instance) if defer else None
                    finish_row.end(work, begun, links, after)
                    forget_links(work.instance, read)
            if finish_row.database_error or self.connection.needs_rollback:
                raise FinishBroken
