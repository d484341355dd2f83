"""A helper thread's answer, or its error, comes back to the thread that waits for it; it runs
in the caller's contextvars, and only where the import owns the process."""

import contextvars
import threading
import time

import pytest
from django.db import connection

from admin_bulk_upsert.engine.statement_thread import helper_threads_allowed, in_background
from admin_bulk_upsert.gc_pause import import_owns_process


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


REQUEST_ID = contextvars.ContextVar("request_id", default=None)


def test_the_helper_sees_the_callers_contextvars():
    # Error reporting, tracing and execute wrappers keep their state there.
    token = REQUEST_ID.set("req-42")
    try:
        wait = in_background(REQUEST_ID.get, "test")
        assert wait() == "req-42"
    finally:
        REQUEST_ID.reset(token)


def test_what_the_helper_sets_stays_in_its_copy():
    wait = in_background(lambda: REQUEST_ID.set("from the helper") and REQUEST_ID.get(), "test")
    assert wait() == "from the helper"
    assert REQUEST_ID.get() is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="helper threads are PostgreSQL's")
def test_helper_threads_only_where_the_import_owns_the_process_and_when_asked(settings):
    assert not helper_threads_allowed(connection)  # off by default
    settings.ADMIN_BULK_UPSERT = {"HELPER_THREADS": True}
    assert not helper_threads_allowed(connection)  # a web request, a thread pool
    with import_owns_process():
        assert helper_threads_allowed(connection) is (
            not connection.features.uses_server_side_binding
        )
        settings.ADMIN_BULK_UPSERT = {}
        assert not helper_threads_allowed(connection)
