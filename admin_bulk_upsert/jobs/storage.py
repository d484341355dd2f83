"""Where import jobs keep uploads and reports: Django's storage API, private by default.

A project with several web servers and workers points the ``STORAGES`` alias
``"admin_bulk_upsert"`` (the ``STORAGE_ALIAS`` setting) at storage they all
share, S3 or the like. Without it, files go to a folder of this server's disk
(``STAGING_DIR``, default ``<tempdir>/admin_bulk_upsert``), readable by the
owner only and never under ``MEDIA_ROOT``, where a web server would publish
them. Names are random: a stored name says nothing about the file and cannot
be guessed.

A disk (or quota) that fills up while a file is written leaves no part of it
behind: :func:`save_new` deletes what was written and raises
:class:`StorageFull`, whose message the upload page, the command and a job's
failure show as they are.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import tempfile
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext as _

from ..conf import get_config

#: ``OSError.errno`` values that mean "no room left": a full disk, a full quota.
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


class StorageFull(Exception):
    """A file could not be stored: its disk or quota is full. Nothing of it was kept."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says a disk (or a quota) has no room left."""
    return isinstance(exc, OSError) and exc.errno in _FULL


def private_folder() -> str:
    configured = get_config().STAGING_DIR
    return configured or os.path.join(tempfile.gettempdir(), "admin_bulk_upsert")


class _JobStorage(LazyObject):
    """The configured storage, looked up on first use and again after a settings change."""

    def _setup(self) -> None:
        alias = get_config().STORAGE_ALIAS
        if alias in getattr(settings, "STORAGES", {}):
            self._wrapped = storages[alias]
        else:
            self._wrapped = FileSystemStorage(
                location=private_folder(),
                base_url=None,
                file_permissions_mode=0o600,
                directory_permissions_mode=0o700,
            )


_storage = _JobStorage()


def job_storage() -> Storage:
    """The storage of job files (a callable, so that migrations do not freeze it)."""
    return _storage  # type: ignore[return-value]


@receiver(setting_changed)
def _reset_storage(*, setting: str, **kwargs: Any) -> None:
    if setting in ("STORAGES", "ADMIN_BULK_UPSERT"):
        _storage._wrapped = empty


def save_new(kind: str, content: bytes | File) -> str:
    """Store ``content`` under a new random name; return the name the storage chose."""
    name = f"jobs/{secrets.token_hex(16)}.{kind}"
    if isinstance(content, bytes):
        content = ContentFile(content)
    try:
        return job_storage().save(name, content)
    except OSError as exc:
        if not disk_full(exc):
            raise
        # Django's FileSystemStorage leaves what it wrote before the disk filled up.
        with contextlib.suppress(OSError):
            delete_quietly(name)
        raise StorageFull(
            _(
                "The server has no space left to store this file (%(error)s): nothing was "
                "kept. Try again once space has been freed."
            )
            % {"error": exc.strerror or exc}
        ) from exc


def delete_quietly(name: str) -> None:
    """Delete a stored file if it is still there (a second cleanup finds nothing to do)."""
    if name:
        storage = job_storage()
        with contextlib.suppress(FileNotFoundError):
            storage.delete(name)
