"""A Django test runner that writes each test's outcome to a JSON file.

``ADMIN_BULK_UPSERT_CONFORMANCE_REPORT`` names the file:
``{"mode": ..., "sanity": [...], "tests": {test id: outcome}}``, where an
outcome is ``pass``, ``fail``, ``error``, ``skip``, ``xfail`` or ``xpass``.
A test with a failing subtest is ``fail``.
"""

from __future__ import annotations

import json
import os
import unittest
from typing import Any

from django.conf import settings
from django.test.runner import DiscoverRunner

#: Worst first: a test keeps the worst outcome reported for it.
_RANK = {"error": 0, "fail": 1, "xpass": 2, "pass": 3, "xfail": 4, "skip": 5}


class RecordingResult(unittest.TextTestResult):
    outcomes: dict[str, str] = {}

    def _record(self, test: Any, outcome: str) -> None:
        test_id = test.id()
        previous = self.outcomes.get(test_id)
        if previous is None or _RANK[outcome] < _RANK[previous]:
            self.outcomes[test_id] = outcome

    def addSuccess(self, test: Any) -> None:
        super().addSuccess(test)
        self._record(test, "pass")

    def addFailure(self, test: Any, err: Any) -> None:
        super().addFailure(test, err)
        self._record(test, "fail")

    def addError(self, test: Any, err: Any) -> None:
        super().addError(test, err)
        self._record(test, "error")

    def addSkip(self, test: Any, reason: str) -> None:
        super().addSkip(test, reason)
        self._record(test, "skip")

    def addExpectedFailure(self, test: Any, err: Any) -> None:
        super().addExpectedFailure(test, err)
        self._record(test, "xfail")

    def addUnexpectedSuccess(self, test: Any) -> None:
        super().addUnexpectedSuccess(test)
        self._record(test, "xpass")

    def addSubTest(self, test: Any, subtest: Any, err: Any) -> None:
        super().addSubTest(test, subtest, err)
        if err is not None:
            failed = issubclass(err[0], test.failureException)
            self._record(test, "fail" if failed else "error")


class RecordingRunner(DiscoverRunner):
    def get_resultclass(self) -> Any:
        return RecordingResult

    def run_suite(self, suite: Any, **kwargs: Any) -> Any:
        from .substitution import sanity

        mode = settings.MODE
        problems = sanity(mode)
        result = super().run_suite(suite, **kwargs)
        report = {"mode": mode, "sanity": problems, "tests": RecordingResult.outcomes}
        path = os.environ.get("ADMIN_BULK_UPSERT_CONFORMANCE_REPORT")
        if path:
            with open(path, "w", encoding="utf-8") as stream:
                json.dump(report, stream, indent=0, sort_keys=True)
        for problem in problems:
            self.log(f"Substitution not in place: {problem}")
        return result
