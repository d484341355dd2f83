"""The ``ADMIN_BULK_UPSERT`` setting: one dict, read only through :func:`get_config`.

Precedence everywhere: a resource's ``Meta`` option, then this setting, then the
default below. The value is cached and the cache is dropped when a test
overrides the setting.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

SETTING_NAME = "ADMIN_BULK_UPSERT"


@dataclasses.dataclass(frozen=True)
class Config:
    """Defaults of every key of ``settings.ADMIN_BULK_UPSERT``."""

    #: Rows per chunk: one lookup query and one write per chunk.
    BATCH_SIZE: int = 1000
    #: Largest accepted upload, in bytes.
    MAX_UPLOAD_SIZE: int = 50 * 1024 * 1024
    #: Changed rows shown in the admin's dry-run preview.
    PREVIEW_ROWS: int = 100
    #: Errors listed in the preview before the rest are only counted.
    PREVIEW_ERRORS: int = 200
    #: Seconds a staged upload stays valid between preview and confirm.
    STAGING_MAX_AGE: int = 3600
    #: Folder for staged uploads; ``None`` means a folder under the system temp dir.
    STAGING_DIR: str | None = None
    #: Seconds an import (a job, the ``bulk_import`` command) waits for another import
    #: of the same model to finish.
    LOCK_TIMEOUT: int = 300
    #: Seconds an import or preview run in the admin's request waits for it, holding a
    #: web server thread; then the page says another import is running.
    REQUEST_LOCK_TIMEOUT: int = 5
    #: Whether the admin runs uploads as import jobs (:mod:`admin_bulk_upsert.jobs`):
    #: ``"auto"`` does when the task backend is not Django's immediate one.
    BACKGROUND_IMPORTS: bool | str = "auto"
    #: The ``TASKS`` backend alias and queue that import jobs are enqueued on.
    TASK_BACKEND: str = "default"
    TASK_QUEUE: str = "default"
    #: The ``STORAGES`` alias holding uploads and reports; when the project does not
    #: define it, a private folder (``STAGING_DIR``) on this server's disk.
    STORAGE_ALIAS: str = "admin_bulk_upsert"
    #: Seconds without a heartbeat after which a running job is reported failed.
    HEARTBEAT_TIMEOUT: int = 60
    #: Days an ended job (and its report) is kept in the history.
    JOB_MAX_AGE_DAYS: int = 30
    #: Days the undo data of an import job is kept (it can be reverted until then).
    UNDO_MAX_AGE_DAYS: int = 30
    #: Whether import jobs record undo data (about 4% of an import's time).
    RECORD_UNDO: bool = True
    #: Most records the HTTP API (:mod:`admin_bulk_upsert.drf`) imports within one request.
    API_SYNC_MAX_ROWS: int = 5000

    #: Whether an import that has the process to itself (the ``bulk_import`` command, a
    #: job worker's step) pauses Python's garbage collector while it runs. Never in a web
    #: request. Set ``False`` in a worker that runs several tasks at once on threads:
    #: the pause stops collection for every thread of the process.
    PAUSE_GC: bool = True
    #: Whether such an import runs its PostgreSQL lookups and writes on a helper thread
    #: while it reads the next rows. Never in a web request. Off: measured side by side
    #: (``benchmark_process_wide``) it gained nothing; turn it on where a measurement on
    #: your own machines says it does.
    HELPER_THREADS: bool = False


#: What :func:`declared_option` returns when no ``Meta`` declares the option.
UNDECLARED: Any = object()


def declared_option(resource_class: type, name: str) -> Any:
    """A ``Meta`` option as the resource's own classes declare it, or :data:`UNDECLARED`.

    DIE copies every option into ``_meta`` with its own default (``batch_size``
    is always 1000 there), so "the resource chose it" can only be read from the
    ``Meta`` classes themselves, nearest first.
    """
    for klass in resource_class.__mro__:
        meta = vars(klass).get("Meta")
        if meta is not None and name in vars(meta):
            return vars(meta)[name]
    return UNDECLARED


@cache
def get_config() -> Config:
    """The effective configuration: the project's setting laid over the defaults."""
    user: dict[str, Any] = getattr(settings, SETTING_NAME, {}) or {}
    known = {f.name for f in dataclasses.fields(Config)}
    unknown = set(user) - known
    if unknown:
        # Reported with a hint by checks.check_settings; ignore them here.
        user = {k: v for k, v in user.items() if k in known}
    return Config(**user)


@receiver(setting_changed)
def _reset_config(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTING_NAME:
        get_config.cache_clear()
