"""``BulkUpsertAdminMixin``: DIE's import/export admin with a bulk import behind it.

Export is DIE's, unchanged. Import keeps DIE's URLs, hooks and templates but
replaces three things stock DIE gets wrong for big files and shared admins:
the preview shows totals and the first changes instead of every row, the
confirm step carries a signed token bound to the user instead of a temp file
name, and importing needs the add and change permissions. The import formats
offered are those the plugin reads (:mod:`..files.formats`): XLSX, XLS and
ODS without tablib's optional packages.

With background imports (:func:`..jobs.transitions.background_imports_enabled`,
or ``import_in_background`` on the admin), the upload starts an import job
instead and the admin serves its page (:mod:`.job_views`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_permission_codename
from django.core.checks import CheckMessage
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET, require_POST
from import_export.admin import ImportExportMixin

from ..checks import check_resource_class
from ..files.formats import import_formats
from ..jobs import transitions
from ..resources import bulk_resource_factory
from . import import_views, job_views, revert_views
from .forms import (
    BulkUpsertConfirmForm,
    BulkUpsertImportForm,
    bulk_confirm_form_class,
    bulk_import_form_class,
)


class BulkUpsertAdminMixin(ImportExportMixin):
    """Mix into a ``ModelAdmin`` whose ``resource_classes`` are ``BulkUpsertResource`` classes."""

    import_template_name = "admin/admin_bulk_upsert/import.html"
    import_form_class = BulkUpsertImportForm
    confirm_form_class = BulkUpsertConfirmForm
    #: ``None``: as the ``BACKGROUND_IMPORTS`` setting says; ``True``/``False``: always/never
    #: run this admin's uploads as import jobs.
    import_in_background: bool | None = None
    _default_resource_class: Any = None

    def imports_in_background(self, request: HttpRequest | None) -> bool:
        """Whether an upload here starts an import job rather than importing in the request."""
        if self.import_in_background is not None:
            return bool(self.import_in_background)
        return transitions.background_imports_enabled()

    def get_resource_classes(self, request: HttpRequest | None) -> Any:
        """DIE's choice of resources, except that the default one is a bulk resource."""
        if not self.resource_classes and not self.resource_class:
            if self._default_resource_class is None:
                # Built once: the confirm step must find the class the preview used.
                self._default_resource_class = bulk_resource_factory(self.model)
            return [self._default_resource_class]
        return super().get_resource_classes(request)

    def get_import_formats(self) -> list[Any]:
        """DIE's ``import_formats``, with the formats the plugin reads offered without tablib's.

        DIE offers XLSX only with openpyxl installed, XLS and ODS only with
        their tablib extras; the plugin reads them with python-calamine.
        """
        return import_formats(self.import_formats)

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        """Django's admin checks plus each import resource's (``admin_bulk_upsert.E00x``)."""
        messages = list(super().check(**kwargs))
        for resource_class in self.get_import_resource_classes(None):
            messages.extend(check_resource_class(resource_class, obj=self))
        return messages

    def get_urls(self) -> list[Any]:
        app_label, model_name = self.get_model_info()
        prefix = f"{app_label}_{model_name}"
        job_urls = [
            path(f"import/jobs/<int:job_pk>/{suffix}", self.admin_site.admin_view(view), name=name)
            for suffix, view, name in [
                ("", self.import_job, f"{prefix}_import_job"),
                ("progress.json", self.import_job_progress, f"{prefix}_import_job_progress"),
                ("confirm/", self.import_job_confirm, f"{prefix}_import_job_confirm"),
                ("cancel/", self.import_job_cancel, f"{prefix}_import_job_cancel"),
                ("retry/", self.import_job_retry, f"{prefix}_import_job_retry"),
                ("report.csv", self.import_job_report, f"{prefix}_import_job_report"),
                ("revert/", self.import_job_revert, f"{prefix}_import_job_revert"),
                (
                    "revert/confirm/",
                    self.import_job_revert_confirm,
                    f"{prefix}_import_job_revert_confirm",
                ),
                (
                    "revert/preview.csv",
                    self.import_job_revert_preview_csv,
                    f"{prefix}_import_job_revert_preview_csv",
                ),
                (
                    "revert/report.csv",
                    self.import_job_revert_report,
                    f"{prefix}_import_job_revert_report",
                ),
            ]
        ]
        return [
            path(
                "import/preview.csv",
                self.admin_site.admin_view(self.preview_csv),
                name=f"{prefix}_import_preview_csv",
            ),
            *job_urls,
            *super().get_urls(),
        ]

    def has_import_permission(self, request: HttpRequest) -> bool:
        """DIE's permission (``IMPORT_EXPORT_IMPORT_PERMISSION_CODE``) plus add and change.

        An import creates and updates rows, so it needs both, whatever the
        DIE setting says; stock DIE lets any staff user import by default.
        """
        opts = self.opts
        return (
            super().has_import_permission(request)
            and request.user.has_perm(f"{opts.app_label}.{get_permission_codename('add', opts)}")
            and request.user.has_perm(f"{opts.app_label}.{get_permission_codename('change', opts)}")
        )

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return import_views.import_view(self, request, **kwargs)

    @method_decorator(require_POST)
    def process_import(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        return import_views.confirm_view(self, request, **kwargs)

    @method_decorator(require_GET)
    def preview_csv(self, request: HttpRequest) -> HttpResponse:
        return import_views.preview_csv_view(self, request)

    @method_decorator(require_GET)
    def import_job(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        return job_views.job_page_view(self, request, job_pk)

    @method_decorator(require_GET)
    def import_job_progress(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        return job_views.progress_view(self, request, job_pk)

    @method_decorator(require_POST)
    def import_job_confirm(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        return job_views.confirm_job_view(self, request, job_pk)

    @method_decorator(require_POST)
    def import_job_cancel(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        return job_views.cancel_job_view(self, request, job_pk)

    @method_decorator(require_POST)
    def import_job_retry(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        return job_views.retry_job_view(self, request, job_pk)

    @method_decorator(require_GET)
    def import_job_report(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        return job_views.report_view(self, request, job_pk)

    @method_decorator(require_GET)
    def import_job_revert(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        return revert_views.revert_preview_view(self, request, job_pk)

    @method_decorator(require_POST)
    def import_job_revert_confirm(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        return revert_views.confirm_revert_view(self, request, job_pk)

    @method_decorator(require_GET)
    def import_job_revert_preview_csv(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        return revert_views.revert_preview_csv_view(self, request, job_pk)

    @method_decorator(require_GET)
    def import_job_revert_report(self, request: HttpRequest, job_pk: int) -> HttpResponse:
        return revert_views.revert_report_view(self, request, job_pk)

    def get_import_form_class(self, request: HttpRequest) -> type[BulkUpsertImportForm]:
        """The configured ``import_form_class``, with our reading and key choice mixed in."""
        return bulk_import_form_class(super().get_import_form_class(request))

    def get_confirm_form_class(self, request: HttpRequest) -> type[BulkUpsertConfirmForm]:
        """The configured ``confirm_form_class``, carrying our signed token."""
        return bulk_confirm_form_class(super().get_confirm_form_class(request))

    def get_import_form_kwargs(self, request: HttpRequest) -> dict[str, Any]:
        """DIE's, plus ``from_encoding`` for reading text formats, and whether to read rows.

        A background upload reads the header only: the worker reads the rows.
        """
        return {
            **super().get_import_form_kwargs(request),
            "encoding": self.from_encoding,
            "header_only": self.imports_in_background(request),
        }

    def get_confirm_form_initial(self, request: HttpRequest, import_form: Any) -> dict[str, Any]:
        if import_form is None:
            return {}
        upload = import_form.staged_upload
        # DIE's names too, for projects whose get_confirm_form_initial() reads
        # them; only the token is read back.
        return {
            "token": upload.token,
            "original_file_name": upload.file_name,
            "format": import_form.cleaned_data["format"],
            "resource": import_form.cleaned_data.get("resource") or "0",
        }
