"""Import jobs: an upload's preview and import run as Django tasks, with progress and history.

``ImportJob`` (:mod:`.models`) records one upload from start to end; :mod:`.tasks`
runs its steps on whatever backend the project's ``TASKS`` setting names;
:mod:`.heartbeat` reports rows done, heartbeat and cancellation from the worker;
:mod:`.storage` keeps the uploaded file and the per-row report private.
"""
