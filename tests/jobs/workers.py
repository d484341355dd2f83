"""Real worker processes for the tests: configure a task backend, start workers, kill them.

``WorkerBackend`` sets the test's ``TASKS`` (and ``RQ_QUEUES``) to a real
backend on a queue of its own, and starts worker processes that read the same
test database, settings and stored files (``tests/worker_settings.py``).
Killing a worker kills what it forked too (RQ runs each job in a forked "work
horse", as a real out-of-memory kill or lost machine would); :meth:`WorkerBackend.stop`
kills every worker it started, and the ``worker_backend`` fixture
(``tests/conftest.py``) calls it even when the test fails.

Backends:

- ``"db"``: django-tasks-db's ``DatabaseBackend`` and its ``db_worker`` command.
  On SQLite the workers need the test database in files
  (``ADMIN_BULK_UPSERT_TEST_SQLITE_DIR``, see ``tests/settings.py``): an
  in-memory database is invisible to another process.
- ``"rq"``: django-tasks-rq's ``RQBackend`` on the Redis at
  ``ADMIN_BULK_UPSERT_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``),
  worked by django-rq's ``rqworker --job-class django_tasks_rq.Job``.
- ``"celery"``: django-tasks-celery's ``CeleryBackend`` on the RabbitMQ at
  ``ADMIN_BULK_UPSERT_TEST_AMQP_URL`` (default
  ``amqp://guest:guest@127.0.0.1:5672//``), worked by
  ``celery -A tests.celery_app worker`` (a prefork pool of one process). Each
  test has a queue of its own on the default virtual host (creating a virtual
  host takes ``rabbitmqctl`` on the server's machine), deleted afterwards.
  django-tasks-celery needs Python >= 3.12 and Django >= 6: without it (the
  Python 3.11 run) these tests skip, naming that constraint.

A Redis or RabbitMQ that cannot be reached skips the test, or fails it when
``ADMIN_BULK_UPSERT_REQUIRE_DB=1`` (CI), as an unreachable database does.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.db import connections

REPO_ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("ADMIN_BULK_UPSERT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
AMQP_URL = os.environ.get("ADMIN_BULK_UPSERT_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")
BACKENDS = ("db", "rq", "celery")
#: The Celery settings of the test process and its workers, as docs/jobs/celery.md advises.
CELERY_SETTINGS = {
    "CELERY_BROKER_URL": AMQP_URL,
    # Each worker process reserves at most one job beyond the one it runs (Celery's default is
    # four), so that queued jobs go to idle workers rather than wait behind a long import.
    "CELERY_WORKER_PREFETCH_MULTIPLIER": 1,
    "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": True,
}
#: Seconds a test waits for a worker to reach a state before it fails, showing the logs.
DEADLINE = 120.0


def unavailable(reason: str) -> None:
    """Skip, or fail when the run must not skip (CI)."""
    if os.environ.get("ADMIN_BULK_UPSERT_REQUIRE_DB") == "1":
        pytest.fail(f"{reason} (ADMIN_BULK_UPSERT_REQUIRE_DB=1 forbids skipping)", pytrace=False)
    pytest.skip(reason)


def redis_unreachable_reason(url: str = REDIS_URL) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        return f"Redis at {url} is not reachable: {exc}"
    return None


def rabbitmq_unreachable_reason(url: str = AMQP_URL) -> str | None:
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # kombu raises the transport's own errors
        return f"RabbitMQ at {url} is not reachable: {exc!r}"
    return None


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, read from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (name) state ppid ...": the name may hold spaces, so split after ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


class Worker:
    """One worker process, with its output in a log file (shown when a test fails)."""

    def __init__(
        self, name: str, command: list[str], env: dict[str, str], log: Path, ready_marker: str
    ) -> None:
        self.name = name
        self.log = log
        self.ready_marker = ready_marker
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # away from pytest's terminal signals (Ctrl-C)
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def is_ready(self) -> bool:
        """Whether the worker says it is waiting for tasks."""
        return self.ready_marker in self.output()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the worker and everything it forked, and wait for it to end.

        The process tree is listed first and then signalled, parent first, so that
        the worker cannot react to its children's death. An RQ work horse runs in a
        session of its own, out of reach of the worker's process group.
        """
        if self.is_alive():
            for pid in [self.process.pid, *_descendants(self.process.pid)]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
        self._log_file.close()

    def output(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text(errors="replace")


class WorkerBackend:
    """A real task backend for one test, and the workers started on it."""

    def __init__(self, name: str, settings: Any, log_dir: Path, **config: Any) -> None:
        self.name = name
        self.settings = settings
        self.log_dir = log_dir
        self.queue = f"abu-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.workers: list[Worker] = []
        self.task_ids: list[str] = []
        #: ``DATABASES`` for the workers instead of the test's (through a pooler, say).
        self.worker_databases: dict[str, Any] | None = None
        self._check_available()
        self._configure(config)

    # -- configuration -------------------------------------------------------------------

    def _check_available(self) -> None:
        if self.name == "celery" and not find_spec("django_tasks_celery"):
            # A version constraint, not a missing service: tests/run.sh's django6 pass runs them.
            pytest.skip(
                "django-tasks-celery is not installed: it needs Python >= 3.12 and Django >= 6 "
                "(the test extra installs it there)"
            )
        package = {"db": "django_tasks_db", "rq": "django_tasks_rq", "celery": "celery"}[self.name]
        if not find_spec(package):
            unavailable(f"{package} is not installed")
        default = django_settings.DATABASES["default"]
        if default["ENGINE"].endswith("sqlite3") and not os.environ.get(
            "ADMIN_BULK_UPSERT_TEST_SQLITE_DIR"
        ):
            # Not a missing service: run.sh runs these tests again with SQLite files.
            pytest.skip(
                "SQLite's test database is in memory, out of a worker process's reach: "
                "set ADMIN_BULK_UPSERT_TEST_SQLITE_DIR (tests/run.sh does)"
            )
        if self.name == "rq" and (reason := redis_unreachable_reason()):
            unavailable(reason)
        if self.name == "celery" and (reason := rabbitmq_unreachable_reason()):
            unavailable(reason)

    def _configure(self, config: dict[str, Any]) -> None:
        self.settings.ADMIN_BULK_UPSERT = {**config, "TASK_QUEUE": self.queue}
        if self.name == "db":
            self.settings.TASKS = {
                "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": [self.queue]}
            }
        elif self.name == "rq":
            self.settings.RQ_QUEUES = {self.queue: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
            self.settings.TASKS = {
                "default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [self.queue]}
            }
        else:
            for name, value in CELERY_SETTINGS.items():
                setattr(self.settings, name, value)
            self.settings.TASKS = {
                "default": {
                    "BACKEND": "django_tasks_celery.CeleryBackend",
                    "QUEUES": [self.queue],
                    "OPTIONS": {"CELERY_APP": "tests.celery_app.app"},
                }
            }
        from admin_bulk_upsert.jobs.compat import task_backends

        backend = task_backends["default"]
        self._enqueued_signal().connect(self._remember, sender=type(backend))

    @staticmethod
    def _enqueued_signal() -> Any:
        if find_spec("django.tasks"):
            from django.tasks.signals import task_enqueued
        else:
            from django_tasks.signals import task_enqueued
        return task_enqueued

    def _remember(self, sender: Any, task_result: Any, **kwargs: Any) -> None:
        self.task_ids.append(str(task_result.id))

    def worker_env(self) -> dict[str, str]:
        """The environment of a worker: the test's database, backend and plugin settings."""
        given = {
            "DATABASE_NAMES": {
                alias: str(connections[alias].settings_dict["NAME"])
                for alias in django_settings.DATABASES
            },
            "TASKS": self.settings.TASKS,
            "ADMIN_BULK_UPSERT": self.settings.ADMIN_BULK_UPSERT,
        }
        if self.worker_databases is not None:
            given["DATABASES"] = self.worker_databases
        if self.name == "rq":
            given["RQ_QUEUES"] = self.settings.RQ_QUEUES
        if self.name == "celery":
            given.update(CELERY_SETTINGS)
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
            "ADMIN_BULK_UPSERT_WORKER_SETTINGS": json.dumps(given),
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
            "PYTHONUNBUFFERED": "1",
        }

    # -- workers -------------------------------------------------------------------------

    def start(self) -> Worker:
        """Start one more worker on this backend's queue."""
        number = len(self.workers) + 1
        if self.name == "db":
            args = [
                "db_worker",
                "--queue-name",
                self.queue,
                "--interval",
                "0.1",
                "--no-startup-delay",
                "--no-reload",
                "--worker-id",
                f"test-worker-{number}-{uuid.uuid4().hex[:8]}",
            ]
            command = [sys.executable, "-m", "django", *args]
        elif self.name == "rq":
            args = ["rqworker", "--job-class", "django_tasks_rq.Job", self.queue]
            command = [sys.executable, "-m", "django", *args]
        else:
            command = [
                sys.executable,
                "-m",
                "celery",
                "--app",
                "tests.celery_app",
                "worker",
                "--queues",
                self.queue,
                "--pool",
                "prefork",  # the task runs in a forked child, which a kill must reach too
                "--concurrency",
                "1",
                "--hostname",
                f"test-worker-{number}-{uuid.uuid4().hex[:8]}@%h",
                "--loglevel",
                "INFO",
                # No talk between the test workers: each stays on its own queue.
                "--without-mingle",
                "--without-gossip",
            ]
        ready_marker = {"db": "Starting worker", "rq": "Listening on", "celery": " ready."}
        worker = Worker(
            f"{self.name} worker {number}",
            command,
            self.worker_env(),
            self.log_dir / f"{self.name}-worker-{number}.log",
            ready_marker=ready_marker[self.name],
        )
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        """Kill every worker started here, and forget this test's queue in Redis or RabbitMQ."""
        for worker in self.workers:
            worker.kill()
        self._enqueued_signal().disconnect(self._remember)
        if self.name == "rq":
            self._forget_redis_keys()
        elif self.name == "celery":
            self._delete_rabbitmq_queue()

    def _forget_redis_keys(self) -> None:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        keys = list(client.scan_iter(match=f"rq:*{self.queue}*"))
        for task_id in self.task_ids:
            keys += [f"rq:job:{task_id}", f"rq:results:{task_id}"]
        if keys:
            client.delete(*keys)

    def _delete_rabbitmq_queue(self) -> None:
        """Delete the test's queue and its exchange (Celery declares both durable, by name)."""
        from kombu import Connection

        with Connection(AMQP_URL, connect_timeout=3) as connection:
            channel = connection.default_channel
            channel.queue_delete(self.queue)
            channel.exchange_delete(self.queue)

    def logs(self) -> str:
        return "\n".join(f"--- {w.name} (pid {w.pid}) ---\n{w.output()}" for w in self.workers)

    def wait_for(self, condition: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
        """Poll ``condition`` until it returns something true; fail with the workers' logs."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"Timed out after {timeout:.0f} s waiting for {what}.\n{self.logs()}")
            dead = [w for w in self.workers if not w.is_alive() and w.process.returncode != -9]
            if dead:
                pytest.fail(f"A worker exited while waiting for {what}.\n{self.logs()}")
            time.sleep(0.05)
