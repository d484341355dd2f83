"""Write a chunk's plan through ``Model.save()``, one row after the other, in file order.

This is the write of an import whose model overrides ``save()`` or has
``pre_save``/``post_save`` receivers (see :mod:`.write_mode`): each saved row
goes through the resource's own ``do_instance_save(instance, is_create)``,
stock's last step (``instance.save(force_insert=<new>)`` on django-import-export
4.4, without ``using``: the router picks the database, as in stock), so
``save()`` and the receivers see the same instances, ``created`` flags and
order as in stock. The lookups and foreign keys were still fetched
in batches by the planning.

The chunk runs inside one savepoint (the caller's, when one covers the chunk),
without one per row. If any ``save()`` raises (any exception: stock records a
``ValueError`` from ``save()`` as an error row too), the savepoint is rolled back
and :class:`ChunkWriteError` is raised; the caller replays the chunk row by row,
the stock way, so the failure lands on its row with stock's message.

A chunk where a row starts from the state an earlier row of the same chunk
left (a repeated key) is not saved here: stock reads that record back after
the earlier ``save()`` and its receivers, which may have changed it, while the
planning built the later row from the earlier row's values in memory. Such a
chunk raises :class:`ChunkWriteError` before saving anything, and is replayed.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .bulk_write import ChunkWriteError, settle
from .planning import ChunkPlan


class RepeatedKey(ChunkWriteError):
    """A row of the chunk follows an earlier row of the same record: replay it the stock way."""


def save_chunk(resource: Any, plan: ChunkPlan, using: str, savepoint: bool = True) -> None:
    """Save each row that stock would save, in file order; every row instance gets its pk.

    ``savepoint=False`` is for a caller whose own savepoint covers the chunk.
    """
    if any(work.follows for work in plan.rows):
        raise RepeatedKey("a key is repeated within the chunk")
    try:
        with transaction.atomic(using=using, savepoint=savepoint):
            for work in plan.rows:
                if work.saved:
                    resource.do_instance_save(work.instance, work.new)
    except Exception as exc:
        raise ChunkWriteError(exc) from exc
    # Snapshots of updated records take the saved record's pk and state, as
    # they do after a bulk write.
    settle(plan, using)
