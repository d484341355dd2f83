"""Who may import over the API: whoever the admin lets import the model.

The admin's import needs the model's add and change permissions (a row may
create a record or change one); the API asks for the same two. The project's
own authentication and permission classes are applied first, by DRF.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_permission_codename
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

__all__ = ["CanImport"]


def import_permissions(model: Any) -> list[str]:
    """``app_label.add_model`` and ``app_label.change_model``, as the admin checks them."""
    opts = model._meta
    return [
        f"{opts.app_label}.{get_permission_codename(action, opts)}" for action in ("add", "change")
    ]


class CanImport(BasePermission):
    """The model's add and change permissions; the view names the model (``get_import_model()``)."""

    message = _("Importing needs the permissions to add and to change these records.")

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated:
            return False
        return bool(user.has_perms(import_permissions(view.get_import_model())))
