"""Admin history for imported objects, written in bulk.

DIE writes one ``LogEntry`` per row (or per type through ``log_actions``,
which needs every instance kept in memory). Here entries are built from the
row results' ``object_id`` and ``object_repr`` and inserted with one
``executemany`` per ``batch_size`` entries: one query per chunk whatever the
file size.

Why not ``LogEntry.objects.bulk_create``: it compiles SQL for every row, and
measured 4-8x slower (0.37-0.77 s against 0.09 s for 10,000 entries on
SQLite), which alone would have made the confirm step miss its budget of 1.5x
the import. Like ``bulk_create``, this sends no signals and calls no ``save()``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connections, models, router, transaction
from django.utils import timezone
from django.utils.translation import gettext
from import_export.results import Result, RowResult

_FLAGS = {
    RowResult.IMPORT_TYPE_NEW: ADDITION,
    RowResult.IMPORT_TYPE_UPDATE: CHANGE,
    RowResult.IMPORT_TYPE_DELETE: DELETION,
}
_REPR_LENGTH = LogEntry._meta.get_field("object_repr").max_length or 200
_COLUMNS = (
    "action_time",
    "user",
    "content_type",
    "object_id",
    "object_repr",
    "action_flag",
    "change_message",
)


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
    using = router.db_for_write(LogEntry)
    connection = connections[using]
    action_time = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = _insert_sql(connection)
    pending: list[tuple[Any, ...]] = []
    written = 0
    with transaction.atomic(using=using), connection.cursor() as cursor:
        for row in result.rows:
            flag = _FLAGS.get(row.import_type)
            if flag is None or row.object_id is None:
                continue
            pending.append(
                (
                    action_time,
                    user_pk,
                    content_type_id,
                    str(row.object_id),
                    str(row.object_repr or "")[:_REPR_LENGTH],
                    flag,
                    messages[flag],
                )
            )
            if len(pending) >= batch_size:
                cursor.executemany(sql, pending)
                written += len(pending)
                pending = []
        if pending:
            cursor.executemany(sql, pending)
            written += len(pending)
    return written


def _insert_sql(connection: Any) -> str:
    quote = connection.ops.quote_name
    columns = [LogEntry._meta.get_field(name).column for name in _COLUMNS]
    return "INSERT INTO {} ({}) VALUES ({})".format(
        quote(LogEntry._meta.db_table),
        ", ".join(quote(column) for column in columns),
        ", ".join(["%s"] * len(columns)),
    )
