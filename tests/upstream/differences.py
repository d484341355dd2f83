"""Reads ``differences.txt``: DIE tests that deliberately do not pass on admin_bulk_upsert."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PATH = Path(__file__).with_name("differences.txt")
MODES = ("resource", "admin")


@dataclass(frozen=True)
class Difference:
    """One line: ``test id | mode | reason``.

    ``resource`` applies to both runs (the admin run uses ``BulkUpsertResource``
    too); ``admin`` only to the admin run.
    """

    test_id: str
    mode: str
    reason: str

    def applies_to(self, mode: str) -> bool:
        return self.mode == mode or self.mode == "resource"


def read_differences(path: Path = PATH) -> dict[str, Difference]:
    differences: dict[str, Difference] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) != 3 or parts[1] not in MODES or not parts[2]:
            raise ValueError(f"{path}:{number}: expected 'test id | resource|admin | reason'")
        if parts[0] in differences:
            raise ValueError(f"{path}:{number}: {parts[0]} is listed twice")
        differences[parts[0]] = Difference(*parts)
    return differences
