"""Settings of the worker processes the tests start (``tests/jobs/workers.py``).

A worker must see what the test sees: the test database that pytest-django
created (not the ``NAME`` it was created from), the task backend and queue the
test enqueues on, and the plugin's settings (``STAGING_DIR``, where the
uploads are stored; ``BATCH_SIZE``). The test passes them in one JSON
environment variable, ``ADMIN_BULK_UPSERT_WORKER_SETTINGS``; everything else
is the suite's own settings.
"""

from __future__ import annotations

import json
import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

_given = json.loads(os.environ["ADMIN_BULK_UPSERT_WORKER_SETTINGS"])

for _alias, _name in _given.pop("DATABASE_NAMES").items():
    DATABASES[_alias]["NAME"] = _name

# TASKS, RQ_QUEUES, ADMIN_BULK_UPSERT; DATABASES when the test gives them whole (a pooler).
globals().update(_given)
