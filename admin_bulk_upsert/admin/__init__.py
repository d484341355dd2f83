"""Admin integration: the mixin, its views, forms, staged uploads, job pages and job history.

Importing this module (``admin.autodiscover()`` does) registers
:class:`.job_admin.ImportJobAdmin` on Django's default admin site. A project
with its own ``AdminSite`` registers it there::

    from admin_bulk_upsert.admin import ImportJob, ImportJobAdmin

    my_site.register(ImportJob, ImportJobAdmin)
"""

from __future__ import annotations

from django.contrib import admin

from ..jobs.models import ImportJob
from .job_admin import ImportJobAdmin
from .mixins import BulkUpsertAdminMixin
from .staging import cleanup_expired

__all__ = ["BulkUpsertAdminMixin", "ImportJob", "ImportJobAdmin", "cleanup_expired"]

if not admin.site.is_registered(ImportJob):
    admin.site.register(ImportJob, ImportJobAdmin)
