"""Per-chunk replacements of ``pre_save``/``post_save`` receivers: one call per chunk.

A receiver whose library has a bulk form (an audit trail that can write its rows
with one ``bulk_create``, a search index that takes a batch) can be given a
replacement with :func:`replace_receiver_per_chunk`. When an import writes a
chunk in bulk with the save signals (:mod:`.save_signals`), that receiver is not
called per row: ``replacement(sender, rows, using)`` is called once for the
chunk, with its saving rows in file order (``pre_save``: the instances, before
the write; ``post_save``: ``(instance, created)`` pairs, after it).

The signal's other receivers are still called per row, in order, with stock's
arguments. The live receivers are read in their connection order and cut into
steps: consecutive receivers that are not replaced form one step, called for
row 1, then row 2, ... (as ``Signal.send`` per row would call them); each
replaced receiver is a step of its own, its replacement called once. So for any
one row, the receivers (replacements included) run in stock's order; what
changes, as on the signals path already, is only that a step runs for the whole
chunk before the next step starts.

A chunk reads its receivers once (:func:`live_receivers`, what each row's
``Signal.send`` would read) and calls them itself, with ``send``'s arguments and in
its order, whether or not one is replaced: a receiver connected or disconnected by
another receiver while a chunk is sent takes effect from the next chunk.

Nothing is replaced (every receiver is sent per row with ``Signal.send``) for a
signal with async receivers, or a chunk whose rows are not all of one class. On the
``save()`` path and when a chunk is replayed row by row, the receiver itself
runs per row, as in stock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from django.db.models import signals
from django.dispatch import Signal
from django.dispatch.dispatcher import _make_id

#: ``replacement(sender, rows, using)``.
Replacement = Callable[[type, list[Any], str], Any]

#: ``(id(signal), receiver id)`` -> ``(receiver, replacement)``. The receiver is kept
#: so that the ids it is known by (its own, or its object's and function's) stay valid.
_REPLACEMENTS: dict[tuple[int, Any], tuple[Any, Replacement]] = {}


def replace_receiver_per_chunk(
    signal: Signal, receiver: Callable[..., Any], replacement: Replacement | None
) -> None:
    """During bulk imports, call ``replacement`` once per chunk instead of ``receiver`` per row.

    ``signal`` is ``pre_save`` or ``post_save``; ``receiver`` is the connected
    receiver itself (a function, or a bound method: any bound method of the same
    object and function is the same receiver, as for ``Signal.disconnect``),
    whatever sender it was connected for. ``replacement(sender, rows, using)``
    gets the model class, the chunk's saving rows in file order (the instances
    for ``pre_save``, ``(instance, created)`` pairs for ``post_save``) and the
    database alias; it must do what the receiver would do for each of those rows.
    If it raises, the chunk is rolled back and replayed row by row the stock way,
    the receiver itself running per row. ``replacement=None`` removes the
    replacement. The receiver is kept alive while it is replaced.
    """
    if signal is not signals.pre_save and signal is not signals.post_save:
        raise ValueError("only pre_save and post_save receivers can be replaced per chunk")
    key = (id(signal), _make_id(receiver))
    if replacement is None:
        _REPLACEMENTS.pop(key, None)
        return
    if not callable(replacement):
        raise TypeError(f"the replacement must be callable, not {replacement!r}")
    _REPLACEMENTS[key] = (receiver, replacement)


def replacement_for(signal: Signal, receiver: Any) -> Replacement | None:
    """The replacement registered for ``receiver`` of ``signal``, if any."""
    found = _REPLACEMENTS.get((id(signal), _make_id(receiver)))
    return None if found is None else found[1]


@dataclasses.dataclass(frozen=True)
class Step:
    """Receivers called per row, in order, or one replacement called once for the chunk."""

    receivers: tuple[Callable[..., Any], ...] = ()
    replacement: Replacement | None = None


def live_receivers(signal: Signal, sender: type) -> tuple[list[Any], list[Any]] | None:
    """The sync and async receivers ``signal.send(sender=sender)`` would call now, in its
    order; ``None`` where Django's private ``Signal._live_receivers`` cannot be read.

    The one place the engine reads that private API (it names the receivers for the
    log and the checks, finds simple-history's and cuts a chunk's sends into steps): if
    a Django version changes it, the callers fall back to what the public API does.
    """
    try:
        sync_receivers, async_receivers = signal._live_receivers(sender)
        return list(sync_receivers), list(async_receivers)
    except Exception:  # a private API: the callers do without rather than fail an import
        return None


def chunk_steps(signal: Signal, sender: type) -> list[Step] | None:
    """The steps sending ``signal`` for a chunk of ``sender`` rows takes (none at all
    without receivers), or ``None`` for ``signal.send()`` per row.

    The receivers are read once for the chunk, as each row's ``send`` would read them
    (:func:`live_receivers`): a chunk's rows call the same receivers, in ``send``'s
    order, with ``send``'s arguments, without ``send`` reading them again per row. A
    signal with async receivers (which ``send`` runs through ``async_to_sync``), or
    whose receivers cannot be read, is sent with ``send()`` per row.
    """
    found = live_receivers(signal, sender)
    if found is None or found[1]:
        return None
    steps: list[Step] = []
    run: list[Callable[..., Any]] = []
    for receiver in found[0]:
        replacement = replacement_for(signal, receiver) if _REPLACEMENTS else None
        if replacement is None:
            run.append(receiver)
            continue
        if run:
            steps.append(Step(receivers=tuple(run)))
            run = []
        steps.append(Step(replacement=replacement))
    if run:
        steps.append(Step(receivers=tuple(run)))
    return steps


def run_steps(
    signal: Signal,
    steps: Sequence[Step],
    sender: type,
    rows: list[Any],
    arguments: Sequence[dict[str, Any]],
    using: str,
) -> None:
    """Run ``steps`` for a chunk: ``arguments[i]`` is what row ``i``'s ``send`` passes."""
    for step in steps:
        if step.replacement is not None:
            step.replacement(sender, rows, using)
            continue
        for named in arguments:
            for receiver in step.receivers:
                receiver(signal=signal, sender=sender, **named)
