"""``bulk_import --map "File header=field"`` and ``--map-file``: the admin's mapping, typed.

A mapping given here names only the columns it changes: every other header
keeps its name, so a column already named as the resource expects still fills
its field. The whole mapping is then checked as the admin's mapping page
checks it (:func:`..column_mapping.validation.mapping_errors`): every field
named must be one the resource imports, no field may be filled from two
columns, and the key columns must be there. ``Header=`` (nothing after ``=``)
ignores a column.

A mapping file is JSON (``{"File header": "field", ...}``, as the job page
shows it) or CSV (two columns, file header then field, an optional first row
``header,field``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from ..column_mapping.targets import import_targets
from ..column_mapping.validation import ColumnMap, mapping_errors

__all__ = ["column_map_for", "parse_map_entries", "read_map_file"]


def parse_map_entries(entries: Iterable[str]) -> ColumnMap:
    """``{header: field}`` from ``--map`` values; the last ``=`` splits header from field."""
    column_map: ColumnMap = {}
    for entry in entries:
        header, equals, field_name = entry.rpartition("=")
        if not equals or not header.strip():
            raise CommandError(
                _("--map takes “File header=field” (“File header=” ignores it), got “%(entry)s”.")
                % {"entry": entry}
            )
        column_map[header.strip()] = field_name.strip()
    return column_map


def read_map_file(path: Path) -> ColumnMap:
    """The mapping in a JSON or CSV file (by its extension; JSON if it starts with ``{``)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(
            _("Cannot read the mapping file %(path)s: %(error)s") % {"path": path, "error": exc}
        ) from exc
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        return _from_json(path, text)
    return _from_csv(path, text)


def column_map_for(resource: Any, headers: Sequence[str], given: ColumnMap) -> ColumnMap:
    """The whole mapping of ``headers``: ``given``, and each other header as it is named.

    Raises :class:`CommandError` naming every header, field and key column at fault.
    """
    targets = import_targets(resource)
    field_of = {target.column_name: target.field_name for target in targets}
    field_of.update({target.field_name: target.field_name for target in targets})
    errors = [
        _("The file has no column “%(header)s”. Columns found: %(found)s.")
        % {"header": header, "found": ", ".join(f"“{name}”" for name in headers)}
        for header in given
        if header not in headers
    ]
    column_map = {header: field_of.get(header, "") for header in headers}
    for header, name in given.items():
        # A column name is accepted for its field; an unknown name is kept to be reported.
        column_map[header] = field_of.get(name, name)
    key_fields = resource.get_import_id_fields()
    if key_fields == ["id"]:
        key_fields = []  # stock's default key: rows without an id are new, as in stock
    errors += mapping_errors(column_map, targets, key_fields)
    if errors:
        raise CommandError("\n".join(errors))
    return column_map


def _from_json(path: Path, text: str) -> ColumnMap:
    try:
        loaded = json.loads(text)
    except ValueError as exc:
        raise CommandError(
            _("The mapping file %(path)s is not valid JSON: %(error)s")
            % {"path": path, "error": exc}
        ) from exc
    if not isinstance(loaded, dict) or not all(
        isinstance(value, str | None) for value in loaded.values()
    ):
        raise CommandError(
            _('The mapping file %(path)s must hold one object: {"File header": "field"}.')
            % {"path": path}
        )
    return {str(header).strip(): (value or "").strip() for header, value in loaded.items()}


def _from_csv(path: Path, text: str) -> ColumnMap:
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if any(row)]
    first = 1
    if rows and [cell.strip().lower() for cell in rows[0][:2]] == ["header", "field"]:
        rows, first = rows[1:], 2
    column_map: ColumnMap = {}
    for number, row in enumerate(rows, first):
        if len(row) > 2 or not row[0].strip():
            raise CommandError(
                _(
                    "The mapping file %(path)s, line %(line)s: expected two columns, "
                    "the file header then the field."
                )
                % {"path": path, "line": number}
            )
        column_map[row[0].strip()] = (row[1] if len(row) > 1 else "").strip()
    return column_map
