"""A helper thread's answer, or its error, comes back to the thread that waits for it."""

import threading

import pytest

from admin_bulk_upsert.background import in_background


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
