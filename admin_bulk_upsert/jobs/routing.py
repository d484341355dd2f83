"""A database router that keeps import jobs (and django-tasks-db's queue) in their own database.

Why: on SQLite one connection writes at a time, and an import holds the write
lock of the database it imports into for as long as it runs. With the job
table in that same file, the worker cannot write the job's progress and the
job page cannot change anything (cancel) until the import ends. A second
SQLite file for :class:`~admin_bulk_upsert.jobs.models.ImportJob` and
``django_tasks_db``'s task table lets both go on while the import runs.

On PostgreSQL and MariaDB the router is not needed (progress is written on a
second connection there), but harmless.

Add the database and the router to the settings::

    DATABASES["jobs"] = {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "jobs.sqlite3"}
    DATABASE_ROUTERS = ["admin_bulk_upsert.jobs.routing.JobDatabaseRouter"]

then ``manage.py migrate --database jobs`` besides the usual ``migrate``. A
project whose alias is not ``"jobs"`` subclasses the router and sets
:attr:`JobDatabaseRouter.database`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model

__all__ = ["JobDatabaseRouter"]

#: The apps whose every model lives in the jobs database, by app label
#: (django-tasks-db's app is labelled ``django_tasks_database``).
_JOB_APPS = frozenset({"django_tasks_database"})
#: Models of other apps that do: (app label, lower-case model name).
_JOB_MODELS = frozenset(
    {("admin_bulk_upsert", "importjob"), ("admin_bulk_upsert", "rememberedmapping")}
)


def _is_job_model(app_label: str, model_name: str | None) -> bool:
    return app_label in _JOB_APPS or (app_label, model_name) in _JOB_MODELS


class JobDatabaseRouter:
    """Sends ``ImportJob``, ``RememberedMapping`` and ``django_tasks_db`` to :attr:`database`.

    Nothing else goes there. ``RememberedMapping`` (the users' last column choices) is the
    package's own bookkeeping, kept by user pk like the jobs, so it travels with them.
    """

    #: The ``DATABASES`` alias of the jobs database.
    database = "jobs"

    def _route(self, model: type[Model]) -> str | None:
        if _is_job_model(model._meta.app_label, model._meta.model_name):
            return self.database
        return None

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return self._route(model)

    def db_for_write(self, model: type[Model], **hints: Any) -> str | None:
        return self._route(model)

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        return None

    def allow_migrate(
        self, db: str, app_label: str, model_name: str | None = None, **hints: Any
    ) -> bool | None:
        if _is_job_model(app_label, model_name):
            return db == self.database
        if db == self.database:
            # The jobs database holds the jobs only: no copy of auth, sessions, ...
            return False
        return None
