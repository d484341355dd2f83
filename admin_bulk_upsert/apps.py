"""The app's configuration: its name, label and the system checks it registers when ready."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AdminBulkUpsertConfig(AppConfig):
    name = "admin_bulk_upsert"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Admin bulk upsert")

    def ready(self) -> None:
        # Registers the system checks (admin_bulk_upsert.E00x, W00x). Imported here, not at
        # the top: Django loads this module before the models, and the checks import them.
        from . import checks  # noqa: F401
