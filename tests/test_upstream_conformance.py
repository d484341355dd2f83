"""The conformance comparison (tests/upstream): what fails the run and what does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.upstream.differences import Difference, read_differences
from tests.upstream.run import Run, compare


def run(mode: str, db: str = "sqlite", **outcomes: str) -> Run:
    return Run(db, mode, 0.0, Path("log"), outcomes=dict(outcomes))


def test_the_shipped_list_parses_and_gives_each_test_a_reason():
    differences = read_differences()
    assert differences
    assert all(d.reason for d in differences.values())


def test_a_test_passing_on_stock_only_is_unexpected_unless_listed():
    stock = run("stock", a="pass", b="pass", c="fail")
    ours = run("resource", a="fail", b="error", c="fail")
    listed = {"b": Difference("b", "resource", "deliberate")}

    result = compare(stock, ours, listed)

    assert result.unexpected == ["a (fail)"]
    assert result.listed == ["b"]
    assert (result.run, result.stock_passed, result.ours_passed) == (3, 2, 0)


def test_a_listed_test_that_passes_is_stale():
    listed = {"a": Difference("a", "resource", "deliberate")}

    result = compare(run("stock", a="pass"), run("admin", a="pass"), listed)

    assert result.stale == ["a"]


@pytest.mark.parametrize(("mode", "db", "applies"), [
    ("resource", "sqlite", True),
    ("admin", "sqlite", True),
    ("admin", "postgresql", False),
])  # fmt: skip
def test_a_resource_entry_covers_the_admin_run_on_its_databases(mode, db, applies):
    entry = Difference("a", "resource", "deliberate", frozenset({"sqlite", "mariadb"}))
    assert entry.applies_to(mode, db) is applies


def test_a_malformed_line_is_refused(tmp_path):
    path = tmp_path / "differences.txt"
    path.write_text("core.tests.x | resource@oracle | reason\n")
    with pytest.raises(ValueError, match="differences.txt:1"):
        read_differences(path)
