"""The endpoints' OpenAPI description, through drf-spectacular when it is installed.

Without drf-spectacular the decorators here change nothing, so that the API
needs only DRF. The serializers describe the bodies for the schema only: the
views build their answers as plain dicts.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from typing import Any, TypeVar

from rest_framework import serializers

__all__ = [
    "bulk_upsert_schema",
    "job_action_schema",
    "job_report_schema",
    "job_schema",
    "revert_preview_schema",
]

F = TypeVar("F", bound=Callable[..., Any])


class RecordOutcomeSerializer(serializers.Serializer):  # type: ignore[type-arg]
    index = serializers.IntegerField()
    outcome = serializers.ChoiceField(["new", "update", "skip", "delete", "invalid", "error"])
    pk = serializers.JSONField(allow_null=True, help_text="The stored record's primary key.")


class RecordErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    index = serializers.IntegerField(allow_null=True)
    field = serializers.CharField(allow_null=True)
    value = serializers.CharField()
    message = serializers.CharField()


class BulkUpsertResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    dry_run = serializers.BooleanField()
    committed = serializers.BooleanField()
    totals = serializers.DictField(child=serializers.IntegerField())
    records = RecordOutcomeSerializer(many=True)
    errors = RecordErrorSerializer(many=True)


class BadInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class ImportJobSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    url = serializers.URLField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    model = serializers.CharField()
    file_name = serializers.CharField()
    unique_fields = serializers.ListField(child=serializers.CharField())
    rows_total = serializers.IntegerField(allow_null=True)
    rows_done = serializers.IntegerField()
    percent = serializers.FloatField()
    rows_per_second = serializers.FloatField(allow_null=True)
    seconds_left = serializers.FloatField(allow_null=True)
    totals = serializers.DictField(child=serializers.IntegerField())
    failure = serializers.CharField()
    cancel_requested = serializers.BooleanField()
    ended = serializers.BooleanField()
    awaiting_confirm = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    preview = serializers.JSONField(allow_null=True)


class RevertEntrySerializer(serializers.Serializer):  # type: ignore[type-arg]
    pk = serializers.CharField()
    label = serializers.CharField(help_text="The record's name (its pk once deleted).")
    column = serializers.CharField(help_text="A conflict's column; empty otherwise.")
    imported = serializers.CharField(help_text="A conflict's imported value.")
    current = serializers.CharField(help_text="A conflict's current value.")
    detail = serializers.CharField(
        help_text="What is restored (column: imported value → value restored), or why not."
    )


class RevertEntryGroupSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.ChoiceField(["conflict", "delete", "restore", "gone"])
    title = serializers.CharField()
    total = serializers.IntegerField()
    rows = RevertEntrySerializer(many=True, help_text="The first 100 entries of this kind.")
    more = serializers.IntegerField(help_text="Records of this kind not listed.")


class RevertPreviewSerializer(serializers.Serializer):  # type: ignore[type-arg]
    revertable = serializers.BooleanField(help_text="Whether the import can be reverted now.")
    refusal = serializers.CharField(help_text="Why not, when it cannot; empty otherwise.")
    nothing_to_do = serializers.BooleanField(
        allow_null=True, help_text="No record would be deleted or restored."
    )
    totals = serializers.DictField(child=serializers.IntegerField(), allow_null=True)
    entries = RevertEntryGroupSerializer(many=True)
    seconds = serializers.FloatField(allow_null=True)
    job = ImportJobSerializer()


def _spectacular() -> Any:
    if find_spec("drf_spectacular") is None:
        return None
    from drf_spectacular import utils

    return utils


def bulk_upsert_schema(func: F) -> F:
    utils = _spectacular()
    if utils is None:
        return func
    record = {"type": "object", "additionalProperties": True}
    return utils.extend_schema(  # type: ignore[no-any-return]
        summary="Import records: create or update them by their key",
        parameters=[
            utils.OpenApiParameter(
                "unique_fields",
                str,
                description="The key of this import, comma-separated, among the resource's "
                "allowed key fields.",
            ),
            utils.OpenApiParameter(
                "dry_run", bool, description="Import and roll back: what would happen."
            ),
        ],
        request={
            "application/json": {"type": "array", "items": record},
            "multipart/form-data": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "format": "binary"},
                    "format": {"type": "string"},
                    "encoding": {"type": "string"},
                },
                "required": ["file"],
            },
        },
        responses={
            200: BulkUpsertResultSerializer,
            202: utils.OpenApiResponse(
                ImportJobSerializer, description="An import job; its URL is in Location."
            ),
            400: utils.OpenApiResponse(
                description="Bad input (a detail and a code), or records that failed "
                "(the result, committed false)."
            ),
        },
    )(func)


def job_schema(view: F) -> F:
    utils = _spectacular()
    if utils is None:
        return view
    return utils.extend_schema_view(  # type: ignore[no-any-return]
        list=utils.extend_schema(responses=ImportJobSerializer(many=True)),
        retrieve=utils.extend_schema(responses=ImportJobSerializer),
    )(view)


def job_action_schema(func: F) -> F:
    utils = _spectacular()
    if utils is None:
        return func
    return utils.extend_schema(  # type: ignore[no-any-return]
        request=None,
        responses={200: ImportJobSerializer, 409: utils.OpenApiResponse(description="Conflict")},
    )(func)


def job_report_schema(func: F) -> F:
    utils = _spectacular()
    if utils is None:
        return func
    return utils.extend_schema(  # type: ignore[no-any-return]
        responses={(200, "text/csv"): utils.OpenApiTypes.BINARY}
    )(func)


def revert_preview_schema(func: F) -> F:
    utils = _spectacular()
    if utils is None:
        return func
    return utils.extend_schema(  # type: ignore[no-any-return]
        summary="What reverting the import would do now (nothing is changed)",
        responses={200: RevertPreviewSerializer},
    )(func)
