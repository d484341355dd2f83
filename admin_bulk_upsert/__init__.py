"""Fast, row-exact bulk import for the Django admin, built on django-import-export.

The public API is imported lazily, so that listing the app in ``INSTALLED_APPS``
does not import the admin or the models before Django's app registry is ready.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: The package's version, read by setuptools (pyproject.toml) when the package is built.
__version__ = "0.1.0.dev0"

__all__ = [
    "BulkUpsertAdminMixin",
    "BulkUpsertResource",
    "bulk_resource_factory",
    "bulk_safe_save",
    "register",
    "replace_receiver_per_chunk",
]

_LOCATIONS = {
    "BulkUpsertResource": "admin_bulk_upsert.resources",
    "bulk_resource_factory": "admin_bulk_upsert.resources",
    "BulkUpsertAdminMixin": "admin_bulk_upsert.admin.mixins",
    "register": "admin_bulk_upsert.registration",
    "bulk_safe_save": "admin_bulk_upsert.engine.write_mode",
    "replace_receiver_per_chunk": "admin_bulk_upsert.engine.chunk_receivers",
}


def __getattr__(name: str) -> Any:
    try:
        module = _LOCATIONS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return getattr(import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
