from __future__ import annotations

from django.apps import AppConfig


class LedgerHistoryConfig(AppConfig):
    """The benchmark's TimeStampedModel + django-simple-history shape and its plain twin.

    Installed (settings.py) only where django-model-utils and django-simple-history are.
    """

    name = "ledger_history"
    default_auto_field = "django.db.models.BigAutoField"
