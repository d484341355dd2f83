"""The three import views: upload + dry-run preview, confirm, and the preview as CSV.

They are functions of the ModelAdmin so that :mod:`.mixins` stays a thin layer
over DIE's ``ImportMixin`` hooks (``create_import_form``,
``get_import_resource_kwargs``, ``get_import_data_kwargs`` ...), which keep
working for projects that override them.

A preview or import run in the request waits for another import of the model
(its lock, :mod:`admin_bulk_upsert.engine.import_lock`) only
``REQUEST_LOCK_TIMEOUT`` seconds, not the ``LOCK_TIMEOUT`` of workers and the
command, so that a web server thread is not held for minutes; the page then
says that another import is running and, when import jobs run on a worker,
offers to run this one as a job, which waits for its turn there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TextIO

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.results import Result
from import_export.signals import post_import

from ..column_mapping.renames import apply_column_map
from ..conf import get_config
from ..engine.import_lock import ImportLockTimeout
from ..files.encodings import requested_encoding
from ..files.reading import ReadError, read_dataset
from ..jobs import transitions
from ..jobs.storage import StorageFull, disk_full
from ..reports.log_entries import write_log_entries
from ..reports.preview import Preview, build_preview
from . import column_map_step, staging
from .forms import BulkUpsertImportForm
from .job_start import JobNotStartable, start_job, start_staged_job
from .job_views import job_url


def import_view(model_admin: Any, request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """Upload form; on POST, read the file, stage it and show a dry-run preview."""
    if not model_admin.has_import_permission(request):
        raise PermissionDenied
    staged = None
    if request.method == "POST" and column_map_step.TOKEN_FIELD in request.POST:
        # The mapping page's answer: the file is the one staged when the page was shown.
        staged = _verified_upload(model_admin, request, request.POST[column_map_step.TOKEN_FIELD])
        if isinstance(staged, HttpResponse):
            return staged
    form = model_admin.create_import_form(request)
    if staged is not None:
        try:
            column_map_step.attach_staged_file(form, staged)
        except staging.MissingUpload:
            return _restart(model_admin, request, _UPLOAD_GONE)
    context: dict[str, Any] = {}
    if request.method == "POST" and form.is_valid():
        mapping_page = column_map_step.resolve(model_admin, request, form, staged)
        if mapping_page is not None:
            return mapping_page
        if form.header_only:
            return _start_job(model_admin, request, form, **kwargs)
        resource = _resource(model_admin, request, form.resource_class, form=form, **kwargs)
        unique_fields = list(form.cleaned_data["import_id_fields"])
        if model_admin.is_skip_import_confirm_enabled():
            return _import_at_once(model_admin, request, form, resource, unique_fields, **kwargs)
        import_kwargs = model_admin.get_import_data_kwargs(request=request, form=form, **kwargs)
        file_name = form.cleaned_data["import_file"].name
        try:
            preview = _stage_and_preview(
                model_admin, request, form, resource, unique_fields, import_kwargs, file_name
            )
        except ImportLockTimeout:
            return _busy(model_admin, request, form.staged_upload, form)
        except StorageFull as exc:
            form.add_error(None, exc.message)
            return render_import_page(model_admin, request, form, context)
        context["result"] = preview
        context["preview_token"] = form.staged_upload.token
        if preview.importable:
            context["confirm_form"] = model_admin.create_confirm_form(request, import_form=form)
    return render_import_page(model_admin, request, form, context)


def _stage_and_preview(
    model_admin: Any,
    request: HttpRequest,
    form: BulkUpsertImportForm,
    resource: Any,
    unique_fields: list[str],
    import_kwargs: dict[str, Any],
    file_name: str,
) -> Preview:
    """Stage the upload and dry-run it; a full disk leaves neither file behind.

    Raises :class:`~admin_bulk_upsert.jobs.storage.StorageFull` when
    ``STAGING_DIR``'s disk has no room for the upload or its preview CSV.
    """
    form.staged_upload = staging.stage_upload(
        form.data_bytes,
        user_pk=request.user.pk,
        model_label=model_admin.opts.label,
        input_format=form.input_format,
        resource_index=form.resources.index(form.resource_class),
        unique_fields=unique_fields,
        file_name=file_name,
        encoding=form.text_encoding,
        column_map=form.column_map,
    )
    result = resource.import_data(
        form.dataset,
        dry_run=True,
        raise_errors=False,
        unique_fields=unique_fields,
        retain_instance_in_row_result=True,
        file_name=file_name,
        user=request.user,
        lock_timeout=get_config().REQUEST_LOCK_TIMEOUT,
        **import_kwargs,
    )
    try:
        with staging.open_preview_csv(form.staged_upload) as csv_file:
            return _preview(result, resource, csv_file)
    except OSError as exc:
        staging.discard(form.staged_upload)
        if disk_full(exc):
            raise staging.staging_full(exc) from exc
        raise


def _start_job(
    model_admin: Any, request: HttpRequest, form: BulkUpsertImportForm, **kwargs: Any
) -> HttpResponse:
    """Background import: queue a job for the upload and go to its page."""
    try:
        job = start_job(
            model_admin,
            request,
            form,
            preview=not model_admin.is_skip_import_confirm_enabled(),
            **kwargs,
        )
    except (JobNotStartable, StorageFull) as exc:
        form.add_error(None, exc.message)
        return render_import_page(model_admin, request, form, {})
    return HttpResponseRedirect(job_url(model_admin, job))


def confirm_view(model_admin: Any, request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """Import the staged file named by the signed token, or nothing at all."""
    if not model_admin.has_import_permission(request):
        raise PermissionDenied
    confirm_form = model_admin.create_confirm_form(request)
    if not confirm_form.is_valid():
        if "token" in confirm_form.errors:
            return HttpResponse(gettext("Missing import token."), status=400)
        # A project's confirm form with fields of its own: show their errors, as DIE does.
        return render_import_page(
            model_admin,
            request,
            None,
            {"confirm_form": confirm_form, "errors": confirm_form.errors},
        )
    upload = _verified_upload(model_admin, request, confirm_form.cleaned_data["token"])
    if isinstance(upload, HttpResponse):
        return upload
    try:
        resource_class = model_admin.get_import_resource_classes(request)[upload.resource_index]
    except IndexError:
        return HttpResponse(gettext("Unknown import resource."), status=400)
    if "_background" in request.POST:
        return _start_staged_job(model_admin, request, confirm_form, upload, resource_class)
    try:
        data = staging.claim_upload(upload)
    except staging.MissingUpload:
        return _restart(model_admin, request, _UPLOAD_GONE)
    try:
        dataset = read_dataset(
            data,
            filename=upload.file_name,
            input_format=upload.input_format,
            encoding=upload.encoding or requested_encoding(model_admin.from_encoding),
        )
        resource = _resource(model_admin, request, resource_class, form=confirm_form, **kwargs)
        apply_column_map(dataset, resource, upload.column_map)
        import_kwargs = model_admin.get_import_data_kwargs(
            request=request, form=confirm_form, **kwargs
        )
        return _write(
            model_admin,
            request,
            resource,
            dataset,
            list(upload.unique_fields),
            upload.file_name,
            import_kwargs,
        )
    except ImportLockTimeout:
        # Staged again, under a new token, for the offer of a background job.
        return _busy(model_admin, request, staging.restage(upload, data), None)
    except ReadError as exc:  # only if the reader changed between preview and confirm
        return _restart(model_admin, request, exc.message)
    finally:
        staging.discard(upload)


_UPLOAD_GONE = _(
    "The uploaded file is no longer available: it was imported already or it expired. "
    "Please upload it again."
)


def preview_csv_view(model_admin: Any, request: HttpRequest) -> HttpResponse:
    """The whole preview of a staged upload: one line per row of the file."""
    if not model_admin.has_import_permission(request):
        raise PermissionDenied
    upload = _verified_upload(model_admin, request, request.GET.get("token", ""))
    if isinstance(upload, HttpResponse):
        return upload
    path = staging.preview_csv_path(upload)
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise Http404(gettext("This preview is no longer available.")) from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=f"{Path(upload.file_name).stem or 'import'}-preview.csv",
        content_type="text/csv",
    )


def render_import_page(
    model_admin: Any,
    request: HttpRequest,
    form: BulkUpsertImportForm | None,
    extra: dict[str, Any],
    status: int = 200,
) -> TemplateResponse:
    """The import page: DIE's context plus ours (``result`` is a :class:`Preview`)."""
    if form is None:
        # Unbound: after a confirm POST, DIE's create_import_form() would bind the
        # upload form to the confirm data and show "This field is required".
        form = model_admin.get_import_form_class(request)(
            model_admin.get_import_formats(),
            model_admin.get_import_resource_classes(request),
            initial=model_admin.get_import_form_initial(request),
        )
    context = model_admin.get_import_context_data()
    context.update(model_admin.admin_site.each_context(request))
    context.update(
        {
            "title": _("Import"),
            "form": form,
            "opts": model_admin.opts,
            "media": model_admin.media + form.media,
            "fields_list": [
                (rc.get_display_name(), [f.column_name for f in rc().get_user_visible_fields()])
                for rc in model_admin.get_import_resource_classes(request)
            ],
            "import_error_display": model_admin.import_error_display,
            "preview_rows_limit": get_config().PREVIEW_ROWS,
        }
    )
    context.update(extra)
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, [model_admin.import_template_name], context, status=status)


def _resource(model_admin: Any, request: HttpRequest, resource_class: Any, **kwargs: Any) -> Any:
    return resource_class(**model_admin.get_import_resource_kwargs(request, **kwargs))


def _preview(
    result: Result, resource: Any, csv_file: TextIO | None = None, *, show_changes: bool = True
) -> Preview:
    config = get_config()
    return build_preview(
        result,
        resource,
        max_rows=config.PREVIEW_ROWS if show_changes else 0,
        max_errors=config.PREVIEW_ERRORS,
        csv_file=csv_file,
    )


def _verified_upload(
    model_admin: Any, request: HttpRequest, token: str
) -> staging.StagedUpload | HttpResponse:
    """The token's upload, or the response refusing it; nothing on disk is touched."""
    try:
        return staging.load_token(
            token, user_pk=request.user.pk, model_label=model_admin.opts.label
        )
    except staging.ForeignToken:
        raise PermissionDenied from None
    except staging.ExpiredToken:
        return _restart(
            model_admin,
            request,
            _("This preview expired. Please upload the file again."),
        )
    except staging.TamperedToken:
        return HttpResponse(gettext("Invalid import token."), status=400)


def _restart(model_admin: Any, request: HttpRequest, message: Any) -> TemplateResponse:
    """The upload form again with ``message``, answered with 400 (the POST was not usable)."""
    return render_import_page(model_admin, request, None, {"restart_message": message}, 400)


def _write(
    model_admin: Any,
    request: HttpRequest,
    resource: Any,
    dataset: Any,
    unique_fields: list[str],
    file_name: str,
    import_kwargs: dict[str, Any],
) -> HttpResponse:
    """Import for real; any error or invalid row rolls all of it back.

    The engine opens (and on failure rolls back) its own transaction, holding
    the model's import lock for exactly that long, so no outer transaction is
    opened here: on MariaDB the lock is released when ``import_data`` returns,
    and rows still uncommitted then would be invisible to the next import.
    The log entries follow in their own transaction, as in DIE.
    """
    result = resource.import_data(
        dataset,
        dry_run=False,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
        unique_fields=unique_fields,
        file_name=file_name,
        user=request.user,
        lock_timeout=get_config().REQUEST_LOCK_TIMEOUT,
        **import_kwargs,
    )
    failed = result.has_errors() or result.has_validation_errors()
    if not failed and not model_admin.get_skip_admin_log():
        write_log_entries(
            result,
            user_pk=request.user.pk,
            model=model_admin.model,
            file_name=file_name,
            batch_size=_batch_size(resource),
        )
    if failed:
        return render_import_page(
            model_admin,
            request,
            None,
            {
                # Instances were not retained for the real run: list the errors only.
                "result": _preview(result, resource, show_changes=False),
                "restart_message": _(
                    "Nothing was imported: the data no longer passes validation. "
                    "Correct the rows below and upload the file again."
                ),
            },
        )
    model_admin.add_success_message(result, request)  # DIE's hook and message
    post_import.send(sender=None, model=model_admin.model)
    return HttpResponseRedirect(
        reverse(
            f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist",
            current_app=model_admin.admin_site.name,
        )
    )


def _busy(
    model_admin: Any,
    request: HttpRequest,
    upload: staging.StagedUpload | None,
    form: BulkUpsertImportForm | None,
) -> TemplateResponse:
    """The page saying another import of the model is running, with nothing imported.

    When import jobs run on a worker, it offers to run this file as a job (the
    staged ``upload``): the job waits there for the other import to end.
    """
    offer = upload is not None and transitions.jobs_run_on_workers()
    if upload is not None and not offer:
        staging.discard(upload)
    message = _(
        "Another import of %(model)s is running, so nothing was imported. Try again when it "
        "has finished."
    ) % {"model": model_admin.opts.verbose_name_plural}
    context: dict[str, Any] = {"restart_message": message}
    if offer:
        context["background_token"] = upload.token  # type: ignore[union-attr]
    return render_import_page(model_admin, request, form, context, status=409)


def _start_staged_job(
    model_admin: Any,
    request: HttpRequest,
    confirm_form: Any,
    upload: staging.StagedUpload,
    resource_class: Any,
) -> HttpResponse:
    """The offer of :func:`_busy` taken: the staged file becomes a job, previewed first.

    Previewed again rather than imported at once: the other import is changing
    the rows this file's preview (if any) was made from.
    """
    if not transitions.jobs_run_on_workers():
        return HttpResponse(gettext("Import jobs do not run on a worker here."), status=400)
    try:
        data = staging.claim_upload(upload)
    except staging.MissingUpload:
        return _restart(
            model_admin,
            request,
            _("The uploaded file is no longer available: it expired. Please upload it again."),
        )
    try:
        job = start_staged_job(
            model_admin, request, confirm_form, upload, data, resource_class, preview=True
        )
    except JobNotStartable as exc:
        return _restart(model_admin, request, exc.message)
    finally:
        staging.discard(upload)
    return HttpResponseRedirect(job_url(model_admin, job))


def _import_at_once(
    model_admin: Any,
    request: HttpRequest,
    form: BulkUpsertImportForm,
    resource: Any,
    unique_fields: list[str],
    **kwargs: Any,
) -> HttpResponse:
    """DIE's ``IMPORT_EXPORT_SKIP_ADMIN_CONFIRM``: no preview, all-or-nothing import."""
    import_kwargs = model_admin.get_import_data_kwargs(request=request, form=form, **kwargs)
    return _write(
        model_admin,
        request,
        resource,
        form.dataset,
        unique_fields,
        form.cleaned_data["import_file"].name,
        import_kwargs,
    )


def _batch_size(resource: Any) -> int:
    return int(getattr(resource._meta, "batch_size", None) or get_config().BATCH_SIZE)
