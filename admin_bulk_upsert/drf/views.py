"""The bulk-upsert action: a viewset mixin, and a viewset holding nothing else.

``POST <prefix>/bulk-upsert/`` takes a JSON list of records (or a CSV/XLSX file
in a multipart ``file`` field) and imports it in the request through the
resource's ``import_data``, all or nothing as the admin's confirm does: one
invalid or failed record and nothing is written. Query parameters:
``unique_fields`` (comma-separated, among the resource's allowed key fields)
and ``dry_run``. Bad input (not a list, an unknown field, an unknown key field,
malformed JSON) is a 400 whose body says what is wrong; records that fail are
a 400 listing each one's errors. More records than ``API_SYNC_MAX_ROWS`` become
an import job when jobs run in the background (``202 Accepted``, the job's URL
in ``Location``, :mod:`.job_views`), and a 400 otherwise.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.utils.translation import gettext as _
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from ..conf import get_config
from ..files.reading import ReadError, read_dataset
from ..jobs.transitions import background_imports_enabled
from .job_start import dataset_as_csv, start_job
from .job_views import JOB_URL_NAME, job_body
from .outcomes import OutcomeCollector
from .parsers import BulkUpsertJSONParser
from .permissions import CanImport
from .records import PayloadError, RecordTable, check_columns, records_table
from .schema import bulk_upsert_schema

__all__ = ["BulkUpsertMixin", "BulkUpsertViewSet"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


class BulkUpsertMixin:
    """Adds ``bulk-upsert/`` to a viewset, for the model of ``resource_class``.

    Set ``resource_class`` to a :class:`~admin_bulk_upsert.BulkUpsertResource`
    subclass; override :meth:`get_resource_kwargs` to give its constructor
    arguments per request. The action needs the model's add and change
    permissions on top of the viewset's own permission classes.
    """

    resource_class: Any = None
    #: The URL name of :class:`~.job_views.ImportJobViewSet`'s detail route.
    import_job_url_name = JOB_URL_NAME

    def get_import_model(self) -> Any:
        return self.resource_class._meta.model

    def get_resource_kwargs(self) -> dict[str, Any]:
        return {}

    def get_resource(self) -> Any:
        return self.resource_class(**self.get_resource_kwargs())

    def get_permissions(self) -> list[Any]:
        permissions = list(super().get_permissions())  # type: ignore[misc]
        if getattr(self, "action", None) == "bulk_upsert":
            permissions.append(CanImport())
        return permissions

    @bulk_upsert_schema
    @action(
        detail=False,
        methods=["post"],
        url_path="bulk-upsert",
        url_name="bulk-upsert",
        parser_classes=[BulkUpsertJSONParser, MultiPartParser, FormParser],
    )
    def bulk_upsert(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        resource = self.get_resource()
        try:
            dry_run = _flag(request.query_params.get("dry_run", ""))
            _choose_key(resource, request.query_params.get("unique_fields", ""))
            dataset, upload = self._dataset(request, resource)
            _check_key_columns(resource, list(dataset.headers))
            if len(dataset) > get_config().API_SYNC_MAX_ROWS:
                return self._start_job(request, resource, dataset, upload, dry_run=dry_run)
            if isinstance(dataset, RecordTable):
                dataset = dataset.as_dataset()
        except PayloadError as exc:
            return Response(exc.detail, status=status.HTTP_400_BAD_REQUEST)
        collector = OutcomeCollector(resource, list(dataset.headers))
        result = resource.import_data(
            dataset,
            dry_run=dry_run,
            raise_errors=False,
            use_transactions=True,
            rollback_on_validation_errors=True,
            row_consumer=collector,
            user=request.user,
        )
        body = collector.body(result, dry_run=dry_run)
        failed = bool(body["errors"])
        return Response(body, status=status.HTTP_400_BAD_REQUEST if failed else status.HTTP_200_OK)

    def _start_job(
        self,
        request: Request,
        resource: Any,
        dataset: Any,
        upload: _Upload | None,
        *,
        dry_run: bool,
    ) -> Response:
        """More records than one request imports: an import job, if jobs run in the background."""
        limit = get_config().API_SYNC_MAX_ROWS
        if upload is None:  # JSON records: every record checked as its row is written
            upload = _Upload(dataset_as_csv(dataset), "records.csv", "csv", "utf-8")
        if not background_imports_enabled():
            raise PayloadError(
                _(
                    "%(count)s records is more than the %(limit)s one request may import, "
                    "and import jobs are not enabled (BACKGROUND_IMPORTS)."
                )
                % {"count": len(dataset), "limit": limit},
                code="too_many_records",
                limit=limit,
            )
        job = start_job(
            self,
            request,
            resource,
            data=upload.data,
            file_name=upload.name,
            input_format=upload.input_format,
            encoding=upload.encoding,
            preview=dry_run,
        )
        body = job_body(job, request, self.import_job_url_name)
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})

    def _dataset(self, request: Request, resource: Any) -> tuple[Any, _Upload | None]:
        parsed = _parsed_body(request)
        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        if upload is None and request.content_type.startswith(("multipart/", "application/x-www")):
            raise PayloadError(_("Send the file in a field named “file”."), code="no_file")
        if upload is None:
            return records_table(resource, parsed), None
        if upload.size > get_config().MAX_UPLOAD_SIZE:
            raise PayloadError(
                _("The file is larger than %(size)s bytes.")
                % {"size": get_config().MAX_UPLOAD_SIZE},
                code="too_large",
            )
        data = upload.read()
        input_format = request.data.get("format") or None
        encoding = request.data.get("encoding") or None
        try:
            dataset = read_dataset(
                data, filename=upload.name, input_format=input_format, encoding=encoding
            )
        except ReadError as exc:
            raise PayloadError(exc.message, code=exc.code) from exc
        check_columns(resource, list(dataset.headers))
        return dataset, _Upload(
            data, upload.name, _format_of(upload.name, data, input_format), encoding or ""
        )


class BulkUpsertViewSet(BulkUpsertMixin, viewsets.GenericViewSet):  # type: ignore[misc]
    """A viewset with the bulk-upsert action only; register it with ``basename``."""

    def get_queryset(self) -> Any:
        # DjangoModelPermissions and schema generators ask the view for its queryset.
        return self.get_import_model()._default_manager.all()


def _parsed_body(request: Request) -> Any:
    """The parsed body; a body over Django's limit is a 400 that says which limit.

    DRF reads a JSON body through ``request.body``, which refuses more than
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` bytes (2.5 MB by default): left to Django, the
    client would get its HTML error page instead of the API's JSON.
    """
    try:
        return request.data
    except RequestDataTooBig as exc:
        raise PayloadError(
            _(
                "The request body is larger than the %(size)s bytes this server accepts "
                "(DATA_UPLOAD_MAX_MEMORY_SIZE). Send the records as a CSV file, or in "
                "several requests."
            )
            % {"size": settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
            code="too_large",
        ) from exc


def _flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise PayloadError(
        _("dry_run must be true or false, not “%(value)s”.") % {"value": value},
        code="invalid_parameter",
    )


def _choose_key(resource: Any, given: str) -> None:
    names = [name.strip() for name in given.split(",") if name.strip()]
    if not names:
        return
    allowed = resource.get_allowed_import_id_fields()
    unknown = [name for name in names if name not in allowed]
    if unknown:
        raise PayloadError(
            _("Unknown key field(s): %(unknown)s. unique_fields may name: %(allowed)s.")
            % {"unknown": ", ".join(unknown), "allowed": ", ".join(allowed)},
            code="unknown_key_field",
            unknown_fields=unknown,
        )
    resource.set_unique_fields(names)


def _check_key_columns(resource: Any, headers: list[str]) -> None:
    """Every key field must be given: without it, each record would be looked up by nothing."""
    names = resource.get_import_id_fields()
    if names == ["id"]:
        return  # DIE's default key: records without ids are new
    missing = [
        str(resource.fields[name].column_name)
        for name in names
        if name in resource.fields and resource.fields[name].column_name not in headers
    ]
    if missing:
        raise PayloadError(
            _("The records lack the key field(s): %(missing)s.") % {"missing": ", ".join(missing)},
            code="missing_key_field",
            missing_fields=missing,
        )


def _format_of(name: str, data: bytes, given: str | None) -> str:
    """The format a job reads the stored upload as: given, else as :func:`read_dataset` guessed."""
    if given:
        return given
    if "." in name:
        return name.rpartition(".")[2].lower()
    return "xlsx" if data.startswith(b"PK\x03\x04") else "csv"


@dataclasses.dataclass(frozen=True)
class _Upload:
    """An uploaded file as a job stores it."""

    data: bytes
    name: str
    input_format: str
    encoding: str
