"""System checks of where import jobs keep their files and progress (``W004``-``W006``).

They look at the project's settings only (no query): where the job storage
puts files, whether a worker elsewhere can read them, and whether the job
table can take progress writes while an import holds SQLite's write lock.
The ids are listed with the others in :mod:`admin_bulk_upsert.checks`.

``W005`` stays quiet when ``STAGING_DIR`` is set: on one machine the default
folder works only as long as the web server and the worker see the same
temporary folder, which a container or systemd's ``PrivateTmp`` breaks without
a sign; naming the folder is the project saying it is shared. A check cannot
see where workers run, so that choice is left to the project rather than
silenced by guessing.
"""

from __future__ import annotations

import os
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Warning, register
from django.core.files.storage import FileSystemStorage, storages
from django.db import router

from ..conf import get_config
from ..jobs.compat import ImmediateBackend, task_backends
from ..jobs.heartbeat import shares_sqlite_database
from ..jobs.models import ImportJob
from ..jobs.storage import private_folder


@register()
def check_job_storage(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W004: the job storage is a folder that a web server publishes."""
    alias = get_config().STORAGE_ALIAS
    if alias in getattr(settings, "STORAGES", {}):
        storage = storages[alias]
        if not isinstance(storage, FileSystemStorage):
            return []  # S3 and the like: their privacy is their own settings'
        source = f"STORAGES[{alias!r}]"
        location = storage.location
        base_url = getattr(storage, "_base_url", None)  # None unless set: MEDIA_URL otherwise
    else:
        source = "ADMIN_BULK_UPSERT['STAGING_DIR']"
        location, base_url = os.path.abspath(private_folder()), None
    reasons = [
        f"{location} is under {name} ({root})"
        for name in ("MEDIA_ROOT", "STATIC_ROOT")
        if (root := getattr(settings, name, None)) and _is_within(location, str(root))
    ]
    if base_url:
        reasons.append(f"it has a base_url ({base_url})")
    if not reasons:
        return []
    return [
        Warning(
            f"Import jobs keep uploaded files and reports in {source}, which a web server "
            f"may publish: {'; '.join(reasons)}.",
            hint=f"Keep job files private: give {source} a folder outside MEDIA_ROOT and "
            "STATIC_ROOT, without a base_url (or private cloud storage); unset, a private "
            "folder under the system's temporary folder is used.",
            id="admin_bulk_upsert.W004",
        )
    ]


@register()
def check_job_workers(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W005: workers elsewhere would not find the files; W006: no progress on shared SQLite."""
    backend = _background_backend()
    if backend is None:
        return []
    return _check_shared_storage(backend) + _check_progress_database()


def _background_backend() -> Any:
    """The task backend jobs run on, when it runs them outside the request; else None."""
    config = get_config()
    if config.BACKGROUND_IMPORTS is False:
        return None
    try:
        backend = task_backends[config.TASK_BACKEND]
    except Exception:  # noqa: BLE001 - a bad TASKS setting is the task framework's to report
        return None
    return None if isinstance(backend, ImmediateBackend) else backend


def _check_shared_storage(backend: Any) -> list[CheckMessage]:
    config = get_config()
    if config.STORAGE_ALIAS in getattr(settings, "STORAGES", {}) or config.STAGING_DIR:
        return []
    backend_name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    return [
        Warning(
            f"Import jobs run on the task backend {config.TASK_BACKEND!r} ({backend_name}), "
            f"but their uploads are kept in this machine's temporary folder "
            f"({private_folder()}): a worker on another machine, in another container or "
            "with a temporary folder of its own (systemd PrivateTmp) cannot read them.",
            hint=f"Define STORAGES[{config.STORAGE_ALIAS!r}] as storage that every web server "
            "and worker shares (S3 and the like, or a shared folder); with workers on this "
            "machine only, set ADMIN_BULK_UPSERT['STAGING_DIR'] to a folder they all read.",
            id="admin_bulk_upsert.W005",
        )
    ]


#: Apps whose tables sit beside the jobs without ever being imported into:
#: this app's own and django-tasks-db's queue (app label ``django_tasks_database``).
_QUEUE_APPS = frozenset({"admin_bulk_upsert", "django_tasks_database"})


def _check_progress_database() -> list[CheckMessage]:
    job_alias = router.db_for_write(ImportJob)
    shared = sorted(
        {
            alias
            for model in apps.get_models()
            if model._meta.app_label not in _QUEUE_APPS
            and shares_sqlite_database(job_alias, alias := router.db_for_write(model))
        }
    )
    if not shared:
        return []
    return [
        Warning(
            f"Import jobs are stored in the SQLite database {job_alias!r}, which also holds "
            f"imported models (database {', '.join(map(repr, shared))}): SQLite lets one "
            "connection write at a time, so a running job's progress cannot be written and "
            "its page shows none until the job ends.",
            hint="Give the admin_bulk_upsert app a SQLite database of its own with a database "
            "router (db_for_read, db_for_write and allow_migrate), or use PostgreSQL or "
            "MariaDB.",
            id="admin_bulk_upsert.W006",
        )
    ]


def _is_within(path: str, root: str) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([path, root]) == root
