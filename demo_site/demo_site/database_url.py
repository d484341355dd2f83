"""Turn a database URL into a Django ``DATABASES`` entry.

The demo reads its databases from environment variables in the common URL
form, parsed here with :mod:`urllib.parse` so that the demo needs nothing
beyond the plugin's own dependencies (no dj-database-url).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

_ENGINES = {
    "sqlite": "django.db.backends.sqlite3",
    "postgres": "django.db.backends.postgresql",
    "postgresql": "django.db.backends.postgresql",
    "pgsql": "django.db.backends.postgresql",
    "mysql": "django.db.backends.mysql",
    "mariadb": "django.db.backends.mysql",
}
_DEFAULT_PORTS = {"django.db.backends.postgresql": "5432", "django.db.backends.mysql": "3306"}


def parse_database_url(url: str, *, base_dir: Path | None = None) -> dict[str, Any]:
    """Return the ``DATABASES`` entry for ``url``.

    Accepted shapes: ``sqlite:///relative/or/absolute/path`` (``sqlite:////abs``
    also works; ``sqlite://:memory:`` for an in-memory database),
    ``postgres://user:password@host:port/name`` and
    ``mysql://user:password@host:port/name`` (``mariadb://`` is an alias). Query
    parameters become ``OPTIONS``. A relative SQLite path is taken from
    ``base_dir`` when given, so the demo finds its file whatever the current
    directory.
    """
    parts = urlsplit(url)
    engine = _ENGINES.get(parts.scheme)
    if engine is None:
        known = ", ".join(sorted(_ENGINES))
        raise ValueError(f"Unsupported database URL scheme {parts.scheme!r} (known: {known}).")
    options: dict[str, Any] = dict(parse_qsl(parts.query))

    if engine == "django.db.backends.sqlite3":
        return {"ENGINE": engine, "NAME": _sqlite_name(parts.netloc, parts.path, base_dir)}

    if engine == "django.db.backends.mysql":
        # Without utf8mb4 MySQL/MariaDB store only the Basic Multilingual Plane.
        options.setdefault("charset", "utf8mb4")
    return {
        "ENGINE": engine,
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(parts.port) if parts.port else _DEFAULT_PORTS[engine],
        "OPTIONS": options,
    }


def _sqlite_name(netloc: str, path: str, base_dir: Path | None) -> str:
    if netloc == ":memory:" or path in ("", "/:memory:"):
        return ":memory:"
    # "sqlite:///db.sqlite3" has the path "/db.sqlite3": one slash is the
    # separator, so the file is relative; "sqlite:////tmp/x" is absolute.
    name = unquote(path[1:])
    if Path(name).is_absolute() or base_dir is None:
        return name
    return str(base_dir / name)
