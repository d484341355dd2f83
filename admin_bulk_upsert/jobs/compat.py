"""Django's task framework: ``django.tasks`` on Django 6, the ``django-tasks`` backport before.

Both read the same ``TASKS`` setting and offer the same API, so the rest of the
package imports from here and runs one code path.
"""

from __future__ import annotations

from importlib.util import find_spec

if find_spec("django.tasks"):  # Django 6: built in; before it, the django-tasks backport
    from django.tasks import TaskResultStatus, task, task_backends
    from django.tasks.backends.dummy import DummyBackend
    from django.tasks.backends.immediate import ImmediateBackend
else:  # Django 5.2
    from django_tasks import TaskResultStatus, task, task_backends
    from django_tasks.backends.dummy import DummyBackend
    from django_tasks.backends.immediate import ImmediateBackend

#: ``TASKS`` paths of the framework in use. A task is bound to its backend's task class
#: when it is declared, so settings must name the backends of the framework that runs
#: (on Django 6, the backport's classes would make tasks a worker cannot recognise).
IMMEDIATE_BACKEND = f"{ImmediateBackend.__module__}.{ImmediateBackend.__name__}"
DUMMY_BACKEND = f"{DummyBackend.__module__}.{DummyBackend.__name__}"

__all__ = [
    "DUMMY_BACKEND",
    "IMMEDIATE_BACKEND",
    "DummyBackend",
    "ImmediateBackend",
    "TaskResultStatus",
    "task",
    "task_backends",
]
