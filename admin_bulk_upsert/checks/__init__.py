"""System checks for misconfiguration: every id the app reports, and where it is found.

Each problem has its own id, never reused once released:

==========================  ====================================================================
``admin_bulk_upsert.E001``  the admin's resource is not a ``BulkUpsertResource``
``admin_bulk_upsert.E002``  the resource has no key (``Meta.import_id_fields`` is empty)
``admin_bulk_upsert.E003``  a key field is not a field of the resource
``admin_bulk_upsert.E004``  an ``allowed_import_id_fields`` entry is not a field of the resource
``admin_bulk_upsert.E005``  ``Meta.batch_size`` is not a positive integer
``admin_bulk_upsert.E006``  a key field is not stored in a concrete, non-m2m model field
``admin_bulk_upsert.E007``  ``settings.ADMIN_BULK_UPSERT`` is not a dict
``admin_bulk_upsert.E008``  a key of ``settings.ADMIN_BULK_UPSERT`` has a wrong type or value
``admin_bulk_upsert.E009``  a key field is left out of ``Meta.allowed_import_id_fields``
``admin_bulk_upsert.E010``  ``Meta.bulk_writes`` is not ``"auto"``, ``"always"`` or ``"never"``
``admin_bulk_upsert.E011``  ``Meta.column_aliases`` is not ``{field name: [header, ...]}`` of the
                            resource's fields (or gives one header to two fields), or
                            ``Meta.column_mapping`` is not a boolean
``admin_bulk_upsert.W001``  the key has no unique constraint in the database
``admin_bulk_upsert.W002``  ``settings.ADMIN_BULK_UPSERT`` has a key this version ignores
``admin_bulk_upsert.W003``  with ``bulk_writes="auto"``, imports call ``save()`` per row (a
                            ``save()`` doing real work); the message says why
``admin_bulk_upsert.W004``  the job storage is a folder under ``MEDIA_ROOT``/``STATIC_ROOT`` or
                            has a ``base_url``: a web server may publish uploads
``admin_bulk_upsert.W005``  jobs run on a worker backend but files stay in this machine's
                            temporary folder (no ``STORAGES`` alias, no ``STAGING_DIR``)
``admin_bulk_upsert.W006``  jobs run on a worker backend and ``ImportJob`` shares a SQLite
                            database with imported models: no progress is shown
``admin_bulk_upsert.W007``  imports run without a transaction (``IMPORT_EXPORT_USE_TRANSACTIONS``
                            or ``Meta.use_transactions`` is ``False``) on a PostgreSQL database
                            with ``DISABLE_SERVER_SIDE_CURSORS``: behind a pooler in transaction
                            mode the import lock neither excludes nor is released
``admin_bulk_upsert.I001``  with ``bulk_writes="auto"``, imports send ``pre_save``/``post_save``
                            per row around bulk writes (the model has receivers, named)
==========================  ====================================================================

The checks live in four modules, one per thing checked:

- :mod:`.resources`: one resource class (``E001``-``E006``, ``E009``-``E011``,
  ``W001``, ``W003``, ``I001``), by :func:`check_resource_class`, which the admin
  mixin's ``check()`` calls for each of its resources (Django's admin checks
  run it for every registered ``ModelAdmin``);
- :mod:`.settings`: ``settings.ADMIN_BULK_UPSERT`` project-wide (``E007``,
  ``E008``, ``W002``), by :func:`check_settings`;
- :mod:`.jobs`: where import jobs keep their files and progress (``W004``-``W006``),
  by :func:`~.jobs.check_job_storage` and :func:`~.jobs.check_job_workers`;
- :mod:`.pooling`: imports without a transaction where a pooler in transaction
  mode may be (``W007``), project-wide by :func:`~.pooling.check_pooled_imports`
  and per resource from :func:`check_resource_class`.

Importing this package registers the project-wide checks with Django;
``AppConfig.ready()`` does so, once the models are loaded (:mod:`.jobs`
imports the job model).
"""

from __future__ import annotations

from .jobs import check_job_storage, check_job_workers
from .pooling import check_pooled_imports
from .resources import check_resource_class
from .settings import check_settings

__all__ = [
    "check_job_storage",
    "check_job_workers",
    "check_pooled_imports",
    "check_resource_class",
    "check_settings",
]
