"""The Celery app of the worker tests, set up as a project's ``proj/celery.py`` would be.

The worker processes run ``celery -A tests.celery_app worker`` with the
settings ``tests/jobs/workers.py`` gives them (``tests.worker_settings``); the
test process imports this module too, through the task backend's
``OPTIONS["CELERY_APP"]``, to send the tasks. Celery reads its configuration
from the Django settings whose names start with ``CELERY_``, and its Django
fix-up calls ``django.setup()`` in the worker before the task modules are
imported.

The plugin's tasks live in ``admin_bulk_upsert.jobs.tasks``, which
``autodiscover_tasks()`` does not find on its own (it looks for a ``tasks``
module at the top of each installed app), hence the explicit package list.
Importing that module declares the tasks, and django-tasks-celery registers
each one with this app under its dotted path.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.worker_settings")

app = Celery("admin_bulk_upsert_tests")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["admin_bulk_upsert.jobs"])
