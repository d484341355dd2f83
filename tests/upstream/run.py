"""Runs django-import-export's own test suite on stock DIE and on admin_bulk_upsert, and compares.

Usage, from the repository root, with the interpreter of the venv to test::

    python -m tests.upstream.run [--db sqlite postgresql mariadb] [--mode resource admin]

For the installed DIE version it downloads DIE's sdist (``pip download``) into
``test-artifacts/upstream/`` and runs its ``tests/`` with Django's test runner
three ways per database: ``stock`` (unchanged), ``resource`` (``ModelResource``
is ``BulkUpsertResource``) and ``admin`` (that, plus ``BulkUpsertAdminMixin`` in
DIE's test admin); see :mod:`.substitution`. A test that passes on stock must
pass in the other modes unless ``differences.txt`` lists it; a listed test that
passes is a stale entry. Either fails the run (exit status 1).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .differences import DATABASES, Difference, read_differences

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "test-artifacts" / "upstream"
#: DIE's settings.py chooses its database from IMPORT_EXPORT_TEST_TYPE.
DIE_TEST_TYPE = {"sqlite": "", "postgresql": "postgres", "mariadb": "mysql-innodb"}
PASSING = frozenset({"pass", "xfail"})
#: Packages DIE's tests import (its ``tests`` extra); without them those tests fail on stock too.
DIE_TEST_MODULES = ("chardet", "pytz", "xlrd", "yaml", "odf")
RUN_TIMEOUT = int(os.environ.get("ADMIN_BULK_UPSERT_CONFORMANCE_TIMEOUT", "900"))


def installed_die_version() -> str:
    from importlib.metadata import version

    return version("django-import-export")


def die_tests_dir(version: str) -> Path:
    """DIE's ``tests/`` folder for ``version``, downloaded and extracted once."""
    target = CACHE / f"django_import_export-{version}"
    if (target / "tests" / "core").is_dir():
        return target / "tests"
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = CACHE / f"django_import_export-{version}.tar.gz"
    if not sdist.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--no-binary", ":all:", "--no-deps",
             f"django-import-export=={version}", "-d", str(CACHE)],
            check=True,
        )  # fmt: skip
    with tarfile.open(sdist) as archive:
        prefix = f"django_import_export-{version}/tests/"
        members = [m for m in archive.getmembers() if m.name.startswith(prefix)]
        archive.extractall(CACHE, members=members, filter="data")
    return target / "tests"


@dataclass
class Run:
    """One run of DIE's suite: each test's outcome, or why there is none."""

    db: str
    mode: str
    seconds: float
    log: Path
    outcomes: dict[str, str] = field(default_factory=dict)
    sanity: list[str] = field(default_factory=list)
    crash: str = ""


def run_suite(tests_dir: Path, version: str, db: str, mode: str) -> Run:
    """DIE's suite in a subprocess; a stock run is reused within one test-artifacts folder."""
    results = CACHE / "results"
    results.mkdir(parents=True, exist_ok=True)
    stem = f"{version}-{_platform()}-{db}-{mode}"
    report, log = results / f"{stem}.json", results / f"{stem}.log"
    if mode == "stock" and report.exists():
        return _read_report(Run(db, mode, 0.0, log), report)
    report.unlink(missing_ok=True)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(tests_dir), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        "IMPORT_EXPORT_TEST_TYPE": DIE_TEST_TYPE[db],
        "ADMIN_BULK_UPSERT_CONFORMANCE_MODE": mode,
        "ADMIN_BULK_UPSERT_CONFORMANCE_REPORT": str(report),
    }
    command = [sys.executable, "-m", "django", "test", "core", "--noinput",
               "--settings=tests.upstream.settings"]  # fmt: skip
    start = time.monotonic()
    with log.open("w", encoding="utf-8") as stream:
        try:
            subprocess.run(
                command, cwd=tests_dir, env=env, stdout=stream, stderr=subprocess.STDOUT,
                timeout=RUN_TIMEOUT,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            return Run(db, mode, RUN_TIMEOUT, log, crash=f"timed out after {RUN_TIMEOUT}s")
    run = Run(db, mode, time.monotonic() - start, log)
    if not report.exists():
        run.crash = "no report written (the test run did not get to run the tests)"
        return run
    return _read_report(run, report)


def _platform() -> str:
    """What else a stock run's outcome depends on: Django's and Python's versions."""
    import django

    return f"django{django.get_version()}-py{sys.version_info[0]}.{sys.version_info[1]}"


def _read_report(run: Run, report: Path) -> Run:
    data = json.loads(report.read_text(encoding="utf-8"))
    run.outcomes, run.sanity = data["tests"], data["sanity"]
    return run


@dataclass
class Comparison:
    run: int = 0
    stock_passed: int = 0
    ours_passed: int = 0
    listed: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)


def compare(stock: Run, ours: Run, differences: dict[str, Difference]) -> Comparison:
    result = Comparison(run=len(stock.outcomes))
    for test_id, outcome in sorted(stock.outcomes.items()):
        ours_outcome = ours.outcomes.get(test_id, "missing")
        stock_ok, ours_ok = outcome in PASSING, ours_outcome in PASSING
        result.stock_passed += stock_ok
        result.ours_passed += stock_ok and ours_ok
        listed = differences.get(test_id)
        if listed is not None and listed.applies_to(ours.mode, ours.db):
            if ours_ok:
                result.stale.append(test_id)
            elif stock_ok:
                result.listed.append(test_id)
        elif stock_ok and not ours_ok:
            result.unexpected.append(f"{test_id} ({ours_outcome})")
    return result


def failure_text(log: Path, test_id: str) -> str:
    """The traceback Django's runner printed for ``test_id``, for the CI log."""
    text = log.read_text(encoding="utf-8", errors="replace")
    test_class, _, method = test_id.rpartition(".")
    # "FAIL: test_x (module.Class.test_x)"; before Python 3.11 "FAIL: test_x (module.Class)".
    headers = {f"{method} ({test_id})", f"{method} ({test_class})", test_id}
    for block in re.split(r"\n={70}\n", text):
        first = block.split("\n", 1)[0]
        if first.startswith(("ERROR:", "FAIL:")) and first.split(": ", 1)[1] in headers:
            return block.strip()
    return f"(no traceback for {test_id} in {log})"


def check_mode(tests_dir: Path, version: str, db: str, mode: str, stock: Run) -> bool:
    """Runs one mode on one database against ``stock``; prints its line; True if it conforms."""
    ours = run_suite(tests_dir, version, db, mode)
    label = f"{mode} on {db} (DIE {version})"
    if ours.crash or ours.sanity:
        print(f"FAILED {label}: {ours.crash or '; '.join(ours.sanity)}; log: {ours.log}")
        return False
    result = compare(stock, ours, read_differences())
    ok = not (result.unexpected or result.stale)
    print(
        f"{'ok' if ok else 'FAILED'} {label}: {result.run} run, {result.stock_passed} pass on "
        f"stock, {result.ours_passed} pass on ours, {len(result.listed)} listed differences "
        f"({ours.seconds:.0f}s; stock {stock.seconds:.0f}s)"
    )
    for test_id in result.unexpected:
        print(f"  passes on stock, not on ours and not listed: {test_id}")
        print("    " + failure_text(ours.log, test_id.rsplit(" (", 1)[0]).replace("\n", "\n    "))
    for test_id in result.stale:
        print(f"  listed in differences.txt for {mode} but passes: {test_id}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", nargs="+", choices=DATABASES, default=list(DATABASES))
    parser.add_argument("--mode", nargs="+", choices=("resource", "admin"), default=None)
    args = parser.parse_args(argv)
    modes = args.mode or ["resource", "admin"]
    missing = [name for name in DIE_TEST_MODULES if not _importable(name)]
    if missing:
        print(f"Note: {', '.join(missing)} missing: the DIE tests needing them fail on stock too.")
    version = installed_die_version()
    tests_dir = die_tests_dir(version)
    ok = True
    for db in args.db:
        if not _reachable(db):
            # As the pytest runs do (tests/conftest.py): a failure only when required.
            word = "FAILED" if os.environ.get("ADMIN_BULK_UPSERT_REQUIRE_DB") else "skipped"
            for mode in modes:
                print(f"{word} {mode} on {db}: its server is not reachable")
            ok = ok and word == "skipped"
            continue
        stock = run_suite(tests_dir, version, db, "stock")
        if stock.crash or stock.sanity:
            print(f"FAILED stock on {db}: {stock.crash or '; '.join(stock.sanity)}; {stock.log}")
            ok = False
            continue
        for mode in modes:
            ok = check_mode(tests_dir, version, db, mode, stock) and ok
    return 0 if ok else 1


def _reachable(db: str) -> bool:
    port = {"postgresql": 5432, "mariadb": 3306}.get(db)
    if port is None:
        return True
    host = os.environ.get("ADMIN_BULK_UPSERT_TEST_DB_HOST", "127.0.0.1")
    try:
        socket.create_connection((host, port), timeout=3).close()
    except OSError:
        return False
    return True


def _importable(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None


if __name__ == "__main__":
    sys.exit(main())
