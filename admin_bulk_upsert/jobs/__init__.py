"""Import jobs: an upload's preview, import and revert as Django tasks, with progress and history.

The modules, from the top down; each imports only modules listed below it, so
that a reader (and Python) can take them one at a time:

- :mod:`.transitions`: every change of state made from outside a worker (create
  a job, confirm, cancel, run again, request and confirm a revert, the signed
  tokens), and the enqueueing of the step it hands to a worker. It imports
  :mod:`.tasks` only when it enqueues (its ``_enqueue`` says why).
- :mod:`.tasks`: the tasks a worker runs, declared on the configured
  ``TASK_BACKEND`` and ``TASK_QUEUE``: thin wrappers around :mod:`.steps` and
  :func:`.expiry.delete_expired`.
- :mod:`.steps`: the worker's side of a job: claim it, run its preview, import
  or revert, record the outcome.
- :mod:`.expiry`: retiring jobs: previews never confirmed, jobs whose worker
  went silent (:func:`.expiry.fail_if_stale`, also called by the job pages and
  commands), old jobs, their files and old undo data.
- :mod:`.revert`: reverting a done import from its undo data, or previewing
  that, and who may; :mod:`.revert_chunk` undoes one chunk and lists what was
  done with each record.
- :mod:`.heartbeat`: rows done, heartbeat and cancellation, written by the
  worker outside the import's transaction.
- :mod:`.undo`: what each chunk of an import created and overwrote, recorded in
  the import's transaction.
- :mod:`.models`: ``ImportJob``, one upload from start to end, the only thing
  web servers and workers share about a job, with :mod:`.storage`, which keeps
  its uploaded file and reports private.
- :mod:`.compat` (``django.tasks`` or its backport), :mod:`.routing` (a
  database of their own for the jobs) and :mod:`.checks` (system checks
  ``W004``-``W006``) stand aside.

In short: transitions -> tasks -> steps -> revert -> revert_chunk -> undo, tasks ->
expiry, and heartbeat, models and storage below them all. The admin
(:mod:`admin_bulk_upsert.admin`) and the management commands use transitions,
expiry, revert and models.
"""
