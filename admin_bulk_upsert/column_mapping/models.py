"""``RememberedMapping``: the column choices one user last made for one model.

One row per user and model holds ``{file header: field name}`` (``""`` for a
column the user ignored), so that the next file with the same headers comes
pre-filled (:mod:`.matching`'s last rule). The user is kept as a pk, as on
``ImportJob``, rather than a foreign key: the row may live in another database.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["RememberedMapping"]


class RememberedMapping(models.Model):
    user_pk = models.CharField(_("user id"), max_length=64)
    model_label = models.CharField(_("model"), max_length=200)
    #: ``{file header: field name}``, the latest choices last.
    columns = models.JSONField(_("columns"), default=dict)
    updated_at = models.DateTimeField(_("last used"), default=timezone.now)

    class Meta:
        verbose_name = _("remembered column mapping")
        verbose_name_plural = _("remembered column mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["user_pk", "model_label"], name="admin_bulk_upsert_one_mapping_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_label} ({self.user_pk})"
