"""Pin every query to one database alias for a while.

DIE and the plugin pick their database through ``router.db_for_write`` and
friends; Django's ``Model.save()`` and querysets do the same. Pinning the alias
here, rather than passing ``using=`` around, sends all of them to the database
the benchmark measures, and leaves the default alias to everything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_pinned_alias: ContextVar[str | None] = ContextVar("ledger_pinned_alias", default=None)


@contextmanager
def pinned_database(alias: str) -> Iterator[None]:
    """Route every read and write to ``alias`` inside the ``with`` block."""
    token = _pinned_alias.set(alias)
    try:
        yield
    finally:
        _pinned_alias.reset(token)


class PinnedDatabaseRouter:
    """Answers with the pinned alias, or defers to Django (``None``) when none is."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        return _pinned_alias.get()

    def db_for_write(self, model: type[Any], **hints: Any) -> str | None:
        return _pinned_alias.get()

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return None
