"""Django's task framework: ``django.tasks`` on Django 6, the ``django-tasks`` backport before.

Both read the same ``TASKS`` setting and offer the same API, so the rest of the
package imports from here and runs one code path.
"""

from __future__ import annotations

from importlib.util import find_spec

if find_spec("django.tasks"):
    from django.tasks import TaskResultStatus, task, task_backends
    from django.tasks.backends.immediate import ImmediateBackend
else:  # Django 5.2
    from django_tasks import TaskResultStatus, task, task_backends
    from django_tasks.backends.immediate import ImmediateBackend

__all__ = ["ImmediateBackend", "TaskResultStatus", "task", "task_backends"]
