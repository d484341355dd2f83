"""System check ``W007``: imports without a transaction, where a transaction pooler may be.

Behind a pooler in transaction mode (PgBouncer's ``pool_mode = transaction``)
each transaction may run on another server connection. An import in one
transaction holds its lock inside that transaction
(:mod:`admin_bulk_upsert.engine.import_lock`) and is safe there; an import
without one (DIE's ``use_transactions=False``, which the ``bulk_import``
command and a project's own ``import_data()`` calls honour; the admin and
import jobs always import in one transaction) can only take a session lock,
whose release may reach another server connection: two imports of one model
then run at once, and the lock stays held until the pooler closes the server
connection, making later imports wait ``LOCK_TIMEOUT`` and fail.

A check cannot see a pooler. Django's documentation asks for
``DISABLE_SERVER_SIDE_CURSORS = True`` on a database behind one, so that
setting on a PostgreSQL database is taken as the sign that a pooler may be in
front of it. The check looks at settings only (no query): project-wide,
``IMPORT_EXPORT_USE_TRANSACTIONS = False``
(:func:`check_pooled_imports`); per resource, ``Meta.use_transactions = False``
(:func:`check_resource_pooling`, called from
:func:`~admin_bulk_upsert.checks.resources.check_resource_class`).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register
from django.db import router
from django.db.utils import load_backend

from ..conf import declared_option


def maybe_pooled(alias: str) -> bool:
    """Whether ``alias`` is PostgreSQL with ``DISABLE_SERVER_SIDE_CURSORS``: maybe pooled.

    Read from the settings and the backend's class, without opening a connection.
    """
    database = settings.DATABASES.get(alias)
    if not database or not database.get("DISABLE_SERVER_SIDE_CURSORS"):
        return False
    try:
        vendor = load_backend(database["ENGINE"]).DatabaseWrapper.vendor
    except Exception:  # noqa: BLE001 - a bad ENGINE is Django's to report
        return False
    return bool(vendor == "postgresql")


@register()
def check_pooled_imports(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """W007, project-wide: ``IMPORT_EXPORT_USE_TRANSACTIONS = False``, a maybe pooled database."""
    if getattr(settings, "IMPORT_EXPORT_USE_TRANSACTIONS", True) is not False:
        return []
    pooled = [alias for alias in settings.DATABASES if maybe_pooled(alias)]
    if not pooled:
        return []
    return [
        _warning(
            "IMPORT_EXPORT_USE_TRANSACTIONS = False",
            "the bulk_import command and code calling import_data() import resources that "
            "do not set Meta.use_transactions = True",
            pooled,
            obj=None,
        )
    ]


def check_resource_pooling(resource_class: Any, name: str, target: Any) -> list[CheckMessage]:
    """W007 for one resource: ``Meta.use_transactions = False`` on a maybe pooled database."""
    if declared_option(resource_class, "use_transactions") is not False:
        return []
    meta = getattr(resource_class, "_meta", None)
    model = getattr(meta, "model", None)
    if model is None:
        return []
    alias = getattr(meta, "using_db", None) or router.db_for_write(model)
    if not maybe_pooled(alias):
        return []
    return [
        _warning(
            f"{name}.Meta.use_transactions = False",
            "the bulk_import command and code calling import_data() import it",
            [alias],
            target,
        )
    ]


def _warning(cause: str, who: str, aliases: list[str], obj: Any) -> Warning:
    databases = ", ".join(repr(alias) for alias in aliases)
    return Warning(
        f"With {cause}, {who} without a transaction on the PostgreSQL database {databases}, "
        "whose DISABLE_SERVER_SIDE_CURSORS = True says a pooler in transaction mode may be "
        "in front of it (the admin and import jobs always import in one transaction). "
        "There the import lock cannot keep two imports of one model apart, "
        "and it may stay held after the import, making later imports wait LOCK_TIMEOUT "
        "and fail.",
        hint="Import in one transaction (use_transactions = True, django-import-export's "
        "default), or connect these imports directly or through session pooling. If no "
        "pooler in transaction mode is in front of the database, add "
        "'admin_bulk_upsert.W007' to SILENCED_SYSTEM_CHECKS.",
        obj=obj,
        id="admin_bulk_upsert.W007",
    )
