"""Time, query count and peak memory of one contender on one workload.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections

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


def measure(
    run: Callable[[Any], T],
    *,
    reset: Callable[[], Any],
    alias: str,
    repeat: int = 1,
    memory: bool = True,
) -> tuple[Measurement, T]:
    """Run ``run`` ``repeat`` times, then once more under tracemalloc; return the last outcome.

    Before every run ``reset()`` puts the database back in its starting state
    and returns what ``run`` takes (untimed preparation). The query count is
    the first repetition's; every repetition does the same work.
    """
    timings = []
    queries = 0
    outcome: T
    for repetition in range(repeat):
        prepared = reset()
        gc.collect()
        with counting_queries(alias) as counter:
            started = time.perf_counter()
            outcome = run(prepared)
            timings.append(time.perf_counter() - started)
        if repetition == 0:
            queries = counter.count
    peak = None
    if memory:
        peak, outcome = _peak_memory(run, reset)
    measurement = Measurement(
        seconds=statistics.median(timings),
        queries=queries,
        peak_bytes=peak,
        all_seconds=tuple(timings),
    )
    return measurement, outcome


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
