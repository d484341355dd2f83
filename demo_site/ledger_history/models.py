"""Shape: django-model-utils' ``TimeStampedModel`` with django-simple-history's history."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ledger.models import ItemColumns
from model_utils.models import TimeStampedModel
from simple_history.models import HistoricalRecords


class HistoryItem(TimeStampedModel, ItemColumns):
    tags = models.CharField(_("tags"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta(ItemColumns.Meta):
        pass


class PlainHistoryItem(ItemColumns):
    """Twin of ``HistoryItem``: the same columns, no history, no save() of its own."""

    created = models.DateTimeField(_("created"), default=timezone.now)
    modified = models.DateTimeField(_("modified"), default=timezone.now)
    tags = models.CharField(_("tags"), max_length=200, blank=True)

    class Meta(ItemColumns.Meta):
        pass
