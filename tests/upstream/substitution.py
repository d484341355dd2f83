"""Puts admin_bulk_upsert in place of django-import-export's classes, as DIE's tests see them.

``resource`` mode: ``import_export.resources.ModelResource`` becomes
``BulkUpsertResource`` (and so the default base of ``modelresource_factory``,
which DIE's admin and management commands build their default resource with),
so every ``ModelResource`` subclass DIE's test modules declare is a bulk one.

``admin`` mode: that, plus DIE's test app admin (``core/admin.py``) is built
with ``BulkUpsertAdminMixin`` in place of DIE's import mixins. Only that module
sees the swap: the tests of DIE's own mixins still get DIE's.

Both run from an ``AppConfig.ready()`` listed before ``django.contrib.admin``,
so they happen after the models load and before anything imports a resource.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MODES = ("stock", "resource", "admin")


def substitute_resource() -> None:
    """``ModelResource`` is ``BulkUpsertResource`` from now on, for every importer."""
    from import_export import resources

    from admin_bulk_upsert.resources import BulkUpsertResource

    stock = resources.ModelResource
    if stock is BulkUpsertResource:
        return
    resources.ModelResource = BulkUpsertResource
    factory = resources.modelresource_factory
    factory.__defaults__ = tuple(
        BulkUpsertResource if default is stock else default
        for default in factory.__defaults__ or ()
    )


def bulk_admin_classes() -> dict[str, Any]:
    """The names ``core/admin.py`` imports from ``import_export.admin``, on our mixin."""
    from django.contrib import admin

    from admin_bulk_upsert.admin.mixins import BulkUpsertAdminMixin

    model_admin = type(
        "ImportExportModelAdmin",
        (BulkUpsertAdminMixin, admin.ModelAdmin),
        {"__module__": __name__},
    )
    return {
        "ImportMixin": BulkUpsertAdminMixin,
        "ImportExportMixin": BulkUpsertAdminMixin,
        "ImportExportModelAdmin": model_admin,
    }


@contextmanager
def swapped(module: Any, replacements: dict[str, Any]) -> Iterator[None]:
    saved = {name: getattr(module, name) for name in replacements}
    for name, value in replacements.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


def substitute_admin(test_admin_module: str = "core.admin") -> None:
    """Imports DIE's test admin while ``import_export.admin`` offers our mixin."""
    from import_export import admin as die_admin

    with swapped(die_admin, bulk_admin_classes()):
        importlib.import_module(test_admin_module)


def apply(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"conformance mode {mode!r}: expected one of {', '.join(MODES)}")
    if mode in ("resource", "admin"):
        substitute_resource()
    if mode == "admin":
        substitute_admin()


def sanity(mode: str) -> list[str]:
    """Why the substitution did not happen (empty when it did), read off DIE's test app."""
    from core import admin as core_admin  # DIE's test app
    from core.models import Book
    from django.contrib import admin
    from import_export.resources import modelresource_factory

    # Classes are told apart by name: in stock mode admin_bulk_upsert is not an installed
    # app, and its admin package (which holds the ImportJob admin) cannot be imported.
    def has_class(klass: type, name: str) -> bool:
        return any(
            base.__name__ == name and base.__module__.startswith("admin_bulk_upsert.")
            for base in klass.__mro__
        )

    expect_bulk = mode != "stock"
    problems = []
    checks = {
        "core.admin.BookResource": core_admin.BookResource,
        "modelresource_factory(Book)": modelresource_factory(Book),
    }
    for label, resource_class in checks.items():
        if has_class(resource_class, "BulkUpsertResource") != expect_bulk:
            problems.append(f"{label}: BulkUpsertResource in its MRO is not {expect_bulk}")
    book_admin = admin.site._registry[Book]
    if has_class(type(book_admin), "BulkUpsertAdminMixin") != (mode == "admin"):
        problems.append(f"BookAdmin: BulkUpsertAdminMixin in its MRO is not {mode == 'admin'}")
    return problems
