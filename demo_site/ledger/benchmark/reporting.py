"""The benchmark's table, CSV file, Markdown file and chart, and the machine they ran on."""

from __future__ import annotations

import csv
import os
import platform
import sqlite3
import subprocess
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import django
import import_export
from django.db import connections

from ledger.benchmark.measuring import Measurement


@dataclass(frozen=True)
class ResultRow:
    """One line of the table: a contender on one file size, measured or skipped."""

    rows: int
    key: str
    label: str
    measurement: Measurement | None
    floor_seconds: float | None
    totals: str
    state: str
    note: str = ""

    @property
    def rows_per_second(self) -> float | None:
        if self.measurement is None or self.measurement.seconds <= 0:
            return None
        return self.rows / self.measurement.seconds

    @property
    def ratio(self) -> float | None:
        if self.measurement is None or not self.floor_seconds:
            return None
        return self.measurement.seconds / self.floor_seconds


_COLUMNS = (
    "rows",
    "contender",
    "seconds",
    "queries",
    "rows/s",
    "x floor",
    "peak MiB",
    "reported",
    "end state",
)


def _cells(row: ResultRow) -> list[str]:
    m = row.measurement
    if m is None:
        return [f"{row.rows:,}", row.label, "skipped", "", "", "", "", "", row.note]
    peak = "-" if m.peak_bytes is None else f"{m.peak_bytes / 2**20:,.1f}"
    return [
        f"{row.rows:,}",
        row.label,
        f"{m.seconds:,.2f}",
        f"{m.queries:,}",
        f"{row.rows_per_second:,.0f}" if row.rows_per_second else "-",
        f"{row.ratio:,.2f}" if row.ratio is not None else "-",
        peak,
        row.totals,
        row.state,
    ]


def text_table(rows: Sequence[ResultRow]) -> str:
    """A fixed-width table for the terminal."""
    body = [list(_COLUMNS), *(_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in body) for i in range(len(_COLUMNS))]
    numeric = {0, 2, 3, 4, 5, 6}
    lines = []
    for n, line in enumerate(body):
        cells = [
            cell.rjust(w) if i in numeric and n else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: Sequence[ResultRow]) -> str:
    numeric = {0, 2, 3, 4, 5, 6}
    align = ["---:" if i in numeric else "---" for i in range(len(_COLUMNS))]
    lines = ["| " + " | ".join(_COLUMNS) + " |", "| " + " | ".join(align) + " |"]
    lines.extend("| " + " | ".join(_cells(r)) + " |" for r in rows)
    return "\n".join(lines)


def write_csv(path: Path, rows: Sequence[ResultRow]) -> None:
    """Raw figures (unrounded) for anyone who wants to plot them differently."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "rows",
                "contender",
                "label",
                "seconds",
                "all_seconds",
                "queries",
                "rows_per_second",
                "ratio_to_floor",
                "peak_memory_bytes",
                "reported",
                "end_state",
                "note",
            ]
        )
        for r in rows:
            m = r.measurement
            writer.writerow(
                [
                    r.rows,
                    r.key,
                    r.label,
                    "" if m is None else f"{m.seconds:.4f}",
                    "" if m is None else " ".join(f"{s:.4f}" for s in m.all_seconds),
                    "" if m is None else m.queries,
                    "" if r.rows_per_second is None else f"{r.rows_per_second:.1f}",
                    "" if r.ratio is None else f"{r.ratio:.3f}",
                    "" if m is None or m.peak_bytes is None else m.peak_bytes,
                    r.totals,
                    r.state,
                    r.note,
                ]
            )


def draw_chart(path: Path, rows: Sequence[ResultRow], title: str) -> None:
    """Seconds against rows, both on log scales, one line per contender."""
    import matplotlib

    matplotlib.use("Agg")  # no display here; must come before pyplot
    from matplotlib import pyplot
    from matplotlib.ticker import NullLocator

    figure, axes = pyplot.subplots(figsize=(8, 5), dpi=110)
    labels = list(dict.fromkeys(r.label for r in rows))
    for label in labels:
        points = [
            (r.rows, r.measurement.seconds) for r in rows if r.label == label and r.measurement
        ]
        if not points:
            continue
        xs, ys = zip(*sorted(points), strict=True)
        style = "--" if label.startswith("floor") else "-"
        axes.plot(xs, ys, style, marker="o", label=label)
    sizes = sorted({r.rows for r in rows})
    axes.set_xscale("log")
    axes.set_yscale("log")
    axes.set_xticks(sizes, [f"{size:,}" for size in sizes])
    # Only the measured sizes on the x axis, written out in full.
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xlabel("rows in the file (half new, half existing), log scale")
    axes.set_ylabel("seconds, log scale")
    axes.set_title("\n".join(textwrap.wrap(title, 90)), fontsize=9)
    axes.grid(True, which="both", linewidth=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def database_version(alias: str) -> str:
    connection = connections[alias]
    vendor = connection.vendor
    if vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = str(cursor.fetchone()[0])
    if vendor == "postgresql":
        return " ".join(version.split()[:2])
    return f"MariaDB {version}" if "mariadb" in version.lower() else f"MySQL {version}"


def database_slug(alias: str) -> str:
    """``sqlite``, ``postgresql``, ``mariadb`` or ``mysql``: names the result files."""
    return database_version(alias).split()[0].lower()


def machine_description(alias: str) -> str:
    """CPU count, memory, Python, Django, DIE and database versions, on one line."""
    return (
        f"{os.cpu_count()} CPUs, {_total_memory()} RAM, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}, Django {django.get_version()}, "
        f"django-import-export {import_export.__version__}, {database_version(alias)}, "
        f"load average {_load_average()} at the start, checkout {_checkout()}"
    )


def _checkout() -> str:
    """The commit measured (``+changes`` when the tree differs from it)."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", "../../.."],
            cwd=here,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{commit or 'unknown'}{' +changes' if changed else ''}"


def _load_average() -> str:
    # Other processes on a 2-CPU machine move every figure; say how busy it was.
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def _total_memory() -> str:
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 2**20:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def shapes_markdown_table(rows: Sequence[ResultRow], shapes: Sequence[tuple[str, str]]) -> str:
    """Per size and shape: the twin's, the shape's and stock's seconds and their ratios."""
    by_key = {(r.rows, r.key): r for r in rows}

    def seconds(size: int, key: str) -> float | None:
        row = by_key.get((size, key))
        return None if row is None or row.measurement is None else row.measurement.seconds

    def queries(size: int, key: str) -> str:
        row = by_key.get((size, key))
        return "-" if row is None or row.measurement is None else f"{row.measurement.queries:,}"

    def shown(value: float | None, unit: str = "") -> str:
        return "skipped" if value is None else f"{value:,.2f}{unit}"

    lines = [
        "| rows | shape | plain twin s | shape s | stock s | shape / twin | stock / shape "
        "| queries twin / shape / stock | end states |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for size in sorted({r.rows for r in rows}):
        for key, title in shapes:
            keys = (f"{key}_twin", key, f"{key}_die")
            if (size, key) not in by_key:
                continue
            twin, shape, stock = (seconds(size, k) for k in keys)
            states = {by_key[size, k].state for k in keys if by_key[size, k].measurement}
            lines.append(
                f"| {size:,} | {key}: {title} | {shown(twin)} | {shown(shape)} | {shown(stock)} "
                f"| {shown(shape / twin if shape and twin else None, 'x')} "
                f"| {shown(stock / shape if stock and shape else None, 'x')} "
                f"| {' / '.join(queries(size, k) for k in keys)} "
                f"| {', '.join(sorted(states))} |"
            )
    return "\n".join(lines)
