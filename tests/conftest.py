"""Suite-wide fixtures and the database reachability gate.

A database server that cannot be reached turns every test into a visible skip
naming the server, unless ``ADMIN_BULK_UPSERT_REQUIRE_DB=1`` (set by CI), in
which case the run fails at once.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.db import connections

# The full-disk fixtures (a storage that fills up, a tiny tmpfs) of the admin and job tests.
from tests.full_disk import full_job_storage, tiny_disk  # noqa: F401


def _unreachable_reason() -> str | None:
    if settings.TEST_DB == "sqlite":
        return None
    db = settings.DATABASES["default"]
    wrapper = connections["default"]
    try:
        # A raw driver connection: pytest-django blocks the wrapper's own
        # ensure_connection() outside tests.
        wrapper.get_new_connection(wrapper.get_connection_params()).close()
    except Exception as exc:  # any driver error means "not reachable" here
        return f"{settings.TEST_DB} at {db['HOST']}:{db['PORT']} is not reachable: {exc}"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _unreachable_reason()
    if reason is None:
        return
    if os.environ.get("ADMIN_BULK_UPSERT_REQUIRE_DB") == "1":
        raise pytest.UsageError(f"{reason} (ADMIN_BULK_UPSERT_REQUIRE_DB=1 forbids skipping)")
    marker = pytest.mark.skip(reason=reason)
    for item in items:
        item.add_marker(marker)


def pytest_report_header(config):
    return f"admin_bulk_upsert test database: {settings.TEST_DB}"


@pytest.fixture(params=["db", "rq", "celery"])
def worker_backend(request, transactional_db, settings, tmp_path):
    """A real task backend (django-tasks-db, RQ, then Celery) and its worker processes.

    Needs ``transactional_db`` (workers see only committed rows) and comes after
    it, so that every worker is killed before the tables are flushed. The plugin
    is set to chunks of 50 rows and a 2-second heartbeat timeout.
    """
    from tests.jobs.workers import WorkerBackend

    backend = WorkerBackend(
        request.param,
        settings,
        tmp_path,
        STAGING_DIR=str(tmp_path / "jobs"),
        BATCH_SIZE=50,
        HEARTBEAT_TIMEOUT=2,
    )
    try:
        yield backend
    finally:
        backend.stop()
