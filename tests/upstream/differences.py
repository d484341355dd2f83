"""Reads ``differences.txt``: DIE tests that deliberately do not pass on admin_bulk_upsert."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PATH = Path(__file__).with_name("differences.txt")
MODES = ("resource", "admin")
DATABASES = ("sqlite", "postgresql", "mariadb")


@dataclass(frozen=True)
class Difference:
    """One line: ``test id | mode | reason``, the mode optionally ``@db,db``.

    ``resource`` applies to both runs (the admin run uses ``BulkUpsertResource``
    too); ``admin`` only to the admin run. ``resource@sqlite,mariadb`` only to
    those databases (e.g. PostgreSQL's writes take another path).
    """

    test_id: str
    mode: str
    reason: str
    databases: frozenset[str] = frozenset()

    def applies_to(self, mode: str, db: str) -> bool:
        if self.databases and db not in self.databases:
            return False
        return self.mode == mode or self.mode == "resource"


def read_differences(path: Path = PATH) -> dict[str, Difference]:
    differences: dict[str, Difference] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [part.strip() for part in line.split("|")]
        mode, _, dbs = parts[1].partition("@") if len(parts) == 3 else ("", "", "")
        databases = frozenset(filter(None, (db.strip() for db in dbs.split(","))))
        if mode not in MODES or not parts[2] or not databases <= set(DATABASES):
            raise ValueError(
                f"{path}:{number}: expected 'test id | resource|admin[@db,db] | reason'"
            )
        if parts[0] in differences:
            raise ValueError(f"{path}:{number}: {parts[0]} is listed twice")
        differences[parts[0]] = Difference(parts[0], mode, parts[2], databases)
    return differences
