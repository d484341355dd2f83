"""What a user mapped each header to last time, per model: read before the step, saved after.

Only choices the user confirmed on the mapping page are saved; a file whose
headers matched the resource saves nothing. At most :data:`MAX_HEADERS` headers
are kept per user and model, the oldest choices dropped first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db import IntegrityError, router, transaction
from django.utils import timezone

from .models import RememberedMapping

__all__ = ["MAX_HEADERS", "recall", "remember"]

MAX_HEADERS = 500


def recall(user_pk: Any, model_label: str, headers: Iterable[str]) -> dict[str, str]:
    """``{header: field name}`` last chosen by this user for this model, for ``headers``."""
    if user_pk is None:
        return {}
    row = RememberedMapping.objects.filter(user_pk=str(user_pk), model_label=model_label).first()
    if row is None or not isinstance(row.columns, dict):
        return {}
    return {header: str(row.columns[header]) for header in headers if header in row.columns}


def remember(user_pk: Any, model_label: str, column_map: Mapping[str, str]) -> None:
    """Save ``column_map`` as this user's latest choices for this model."""
    if user_pk is None or not column_map:
        return
    for _attempt in range(2):  # a concurrent first save wins the insert; then update it
        try:
            with transaction.atomic(using=router.db_for_write(RememberedMapping)):
                _merge(str(user_pk), model_label, column_map)
            return
        except IntegrityError:
            continue


def _merge(user_pk: str, model_label: str, column_map: Mapping[str, str]) -> None:
    row = (
        RememberedMapping.objects.select_for_update()
        .filter(user_pk=user_pk, model_label=model_label)
        .first()
    )
    columns: dict[str, str] = dict(row.columns) if row is not None else {}
    for header, field_name in column_map.items():
        columns.pop(header, None)  # re-inserted last: the latest choices are kept longest
        columns[header] = field_name
    while len(columns) > MAX_HEADERS:
        del columns[next(iter(columns))]
    if row is None:
        RememberedMapping.objects.create(user_pk=user_pk, model_label=model_label, columns=columns)
    else:
        row.columns = columns
        row.updated_at = timezone.now()
        row.save(update_fields=["columns", "updated_at"])
