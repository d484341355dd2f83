"""A full disk for the tests: a storage that fills up, and a tiny real filesystem.

Two ways to fill a disk: a storage whose writes fail with ``OSError(ENOSPC)``
after part of the file is written (as Django's ``FileSystemStorage`` leaves
it), and a real filesystem, a ``tmpfs`` of a few kilobytes mounted for the
test (where this process may mount one: as root, with ``mount`` available;
skipped with the reason otherwise).
"""

from __future__ import annotations

import errno
import subprocess

import pytest
from django.core.files.storage import FileSystemStorage

from tests.jobs.conftest import TASKS

STORAGE_CLASS = "tests.full_disk.FillsUp"


class FillsUp(FileSystemStorage):
    """Writes the first chunk of a file, then finds the disk full (for names with ``full_for``)."""

    full_for = ".upload"

    def _save(self, name, content):
        if self.full_for not in name:
            return super()._save(name, content)

        class FirstChunkThenFull:
            def chunks(self):
                yield b"account,datetime,amount,description\n"
                raise OSError(errno.ENOSPC, "No space left on device")

        return super()._save(name, FirstChunkThenFull())


@pytest.fixture
def tiny_disk(tmp_path):
    """A 16 KiB tmpfs, mounted for the test and unmounted after it."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as exc:
        pytest.skip(f"cannot run mount: {exc}")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def files_in(folder):
    return sorted(path.name for path in folder.rglob("*") if path.is_file())


@pytest.fixture
def full_job_storage(settings, tmp_path):
    """Job files in a storage whose disk fills up (for uploads, unless a test says otherwise)."""
    settings.TASKS = TASKS
    settings.STORAGES = {
        **settings.STORAGES,
        "admin_bulk_upsert": {
            "BACKEND": STORAGE_CLASS,
            "OPTIONS": {"location": str(tmp_path / "s")},
        },
    }
    settings.ADMIN_BULK_UPSERT = {
        "STAGING_DIR": str(tmp_path / "jobs"),
        "BACKGROUND_IMPORTS": True,
        "BATCH_SIZE": 2,
    }
    return tmp_path / "s"
