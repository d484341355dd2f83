"""A helper thread's answer, or its error, comes back to the thread that waits for it."""

import threading
import time

import pytest

from admin_bulk_upsert.engine.statement_thread import in_background


def test_the_wait_gives_the_helpers_result_from_another_thread():
    wait = in_background(lambda: threading.current_thread().name, "test")
    assert wait() == "admin_bulk_upsert-test"
    assert threading.current_thread().name != "admin_bulk_upsert-test"


def test_the_helpers_error_is_raised_by_the_wait():
    def refuse():
        raise ValueError("refused")

    wait = in_background(refuse, "test")
    with pytest.raises(ValueError, match="refused"):
        wait()


def test_with_begun_the_start_returns_once_the_helper_has_begun():
    began = threading.Event()

    def slow():
        time.sleep(0.05)
        began.set()
        time.sleep(0.05)
        return "done"

    wait = in_background(slow, "test", begun=began.is_set)
    assert began.is_set()
    assert wait() == "done"


def test_with_begun_the_start_returns_when_the_helper_is_done_without_beginning():
    def refuse():
        raise ValueError("refused before sending anything")

    wait = in_background(refuse, "test", begun=lambda: False)
    with pytest.raises(ValueError, match="refused"):
        wait()
