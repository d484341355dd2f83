"""tests/summary.py: the last line of tests/run.sh, which CI reads, summed from the sessions."""

from __future__ import annotations

import json

import pytest

from tests import summary

JUNIT = (
    '<testsuites><testsuite name="pytest" tests="{tests}" failures="{failures}" errors="{errors}"'
    ' skipped="{skipped}"/></testsuites>'
)


@pytest.fixture
def artifacts(tmp_path, monkeypatch):
    monkeypatch.setattr(summary, "ARTIFACTS", tmp_path)
    return tmp_path


def run(artifacts, capsys, sessions, *args):
    report = artifacts / "nox-report.json"
    report.write_text(json.dumps({"result": 0, "sessions": sessions}))
    status = summary.main([str(report), *args])
    return status, capsys.readouterr().out.splitlines()


def session(signature, result="success", reason=None):
    return {
        "name": signature.split("(")[0],
        "signatures": [signature],
        "result": result,
        "reason": reason,
    }


def test_counts_are_summed_from_each_sessions_report(artifacts, capsys):
    (artifacts / "tests-db-sqlite.xml").write_text(
        JUNIT.format(tests=10, failures=0, errors=0, skipped=2)
    )
    (artifacts / "conformance-django6-db-mariadb.txt").write_text(
        "ok stock\nok BulkUpsertResource\nskipped BulkUpsertAdminMixin\n"
    )
    status, lines = run(
        artifacts,
        capsys,
        [
            session("lint"),
            session("tests(db='sqlite')"),
            session("conformance-django6(db='mariadb')"),
            session("tests-oldest(db='sqlite')", "skipped", "no Python >= 3.10 and < 3.11 found"),
        ],
    )
    assert status == 0
    assert "Skipped tests-oldest(db='sqlite'): no Python >= 3.10 and < 3.11 found" in lines
    assert lines[-1] == "10 passed, 0 failed, 3 skipped"


def test_a_session_failing_without_a_failing_test_counts_as_one_failure(artifacts, capsys):
    (artifacts / "tests-db-postgresql.xml").write_text(
        JUNIT.format(tests=5, failures=1, errors=1, skipped=0)
    )
    status, lines = run(
        artifacts,
        capsys,
        [
            session("lint", "failed", "Command ruff check failed with exit code 1"),
            session("tests(db='postgresql')", "failed", "exit code 1"),
            session("tests(db='mariadb')", "failed", "exit code 124"),
        ],
        "--failed-step",
        "chromium missing",
    )
    assert status == 1
    assert "FAILED: chromium missing" in lines
    assert "FAILED: tests(db='postgresql') (2 failed)" in lines
    assert "FAILED: tests(db='mariadb') (exit code 124, no test reported failing)" in lines
    assert lines[-1] == "3 passed, 5 failed, 0 skipped"  # 2 tests, lint, mariadb, chromium


def test_nothing_run_fails_under_ci_and_a_missing_report_fails(artifacts, capsys):
    status, lines = run(artifacts, capsys, [session("lint")], "--require-tests")
    assert (status, lines[-2:]) == (1, ["FAILED: no test ran", "0 passed, 1 failed, 0 skipped"])

    status = summary.main([str(artifacts / "missing.json")])
    assert status == 1
    assert capsys.readouterr().out.splitlines()[-1] == "0 passed, 1 failed, 0 skipped"
