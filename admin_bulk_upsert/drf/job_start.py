"""Records too many for one request, handed to an import job instead.

The job is the admin's (:mod:`admin_bulk_upsert.jobs`): the same states, task
backend, worker and history. A worker reads a file, so JSON records are
stored as the CSV file their cells make (:mod:`.records` already turned every
value into a CSV cell): the job imports exactly the rows the request would have.
An uploaded file is stored as it came.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from ..jobs import transitions
from ..jobs.models import ImportJob
from ..jobs.steps import NotImportable, resource_path_of

__all__ = ["start_job"]


def dataset_as_csv(dataset: Any) -> bytes:
    """The dataset's cells as a UTF-8 CSV file, which the job's reader gives back unchanged."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(dataset.headers)
    writer.writerows(dataset)
    return out.getvalue().encode()


def start_job(
    view: Any,
    request: Any,
    resource: Any,
    *,
    data: bytes,
    file_name: str,
    input_format: str,
    encoding: str,
    preview: bool,
) -> ImportJob:
    """Store ``data`` and queue its preview (``preview=True``, a dry run) or its import."""
    resource_class = type(resource)
    resource_kwargs = view.get_resource_kwargs()
    try:
        json.dumps(resource_kwargs)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(
            f"{type(view).__name__}.get_resource_kwargs() must return JSON values for an "
            f"import job: {exc}"
        ) from exc
    return transitions.create_job(
        data,
        user=request.user,
        model_label=resource_class._meta.model._meta.label,
        file_name=file_name,
        input_format=input_format,
        unique_fields=resource.get_import_id_fields(),
        resource_path=_resource_path(resource_class),
        resource_kwargs=resource_kwargs,
        encoding=encoding,
        preview=preview,
    )


def _resource_path(resource_class: type) -> str:
    """The dotted path a worker imports the resource by; it must lead back to the class."""
    try:
        return resource_path_of(resource_class)
    except NotImportable as exc:
        raise ImproperlyConfigured(
            f"The resource {resource_class.__name__} cannot be imported as {exc.path!r}, which "
            "an import job needs: define it at the top level of a module."
        ) from exc
