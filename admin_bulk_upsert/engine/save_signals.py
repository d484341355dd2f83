"""Write a chunk in bulk with ``pre_save``/``post_save`` sent per row around the write.

This is the write of an import whose model has save receivers but no ``save()``
doing real work (see :mod:`.write_mode`). Stock saves each row with
``instance.save()``, whose ``save_base`` sends ``pre_save`` before the row is
written and ``post_save`` after; here, inside one savepoint (the caller's, when
one already covers the chunk):

1. ``pre_save`` for each saving row, in file order, with stock's arguments
   (``sender`` the instance's class, ``instance`` the row's instance,
   ``raw=False``, ``using``, ``update_fields=None``): values a receiver sets on
   the instance are what the bulk write writes (field ``pre_save`` hooks such
   as ``auto_now`` run after the receivers, as in ``save_base``);
2. the bulk write (:func:`.bulk_write.write_chunk`), which gives every instance
   its pk and its saved state (``_state.adding`` false, ``_state.db``);
3. ``post_save`` for each saving row, in file order, with ``created`` true for
   a row stock inserts.

A receiver the project replaced per chunk (:func:`.chunk_receivers.replace_receiver_per_chunk`,
the django-simple-history adapter) is not called per row: its replacement is
called once for the chunk's rows, at the receiver's place among the others.
Either way a chunk reads its receivers once and calls them as ``Signal.send``
does, without ``send`` per row (:func:`.chunk_receivers.chunk_steps`). Without
``post_save`` receivers, the rows' results may be finished while the database
writes the chunk, as for a model without receivers.

The only difference from stock is the interleaving: within a chunk, every
row's ``pre_save`` comes before the write and every ``post_save`` after it, so
a receiver reading other rows of the same table sees them at chunk granularity
(and a receiver connected or disconnected by a receiver takes effect from the
next chunk).

If a receiver raises (anything), the savepoint is rolled back and
:class:`ChunkWriteError` is raised: the caller replays the chunk row by row
the stock way, so the failure lands on its row with stock's message. A chunk
where a key repeats (:attr:`RowWork.follows`) raises :class:`RepeatedKey`
before anything is sent: stock reads that record back after the earlier row's
save and receivers, so it is replayed too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import signals
from django.dispatch import Signal

from .bulk_write import ChunkWriteError
from .chunk_receivers import Step, chunk_steps, run_steps
from .per_row_save import RepeatedKey
from .planning import ChunkPlan


def write_with_signals(
    plan: ChunkPlan,
    using: str,
    write: Callable[[Callable[[], None] | None], None],
    meanwhile: Callable[[], None] | None = None,
    savepoint: bool = True,
) -> None:
    """Send ``pre_save`` per saving row, run ``write(meanwhile)``, send ``post_save`` per row.

    A receiver given a per-chunk replacement (:mod:`.chunk_receivers`) is not
    called per row; its replacement is called once, at its place among the
    signal's receivers.

    ``meanwhile`` (finishing the rows' results) is handed to the write, which may
    run it while the database works (:func:`.bulk_write.write_chunk`), only when
    ``post_save`` has no receivers for the chunk: otherwise they run between the
    write and the results, as in stock. ``savepoint=False`` is for a caller whose
    own savepoint already covers the chunk (rolled back when this raises).
    """
    if any(work.follows for work in plan.rows):
        raise RepeatedKey("a key is repeated within the chunk")
    saving = [(work.instance, work.new) for work in plan.rows if work.saved]
    pre_save, post_save = signals.pre_save, signals.post_save
    senders = {type(instance) for instance, _new in saving}
    sender = senders.pop() if len(senders) == 1 else None
    pre_steps = None if sender is None else chunk_steps(pre_save, sender)
    post_steps = None if sender is None else chunk_steps(post_save, sender)
    # Model.save_base's arguments, in its order.
    pre_arguments = [
        {"instance": instance, "raw": False, "using": using, "update_fields": None}
        for instance, _new in saving
    ]
    try:
        with transaction.atomic(using=using, savepoint=savepoint):
            instances = [instance for instance, _new in saving]
            _send(pre_save, pre_steps, sender, instances, pre_arguments, using)
            if post_steps == []:  # no post_save receiver: nothing runs after the write
                write(meanwhile)
                return
            write(None)
            post_arguments = [
                {
                    "instance": instance,
                    "created": new,
                    "update_fields": None,
                    "raw": False,
                    "using": using,
                }
                for instance, new in saving
            ]
            _send(post_save, post_steps, sender, saving, post_arguments, using)
    except ChunkWriteError:
        raise
    except Exception as exc:
        raise ChunkWriteError(exc) from exc


def _send(
    signal: Signal,
    steps: list[Step] | None,
    sender: type | None,
    rows: list[Any],
    arguments: list[dict[str, Any]],
    using: str,
) -> None:
    """``signal`` for the chunk's rows (``arguments[i]`` is row ``i``'s ``send``): the
    chunk's steps (:mod:`.chunk_receivers`), or ``send()`` per row without them."""
    if steps is None:
        for named in arguments:
            signal.send(sender=type(named["instance"]), **named)
    else:
        run_steps(signal, steps, sender, rows, arguments, using)
