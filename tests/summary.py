"""The last line of ``bash tests/run.sh``: ``N passed, N failed, N skipped`` over every session.

Reads nox's JSON report (``nox --report``) and, for each session in it, the report the session
wrote in test-artifacts/ under its own name (see ``artifact()`` in noxfile.py): pytest's JUnit
XML, or a conformance log whose lines start with ``ok``, ``FAILED`` or ``skipped``. A session
that failed without a failing test counted (lint, a build, a crash, a timeout, a usage error)
counts as one failure, as does each ``--failed-step``, so that the failed count is zero exactly
when the exit status is. With ``--require-tests`` (CI), a run in which no test ran fails.
Not a pytest module (its name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def artifact_stem(session_name: str) -> str:
    """The file name noxfile.py's ``artifact()`` gives a session's report, without suffix."""
    return re.sub(r"[^A-Za-z0-9.]+", "-", session_name).strip("-")


def junit_counts(path: Path) -> tuple[int, int, int]:
    """``(passed, failed, skipped)`` of a JUnit XML report; errors count as failures."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    tests = failures = skipped = 0
    for suite in suites:
        tests += int(suite.get("tests", 0))
        failures += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return max(tests - failures - skipped, 0), failures, skipped


def log_counts(path: Path) -> tuple[int, int, int]:
    """``(passed, failed, skipped)`` of a conformance log: one line per compared run."""
    lines = path.read_text(errors="replace").splitlines()
    return tuple(
        sum(line.startswith(f"{word} ") for line in lines) for word in ("ok", "FAILED", "skipped")
    )  # type: ignore[return-value]


def session_counts(session_name: str) -> tuple[int, int, int]:
    stem = artifact_stem(session_name)
    junit, log = ARTIFACTS / f"{stem}.xml", ARTIFACTS / f"{stem}.txt"
    try:
        if junit.is_file() and junit.stat().st_size:
            return junit_counts(junit)
        if log.is_file():
            return log_counts(log)
    except (ET.ParseError, OSError) as exc:
        print(f"{session_name}: its report could not be read ({exc}).")
    return 0, 0, 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="nox's JSON report")
    parser.add_argument("--failed-step", action="append", default=[], help="counts as a failure")
    parser.add_argument("--require-tests", action="store_true", help="no test ran: a failure")
    args = parser.parse_args(argv)

    failed_steps = list(args.failed_step)
    step_failures = len(failed_steps)
    notes = []
    passed = failed = skipped = 0
    try:
        sessions = json.loads(args.report.read_text())["sessions"]
    except (OSError, ValueError, KeyError) as exc:
        sessions = []
        failed_steps.append(f"nox wrote no report ({exc})")
        step_failures += 1
    for session in sessions:
        name = session["signatures"][0] if session.get("signatures") else session["name"]
        result = session.get("result")
        counts = session_counts(name)
        passed, failed, skipped = passed + counts[0], failed + counts[1], skipped + counts[2]
        reason = session.get("reason") or ""
        if result == "skipped":
            notes.append(f"Skipped {name}: {reason}")
        elif result != "success":
            if counts[1]:
                failed_steps.append(f"{name} ({counts[1]} failed)")
            else:
                failed_steps.append(f"{name} ({reason or result}, no test reported failing)")
                step_failures += 1
    if args.require_tests and passed + failed == 0:
        # A green CI run that tested nothing would hide a broken collection.
        failed_steps.append("no test ran")
        step_failures += 1
    failed += step_failures

    print("\n==> Summary")
    for line in notes:
        print(line)
    for step in failed_steps:
        print(f"FAILED: {step}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 0 if failed == 0 and not failed_steps else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
