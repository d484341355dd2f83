"""A real PgBouncer in transaction pooling in front of the test PostgreSQL, for one test.

:class:`PgBouncer` writes a configuration and an auth file to a folder of its own, starts
Debian's ``pgbouncer`` on a free local port with ``pool_mode = transaction`` (the usual
production pooler: each transaction gets whichever server connection is free) and
``auth_type = trust``, and waits until it accepts connections. :meth:`PgBouncer.database`
gives the ``DATABASES`` entry of a process that connects through it, with
``DISABLE_SERVER_SIDE_CURSORS = True`` as Django's documentation asks behind such a pooler.

PgBouncer refuses to run as root: started as root (a container), it is told to switch to
the ``nobody`` user, and its folder is made readable for that user.

A missing ``pgbouncer`` binary skips the test, or fails it when
``ADMIN_BULK_UPSERT_REQUIRE_DB=1`` (CI), as an unreachable database does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from tests.jobs.workers import unavailable

#: Where Debian's package installs it (``/usr/sbin`` is not on every user's PATH).
DEBIAN_BINARY = "/usr/sbin/pgbouncer"
#: Server connections per database and user: PgBouncer's default.
POOL_SIZE = 20
#: Seconds PgBouncer may take to accept connections.
START_TIMEOUT = 15.0


def pgbouncer_binary() -> str | None:
    found = shutil.which("pgbouncer")
    if found:
        return found
    return DEBIAN_BINARY if os.access(DEBIAN_BINARY, os.X_OK) else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PgBouncer:
    """One PgBouncer process in transaction pooling in front of ``server``'s host and port."""

    def __init__(self, server: dict[str, Any]) -> None:
        binary = pgbouncer_binary()
        if binary is None:
            unavailable(
                "pgbouncer is not installed (Debian package pgbouncer; tests/run.sh installs it)"
            )
        self.server = server
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="abu-pgbouncer-"))
        self.log = self.folder / "pgbouncer.log"
        config = self._write_config()
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(
            [str(binary), str(config)],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_until_listening()

    def _write_config(self) -> Path:
        user = self.server.get("USER") or "postgres"
        auth = self.folder / "userlist.txt"
        auth.write_text(f'"{user}" ""\n')
        lines = [
            "[databases]",
            # Any database name the client asks for, on the test server.
            f"* = host={self.server['HOST']} port={self.server['PORT']}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = trust",
            f"auth_file = {auth}",
            "pool_mode = transaction",
            f"default_pool_size = {POOL_SIZE}",
            "max_client_conn = 200",
            "ignore_startup_parameters = extra_float_digits,options",
        ]
        if os.geteuid() == 0:
            lines.append("user = nobody")
            self.folder.chmod(0o755)
        config = self.folder / "pgbouncer.ini"
        config.write_text("\n".join(lines) + "\n")
        for path in (auth, config):
            path.chmod(0o644)
        return config

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                self.stop()
                pytest.fail(f"pgbouncer exited at start:\n{self.output()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1),
            ):
                return
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(
                    f"pgbouncer did not listen within {START_TIMEOUT:.0f} s:\n{self.output()}"
                )
            time.sleep(0.05)

    def database(self, base: dict[str, Any], name: str) -> dict[str, Any]:
        """The ``DATABASES`` entry of ``base``'s database ``name``, reached through PgBouncer."""
        return {
            **base,
            "NAME": name,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DISABLE_SERVER_SIDE_CURSORS": True,
        }

    def client_logins(self, database: str) -> int:
        """How many client connections to ``database`` PgBouncer has let in."""
        return self.output().count(f"login attempt: db={database} ")

    def output(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        """Stop PgBouncer, which closes its server connections, and remove its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self._log_file.close()
        shutil.rmtree(self.folder, ignore_errors=True)
