"""Admin history for imported objects, written in bulk.

DIE writes one ``LogEntry`` per row (or per type through ``log_actions``,
which needs every instance kept in memory). Here entries are built from the
row results' ``object_id`` and ``object_repr`` and inserted with one
``bulk_create`` per ``batch_size`` entries, so the number of queries per chunk
is constant whatever the file size.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from import_export.results import Result, RowResult

_FLAGS = {
    RowResult.IMPORT_TYPE_NEW: ADDITION,
    RowResult.IMPORT_TYPE_UPDATE: CHANGE,
    RowResult.IMPORT_TYPE_DELETE: DELETION,
}
_REPR_LENGTH = LogEntry._meta.get_field("object_repr").max_length or 200


def _messages(file_name: str) -> dict[int, str]:
    # Stored as text at import time, as DIE does: LogEntry's JSON messages
    # cannot say "by import" and a changed-fields list would cost a diff per row.
    params = {"file": file_name}
    return {
        ADDITION: gettext("Added by bulk import of “%(file)s”.") % params,
        CHANGE: gettext("Changed by bulk import of “%(file)s”.") % params,
        DELETION: gettext("Deleted by bulk import of “%(file)s”.") % params,
    }


def write_log_entries(
    result: Result,
    *,
    user_pk: Any,
    model: type[models.Model],
    file_name: str,
    batch_size: int,
) -> int:
    """Insert one entry per created, updated or deleted row; return how many were written.

    Rows without an ``object_id`` (nothing to link to) get no entry.
    """
    content_type_id = ContentType.objects.get_for_model(model, for_concrete_model=False).pk
    messages = _messages(file_name)
    now = timezone.now()
    pending: list[LogEntry] = []
    written = 0
    for row in result.rows:
        flag = _FLAGS.get(row.import_type)
        if flag is None or row.object_id is None:
            continue
        pending.append(
            LogEntry(
                action_time=now,
                user_id=user_pk,
                content_type_id=content_type_id,
                object_id=str(row.object_id),
                object_repr=str(row.object_repr or "")[:_REPR_LENGTH],
                action_flag=flag,
                change_message=messages[flag],
            )
        )
        if len(pending) >= batch_size:
            LogEntry.objects.bulk_create(pending)
            written += len(pending)
            pending = []
    if pending:
        LogEntry.objects.bulk_create(pending)
        written += len(pending)
    return written
