"""A row the database refused, told as the column of the file to fix.

A row that passes the widgets can still be refused when it is written: a blank
cell in a ``NOT NULL`` column, a value another row already holds in a unique
column, a foreign key to nothing, a text longer than its column. DIE reports
the driver's words ("NOT NULL constraint failed: catalog_product.price"),
which name a table and a database column, not the file's column, and differ
on every database. :func:`explain_refusal` reads what the database names
(SQLite's message, PostgreSQL's diagnostics, MariaDB's error code and
message), finds the model field and the file's column for it, and words the
refusal as Django's model validation would.

What each database names:

============  =================  ================  ==================  ==========
refusal       SQLite             PostgreSQL        MariaDB / MySQL     message
============  =================  ================  ==================  ==========
NOT NULL      table.column       column            column              blank
unique        table.column, ...  Key (columns)     key name            unique
foreign key   column (1)         Key (column)      FOREIGN KEY (col)   not found
too long      (not enforced)     the length only   column              max length
============  =================  ================  ==================  ==========

(1) Only in Django's ``check_constraints()``: SQLite's own "FOREIGN KEY
constraint failed" names nothing. PostgreSQL names the length, not the
column, of a value too long: the column is the one text field of that length
whose cell is longer. When nothing is
named, or the column named is not in the file, the refusal keeps the
database's words and names no column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import DatabaseError
from django.utils.encoding import force_str
from django.utils.text import capfirst, get_text_list
from django.utils.translation import gettext, ngettext

__all__ = ["explain_refusal"]

# SQLite
_SQLITE_NOT_NULL = re.compile(r"NOT NULL constraint failed: [^.\s]+\.(\S+)")
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (.+)")
# Django's check_constraints(), which SQLite's deferred foreign keys are checked with.
_SQLITE_FOREIGN_KEY = re.compile(r"has an invalid foreign key: [^.\s]+\.(\S+) contains")
# PostgreSQL (the message and the DETAIL line)
_PG_NOT_NULL = re.compile(r'null value in column "([^"]+)"')
_PG_KEY = re.compile(r"Key \((.+?)\)=\((.*)\) (?:already exists|is not present)", re.DOTALL)
_PG_TOO_LONG = re.compile(r"value too long for type character varying\((\d+)\)")
# MariaDB / MySQL: (code, message)
_MYSQL_NOT_NULL = 1048
_MYSQL_DUPLICATE = 1062
_MYSQL_FOREIGN_KEYS = (1216, 1452)
_MYSQL_TOO_LONG = 1406
_MYSQL_COLUMN = re.compile(r"[Cc]olumn '([^']+)'")
_MYSQL_KEY = re.compile(r"for key '(?:[^'.]+\.)?([^']+)'")
_MYSQL_FOREIGN_KEY = re.compile(r"FOREIGN KEY \(`([^`]+)`\)")


class Refusal:
    """What the database refused: its kind and the database columns it names."""

    def __init__(self, kind: str, db_columns: list[str], *, limit: int | None = None) -> None:
        self.kind = kind  # "null", "unique", "foreign_key" or "too_long"
        self.db_columns = db_columns
        self.limit = limit


def explain_refusal(
    exc: BaseException, resource: Any, row: Mapping[str, Any]
) -> tuple[str, str] | None:
    """``(column, message)`` for a database refusal of ``row``, or None when none is named."""
    if not isinstance(exc, DatabaseError):
        return None
    refusal = read_refusal(exc, resource)
    if refusal is None:
        return None
    model = resource._meta.model
    if refusal.kind == "too_long" and not refusal.db_columns:
        refusal.db_columns = _too_long_columns(resource, row, refusal.limit)
    fields = [_model_field(model, column) for column in refusal.db_columns]
    if not fields or any(field is None for field in fields):
        return None
    columns = [_file_column(resource, field) for field in fields]
    present = [column for column in columns if column is not None and column in row]
    if not present:
        return None
    column = present[0]
    value = row.get(column)
    return ", ".join(present), _message(refusal, model, fields, value)


def read_refusal(exc: BaseException, resource: Any) -> Refusal | None:
    """The kind of refusal and the database columns ``exc`` names, on any of the databases."""
    cause = exc.__cause__
    args = getattr(cause, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):  # MySQLdb / PyMySQL
        return _mysql_refusal(args[0], force_str(args[1]), resource)
    diag = getattr(cause, "diag", None)
    if diag is not None:  # psycopg, psycopg2
        return _postgres_refusal(exc, diag)
    return _sqlite_refusal(force_str(exc))


def _sqlite_refusal(message: str) -> Refusal | None:
    if match := _SQLITE_NOT_NULL.match(message):
        return Refusal("null", [match.group(1)])
    if match := _SQLITE_UNIQUE.match(message):
        names = [name.strip().rsplit(".", 1)[-1] for name in match.group(1).split(",")]
        return Refusal("unique", names)
    if match := _SQLITE_FOREIGN_KEY.search(message):
        return Refusal("foreign_key", [match.group(1)])
    return None  # "FOREIGN KEY constraint failed" names no column


def _postgres_refusal(exc: BaseException, diag: Any) -> Refusal | None:
    cause = exc.__cause__
    # psycopg names the state sqlstate, psycopg2 pgcode.
    state = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
    message = force_str(exc)
    detail = force_str(getattr(diag, "message_detail", None) or message)
    if state == "23502" or _PG_NOT_NULL.search(message):
        column = getattr(diag, "column_name", None)
        if column is None and (match := _PG_NOT_NULL.search(message)):
            column = match.group(1)
        return Refusal("null", [column]) if column else None
    if state in ("23505", "23503"):
        match = _PG_KEY.search(detail)
        if match is None:
            return None
        names = [name.strip().strip('"') for name in match.group(1).split(",")]
        return Refusal("unique" if state == "23505" else "foreign_key", names)
    if match := _PG_TOO_LONG.search(message):
        return Refusal("too_long", [], limit=int(match.group(1)))
    return None


def _mysql_refusal(code: int, message: str, resource: Any) -> Refusal | None:
    if code == _MYSQL_NOT_NULL and (match := _MYSQL_COLUMN.search(message)):
        return Refusal("null", [match.group(1)])
    if code == _MYSQL_TOO_LONG and (match := _MYSQL_COLUMN.search(message)):
        return Refusal("too_long", [match.group(1)])
    if code in _MYSQL_FOREIGN_KEYS and (match := _MYSQL_FOREIGN_KEY.search(message)):
        return Refusal("foreign_key", [match.group(1)])
    if code == _MYSQL_DUPLICATE and (match := _MYSQL_KEY.search(message)):
        columns = _unique_columns(resource._meta.model, match.group(1))
        return Refusal("unique", columns) if columns else None
    return None


def _unique_columns(model: Any, key_name: str) -> list[str]:
    """The columns of the unique index MariaDB names, from the model (no query).

    A ``unique=True`` field's index is named after its column; a
    ``UniqueConstraint`` by its name; ``unique_together`` gets a generated
    name, matched here by the columns it is made of.
    """
    opts = model._meta
    for field in opts.concrete_fields:
        if field.unique and field.column == key_name:
            return [field.column]
    for constraint in opts.constraints:
        if getattr(constraint, "name", None) == key_name and getattr(constraint, "fields", None):
            return [opts.get_field(name).column for name in constraint.fields]
    for names in opts.unique_together:
        columns = [opts.get_field(name).column for name in names]
        if all(column in key_name for column in columns):
            return columns
    return []


def _model_field(model: Any, db_column: str) -> Any:
    for field in model._meta.concrete_fields:
        if field.column == db_column:
            return field
    return None


def _file_column(resource: Any, model_field: Any) -> str | None:
    names = {model_field.name, model_field.attname}
    for field in resource.get_import_fields():
        if field.attribute in names:
            return force_str(field.column_name)
    return None


def _too_long_columns(resource: Any, row: Mapping[str, Any], limit: int | None) -> list[str]:
    """The one text column of ``limit`` characters whose cell is longer, as a database column."""
    found = []
    for model_field in resource._meta.model._meta.concrete_fields:
        if getattr(model_field, "max_length", None) != limit:
            continue
        column = _file_column(resource, model_field)
        if column is not None and len(force_str(row.get(column) or "")) > (limit or 0):
            found.append(model_field.column)
    return found if len(found) == 1 else []


def _message(refusal: Refusal, model: Any, fields: list[Any], value: Any) -> str:
    opts = model._meta
    if refusal.kind == "null":
        return force_str(fields[0].error_messages["blank"])
    if refusal.kind == "too_long":
        limit = fields[0].max_length
        length = len(force_str("" if value is None else value))
        return ngettext(
            "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
            "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
            limit,
        ) % {"limit_value": limit, "show_value": length}
    if refusal.kind == "foreign_key":
        target = fields[0].target_field
        return gettext("No %(model)s has %(field)s “%(value)s”.") % {
            "model": fields[0].related_model._meta.verbose_name,
            "field": target.name,
            "value": force_str("" if value is None else value),
        }
    if len(fields) == 1:
        return force_str(fields[0].error_messages["unique"]) % {
            "model_name": capfirst(opts.verbose_name),
            "field_label": capfirst(fields[0].verbose_name),
        }
    labels = [capfirst(field.verbose_name) for field in fields]
    return gettext("%(model_name)s with this %(field_labels)s already exists.") % {
        "model_name": capfirst(opts.verbose_name),
        "field_labels": get_text_list(labels, gettext("and")),
    }
