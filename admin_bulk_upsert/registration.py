"""``register()``: bulk import for a model's admin in one line.

A model's admin is often not the project's own (``django.contrib.auth``'s
``UserAdmin``, a third-party app's). Rather than asking for a new ``ModelAdmin``,
``register()`` derives one from whatever is registered, so the list columns,
search, actions, permissions and templates stay as they were and only the
import is added.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from .resources import bulk_resource_factory

__all__ = ["register"]

#: Set on the classes built here: the ModelAdmin class they were derived from.
#: Registering again derives from that class, so mixins never stack.
ORIGINAL_ADMIN_ATTRIBUTE = "_bulk_upsert_original_admin"


def register(
    model: type[models.Model],
    *,
    unique_fields: Sequence[str] | None = None,
    resource_class: type[Any] | None = None,
    fields: Sequence[str] | None = None,
    site: admin.AdminSite = admin.site,
) -> admin.ModelAdmin[Any]:
    """Add bulk import to ``model``'s admin on ``site`` and return the new ModelAdmin.

    When the model is not registered yet, it gets a plain ``ModelAdmin`` with
    import. When it is, the registered ``ModelAdmin`` class is subclassed with
    :class:`~admin_bulk_upsert.BulkUpsertAdminMixin` in front, and replaces the
    old registration: everything the old class defines keeps working.

    Calling it again for the same model replaces the resource; it does not add
    the mixin a second time.

    Without ``resource_class`` a resource is built by
    :func:`~admin_bulk_upsert.bulk_resource_factory` from ``unique_fields`` (the
    import key) and ``fields`` (the importable fields; all by default).

    Caveat: the admin's changelist template is DIE's, which extends the
    previous ``change_list_template`` and adds the import button to its
    ``object-tools-items`` block. A custom template that replaces the whole
    ``object-tools`` block loses its own content there; put it in
    ``object-tools-items`` instead.
    """
    if resource_class is not None and (unique_fields is not None or fields is not None):
        raise TypeError(
            "register() takes either resource_class or unique_fields/fields, not both: "
            "set the key and fields in the resource's Meta."
        )
    if resource_class is None:
        resource_class = bulk_resource_factory(model, unique_fields=unique_fields, fields=fields)

    if site.is_registered(model):
        base = _original_admin_class(type(site.get_model_admin(model)))
        site.unregister(model)
    else:
        base = admin.ModelAdmin
    site.register(model, build_admin_class(base, resource_class))
    return site.get_model_admin(model)


class RegisteredImportMixin:
    """Imports through the resources given to :func:`register`, and only imports.

    Export, and anything else that reads ``resource_classes``, keeps what the
    registered admin had, so a DIE admin's own export resource survives.
    """

    registered_resource_classes: Sequence[type[Any]] = ()

    def get_import_resource_classes(self, request: HttpRequest | None) -> list[type[Any]]:
        return list(self.registered_resource_classes)


def build_admin_class(base: type[admin.ModelAdmin[Any]], resource_class: type[Any]) -> type[Any]:
    """A subclass of ``base`` that imports through ``resource_class``.

    The result is named ``BulkUpsert<Base>`` and lives in ``base``'s module, so
    admin check messages and tracebacks point at the class people know.
    """
    # Django app loading: the admin package imports the job model, and this module
    # must import before the app registry is ready (as admin_bulk_upsert.register).
    from .admin.mixins import BulkUpsertAdminMixin

    attrs: dict[str, Any] = {
        "__module__": base.__module__,
        "__doc__": f"{base.__name__} with bulk import through {resource_class.__name__}.",
        ORIGINAL_ADMIN_ATTRIBUTE: base,
        "registered_resource_classes": (resource_class,),
    }
    # DIE reads change_list_template in __init__ and keeps it as the template
    # its own one extends. Copy the base's value in front of the mixin, so a
    # change_list_template set on the mixin cannot hide the base's.
    change_list_template = getattr(base, "change_list_template", None)
    if change_list_template:
        attrs["change_list_template"] = change_list_template
    # A base that already has the mixin (the project's own admin) must not get
    # it twice: Python cannot order (Mixin, Subclass-of-Mixin) bases.
    if issubclass(base, BulkUpsertAdminMixin):
        bases: tuple[type[Any], ...] = (RegisteredImportMixin, base)
    else:
        bases = (RegisteredImportMixin, BulkUpsertAdminMixin, base)
    return type(f"BulkUpsert{base.__name__}", bases, attrs)


def _original_admin_class(admin_class: type[Any]) -> type[Any]:
    original: type[Any] = admin_class.__dict__.get(ORIGINAL_ADMIN_ATTRIBUTE, admin_class)
    return original
