"""Time, query count and peak memory of contenders on one workload.

The contenders' timed runs are interleaved, round by round (floor, import,
dry run, floor, import, ...): on a shared machine whose speed drifts over
minutes, timing one contender's runs back to back and then the next's puts
the drift into their ratio; interleaved, each contender's median comes from
the same stretches of time.

Timing and query counting share a pass: counting through
``connection.execute_wrapper`` costs a function call per query, noise next to
a database round trip. Memory is measured in a separate pass, because
tracemalloc slows Python code several times over and would distort the time.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections
from import_export.results import Result

T = TypeVar("T")


@dataclass(frozen=True)
class Measurement:
    """One contender on one file size."""

    seconds: float
    queries: int
    #: Peak of memory allocated by Python during the run; None when not measured.
    peak_bytes: int | None
    #: Every timed repetition, in seconds; ``seconds`` is their median.
    all_seconds: tuple[float, ...]


class QueryCounter:
    """Counts statements sent through Django's cursor on one connection.

    A ``cursor.executemany()`` counts once: it is one call, whatever the driver
    does with it. Statements sent on the driver's own cursor (as PostgreSQL's
    COPY has to be) do not pass through Django and are not counted.
    """

    def __init__(self) -> None:
        self.count = 0

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def counting_queries(alias: str) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    with connections[alias].execute_wrapper(counter):
        yield counter


@dataclass(frozen=True)
class Outcome:
    """What an import returned: DIE's ``Result``, if it returns one.

    The result is kept, not summed up inside the timed call: the clock stops
    when ``import_data`` returns, and freeing its rows' results (or checking
    them for errors) is the caller's later work, as freeing the floor's
    instances is.
    """

    result: Result | None = None

    @property
    def totals(self) -> dict[str, int] | None:
        return None if self.result is None else dict(self.result.totals)

    def check(self) -> None:
        """Raise if the import reported errors on the sample file (it never should)."""
        result = self.result
        if result is not None and (result.has_errors() or result.has_validation_errors()):
            raise RuntimeError("The import reported errors on the sample file.")

    def summary(self) -> str:
        totals = self.totals
        if totals is None:
            return "-"
        shown = {k: v for k, v in totals.items() if v}
        return " ".join(f"{k} {v}" for k, v in shown.items()) or "nothing"


@dataclass(frozen=True)
class Timed:
    """One contender for :func:`measure_interleaved`."""

    run: Callable[[Any], Any]
    #: Puts the database back in its starting state; returns what ``run`` takes (untimed).
    reset: Callable[[], Any]
    #: Checks what ``run`` returned (untimed), e.g. that an import reported no error.
    check: Callable[[Any], None] = lambda outcome: None


def measure_interleaved(
    contenders: Sequence[Timed],
    *,
    alias: str,
    repeat: int = 1,
    memory: bool = True,
    after_last: Callable[[int, Any], None] = lambda index, outcome: None,
    on_round: Callable[[int], None] = lambda number: None,
) -> list[tuple[Measurement, Any]]:
    """Time every contender ``repeat`` times, one round of all of them at a time.

    ``after_last(index, outcome)`` runs right after a contender's last run
    (its memory pass, or its run in the last round), while the database
    still holds what that run left. The query count is the first round's.
    """
    timings: list[list[float]] = [[] for _ in contenders]
    queries = [0] * len(contenders)
    outcomes: list[Any] = [None] * len(contenders)
    for number in range(repeat):
        on_round(number + 1)
        for index, contender in enumerate(contenders):
            # The previous run's outcome (an import's Result) is freed here,
            # untimed: the clock covers the call, not the caller's later
            # disposal of what it returned, as it covers none of the floor's.
            outcomes[index] = None
            prepared = contender.reset()
            gc.collect()
            with counting_queries(alias) as counter:
                started = time.perf_counter()
                outcome = contender.run(prepared)
                timings[index].append(time.perf_counter() - started)
            contender.check(outcome)
            outcomes[index] = outcome
            if number == 0:
                queries[index] = counter.count
            if number == repeat - 1 and not memory:
                after_last(index, outcomes[index])
    peaks: list[int | None] = [None] * len(contenders)
    if memory:
        for index, contender in enumerate(contenders):
            outcomes[index] = None
            peaks[index], outcomes[index] = _peak_memory(contender.run, contender.reset)
            contender.check(outcomes[index])
            after_last(index, outcomes[index])
    return [
        (
            Measurement(
                seconds=statistics.median(timings[index]),
                queries=queries[index],
                peak_bytes=peaks[index],
                all_seconds=tuple(timings[index]),
            ),
            outcomes[index],
        )
        for index in range(len(contenders))
    ]


def _peak_memory(run: Callable[[Any], T], reset: Callable[[], Any]) -> tuple[int, T]:
    prepared = reset()
    gc.collect()
    # Started after the preparation: its objects (the floor's instances) are
    # not counted, as they are not timed.
    tracemalloc.start()
    try:
        outcome = run(prepared)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, outcome
