"""Each record's outcome, primary key and errors, in the words the admin uses.

:class:`OutcomeCollector` is the ``row_consumer`` of ``import_data``: it keeps
one small entry per record (index, outcome, pk) instead of DIE's row results,
and names each failed record's errors with
:class:`~admin_bulk_upsert.reports.row_errors.ErrorNamer`, as the admin's
preview and ``bulk_import``'s report do, so a message reads the same everywhere.
"""

from __future__ import annotations

from typing import Any

from django.utils.encoding import force_str
from import_export.results import Result, RowResult

from ..engine.results import FailedRow
from ..reports.row_errors import ErrorNamer

__all__ = ["OutcomeCollector"]

#: Every outcome a record may have, in the order the totals list them.
OUTCOMES = (
    RowResult.IMPORT_TYPE_NEW,
    RowResult.IMPORT_TYPE_UPDATE,
    RowResult.IMPORT_TYPE_SKIP,
    RowResult.IMPORT_TYPE_DELETE,
    RowResult.IMPORT_TYPE_INVALID,
    RowResult.IMPORT_TYPE_ERROR,
)


class OutcomeCollector:
    """Collects, record by record, what the response tells the client."""

    def __init__(self, resource: Any, headers: list[str]) -> None:
        self._namer = ErrorNamer(resource, headers)
        self.records: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []

    def __call__(self, row: RowResult, failed: FailedRow | None) -> None:
        index = len(self.records)
        self.records.append({"index": index, "outcome": row.import_type, "pk": row.object_id})
        if row.import_type == RowResult.IMPORT_TYPE_INVALID:
            found = self._namer.from_invalid(row, failed.values if failed is not None else ())
        elif row.errors:
            found = self._namer.from_errors(row)
        else:
            return
        self.errors.extend(
            {
                "index": index,
                "field": error.column or None,
                "value": error.value,
                "message": error.message,
            }
            for error in found
        )

    def body(self, result: Result, *, dry_run: bool) -> dict[str, Any]:
        """The response: totals, each record's outcome, the errors; pks only of stored rows.

        An import that failed was rolled back, and a dry run is always: the pks
        of their new records were never kept, so they are given as ``null``.
        """
        failed = bool(self.errors or result.base_errors)
        committed = not (dry_run or failed)
        for record in self.records:
            pk = record["pk"]
            if pk is None:
                continue
            if not committed and record["outcome"] == RowResult.IMPORT_TYPE_NEW:
                record["pk"] = None
            elif not isinstance(pk, (int, str)):
                record["pk"] = _json_pk(pk)
        errors = [
            {"index": None, "field": None, "value": "", "message": force_str(error.error)}
            for error in result.base_errors
        ]
        return {
            "dry_run": dry_run,
            "committed": committed,
            "totals": {outcome: result.totals.get(outcome, 0) for outcome in OUTCOMES},
            "records": self.records,
            "errors": errors + self.errors,
        }


def _json_pk(pk: Any) -> Any:
    """A pk as JSON gives it: numbers stay numbers, anything else (UUID ...) its text."""
    return pk if isinstance(pk, (int, str)) else force_str(pk)
