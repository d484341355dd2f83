"""An upload turned into an import job: what the worker needs, checked before it is queued.

The worker has neither the request nor the form: it rebuilds the resource from
its dotted path and the arguments the admin's hooks returned, read back from
the job's JSON fields. So each of them is checked here, on the upload page,
where a developer sees the message naming the hook to fix, rather than in a
worker's log after the file waited in a queue.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from ..jobs import transitions
from ..jobs.models import ImportJob
from ..jobs.steps import NotImportable, resource_path_of
from .forms import BulkUpsertImportForm
from .staging import StagedUpload


class JobNotStartable(Exception):
    """The admin's resource or hooks cannot be carried to a worker; ``message`` says why."""

    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def start_job(
    model_admin: Any,
    request: HttpRequest,
    form: BulkUpsertImportForm,
    *,
    preview: bool,
    **kwargs: Any,
) -> ImportJob:
    """Store the upload and queue its preview (or, with ``preview=False``, its import).

    Raises :class:`JobNotStartable` before anything is stored.
    """
    return _create_job(
        model_admin,
        request,
        form,
        form.resource_class,
        form.data_bytes,
        file_name=form.cleaned_data["import_file"].name,
        input_format=form.input_format,
        unique_fields=list(form.cleaned_data["import_id_fields"]),
        encoding=form.text_encoding,
        column_map=form.column_map,
        preview=preview,
        **kwargs,
    )


def start_staged_job(
    model_admin: Any,
    request: HttpRequest,
    form: Any,
    upload: StagedUpload,
    data: bytes,
    resource_class: type,
    *,
    preview: bool,
    **kwargs: Any,
) -> ImportJob:
    """:func:`start_job` for a file staged in the request (``data``, claimed from ``upload``).

    ``form`` is the form of the request (the confirm form), passed to the hooks.
    """
    return _create_job(
        model_admin,
        request,
        form,
        resource_class,
        data,
        file_name=upload.file_name,
        input_format=upload.input_format,
        unique_fields=list(upload.unique_fields),
        encoding=upload.encoding,
        column_map=dict(upload.column_map),
        preview=preview,
        **kwargs,
    )


def _create_job(
    model_admin: Any,
    request: HttpRequest,
    form: Any,
    resource_class: type,
    data: bytes,
    *,
    file_name: str,
    input_format: str,
    unique_fields: list[str],
    encoding: str,
    column_map: dict[str, str],
    preview: bool,
    **kwargs: Any,
) -> ImportJob:
    resource_kwargs = _worker_kwargs(
        model_admin.get_import_resource_kwargs(request, form=form, **kwargs),
        request,
        form,
        hook="get_import_resource_kwargs()",
    )
    import_kwargs = _worker_kwargs(
        model_admin.get_import_data_kwargs(request=request, form=form, **kwargs),
        request,
        form,
        hook="get_import_data_kwargs()",
    )
    return transitions.create_job(
        data,
        user=request.user,
        model_label=model_admin.opts.label,
        file_name=file_name,
        input_format=input_format,
        unique_fields=unique_fields,
        resource_path=resource_path(model_admin, resource_class),
        resource_kwargs=resource_kwargs,
        import_kwargs=import_kwargs,
        encoding=encoding,
        column_map=column_map,
        admin_site=model_admin.admin_site.name,
        preview=preview,
    )


def resource_path(model_admin: Any, resource_class: type) -> str:
    """The dotted path the worker imports ``resource_class`` by; blank for the default one.

    The admin's default resource is built at run time (``bulk_resource_factory``),
    which the worker does as well from the model; any other class must be
    importable under its module and name.
    """
    if resource_class is getattr(model_admin, "_default_resource_class", None):
        return ""
    try:
        return resource_path_of(resource_class)
    except NotImportable as exc:
        raise JobNotStartable(
            _(
                "The resource %(resource)s cannot be imported as “%(path)s”, which a "
                "background import needs: define it at the top level of a module, or set "
                "import_in_background = False on %(admin)s."
            )
            % {
                "resource": resource_class.__name__,
                "path": exc.path,
                "admin": type(model_admin).__name__,
            }
        ) from exc


def _worker_kwargs(
    values: dict[str, Any], request: HttpRequest, form: Any, *, hook: str
) -> dict[str, Any]:
    """``values`` without the request and the form (DIE passes them through), as JSON.

    DIE's own hooks return the ``form`` and ``request`` they were given; the
    worker has neither, so they are left out. Anything else must survive JSON.
    """
    kept = {
        name: value
        for name, value in (values or {}).items()
        if value is not request and value is not form
    }
    try:
        json.dumps(kept)
    except (TypeError, ValueError) as exc:
        raise JobNotStartable(
            _(
                "A background import stores the arguments returned by %(hook)s as JSON, "
                "but they cannot be: %(error)s. Return plain values (text, numbers, lists, "
                "dicts), or set import_in_background = False on the admin."
            )
            % {"hook": hook, "error": exc}
        ) from exc
    return kept
