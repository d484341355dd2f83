"""The app's configuration: its name, label and the system checks it registers when ready."""

import sys

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

        # django-simple-history's post_save receivers, written a chunk at a time. Only when
        # a model has imported it already (HistoricalRecords, simple_history.register()):
        # a project that has the package installed but does not use it imports nothing.
        if "simple_history.models" in sys.modules:
            from .integrations.simple_history import register_history_models

            register_history_models()
