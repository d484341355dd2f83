"""The mapping step between the upload and the preview, for files whose headers differ.

When every header of the file is one of the resource's column names and the
key columns are there, nothing happens here: no query, no page, the preview
(or the job) follows the upload as it always did. Otherwise the upload is
staged (:mod:`.staging`) and the page asks which field each file column fills,
its choices pre-filled by :func:`..column_mapping.matching.match_columns`.
The page posts back to the upload URL with the staged upload's signed token
(:data:`TOKEN_FIELD`) and the upload form's other fields, so the upload form
validates again exactly as for a fresh upload, reading the staged bytes; then
the choices are checked, remembered for this user and model, and applied
(:func:`..column_mapping.renames.apply_column_map`) before the flow goes on
with the mapping on the form (``form.column_map``), from where it reaches the
staging token, the job and the reports.

A resource with ``Meta.column_mapping = False`` has no step: a missing key
column is then the upload form's error, as before.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext_lazy as _

from ..column_mapping.matching import headers_match, match_columns
from ..column_mapping.remembered import recall, remember
from ..column_mapping.renames import apply_column_map
from ..column_mapping.targets import (
    all_column_names,
    import_targets,
    key_columns,
    mapping_enabled,
)
from . import staging
from .column_map_form import PREFIX, ColumnMapForm
from .forms import BulkUpsertImportForm

#: The POST field carrying the staged upload's token back from the mapping page.
TOKEN_FIELD = "column_map_token"


def attach_staged_file(form: BulkUpsertImportForm, upload: staging.StagedUpload) -> None:
    """Give ``form`` the staged bytes as its uploaded file, as if uploaded again.

    Raises :class:`.staging.MissingUpload` when the staged file is gone.
    """
    data = staging.read_upload(upload)
    form.files = MultiValueDict({"import_file": [SimpleUploadedFile(upload.file_name, data)]})


def resolve(
    model_admin: Any,
    request: HttpRequest,
    form: BulkUpsertImportForm,
    staged: staging.StagedUpload | None,
) -> TemplateResponse | None:
    """The mapping page to show, or ``None`` once ``form.column_map`` is settled and applied.

    ``staged`` is the upload the mapping page's POST names (``None`` on a fresh upload).
    """
    resource_class = form.resource_class
    if not mapping_enabled(resource_class):
        return None
    resource = resource_class()
    key_fields = list(form.cleaned_data["import_id_fields"])
    targets = import_targets(resource)
    model_label = model_admin.opts.label
    if staged is None:
        keys = key_columns(resource, key_fields).values()
        names = all_column_names(resource)
        if headers_match(form.headers, names, keys):
            return None
        matches = match_columns(
            form.headers, targets, recall(request.user.pk, model_label, form.headers)
        )
        unknown = [header for header in form.headers if header not in names]
        if set(keys) <= set(form.headers) and not any(
            matches[header].field_name for header in unknown
        ):
            # Only extra columns that no field would take: stock ignores them, and so
            # does the import; a question here would only stand in the way.
            return None
        staged = staging.stage_upload(
            form.data_bytes,
            user_pk=request.user.pk,
            model_label=model_label,
            input_format=form.input_format,
            resource_index=form.resources.index(resource_class),
            unique_fields=key_fields,
            file_name=form.cleaned_data["import_file"].name,
            encoding=form.text_encoding,
        )
        mapping_form = ColumnMapForm(form.headers, targets, key_fields, matches=matches)
        # No column found a field by any rule: often the wrong file, or a file of
        # another format read as CSV; the page says so, and still lets the user map
        # (headers in another language are matched by nothing either).
        nothing_matched = not any(match.field_name for match in matches.values())
        return render_step(
            model_admin, request, mapping_form, staged, nothing_matched=nothing_matched
        )
    mapping_form = ColumnMapForm(form.headers, targets, key_fields, data=request.POST)
    if not mapping_form.is_valid():
        return render_step(model_admin, request, mapping_form, staged)
    column_map = mapping_form.column_map
    remember(request.user.pk, model_label, column_map)
    staging.discard(staged)  # the flow stages the upload again, with its mapping
    form.column_map = column_map
    if form.dataset is not None:
        apply_column_map(form.dataset, resource, column_map)
    return None


def render_step(
    model_admin: Any,
    request: HttpRequest,
    mapping_form: ColumnMapForm,
    staged: staging.StagedUpload,
    status: int = 200,
    *,
    nothing_matched: bool = False,
) -> TemplateResponse:
    """The mapping page, carrying the upload form's other fields along as hidden inputs."""
    carried = [
        (name, value)
        for name, values in request.POST.lists()
        if name != "csrfmiddlewaretoken"
        and name != TOKEN_FIELD
        and not name.startswith(f"{PREFIX}-")
        for value in values
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Match the file's columns"),
        "opts": model_admin.opts,
        "mapping_form": mapping_form,
        "token_field": TOKEN_FIELD,
        "token": staged.token,
        "carried": carried,
        "file_name": staged.file_name,
        "nothing_matched": nothing_matched,
        "key_columns": [
            target.column_name
            for target in mapping_form.targets
            if target.field_name in mapping_form.key_fields
        ],
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(
        request, ["admin/admin_bulk_upsert/column_map.html"], context, status=status
    )
