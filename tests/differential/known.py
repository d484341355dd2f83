"""Differences from stock the differential suite has found and not yet seen fixed.

Each is an ``xfail(strict=False)`` mark naming its cause, applied to the hand-written
case that shows it and to the generated seeds it breaks, so that the rest of the
suite stays meaningful. Remove a mark (and its seeds) once its fix is merged; a
seed that then passes shows as XPASS until the mark goes.

Fixed since, and unmarked: blank ``id`` keys (issue 14 item 1), save() per row
(item 2), the m2m diff (item 5), a blank ``id`` cell with another key (item 7),
uniqueness errors of invalid rows, integer keys out of a column's range, half-way
decimals within a chunk, and blank-part keys in the repeated DST hour.
"""

from __future__ import annotations

import pytest

SKIP_M2M_IN_CHUNK = pytest.mark.xfail(
    strict=False,
    reason="issue 14, found by the wide files: skip_unchanged compares a repeated key's m2m "
    "with the stored set, not with the set the earlier row of the same chunk wrote",
)
SKIP_REPEATED_HOUR_IN_CHUNK = pytest.mark.xfail(
    strict=False,
    reason="issue 14, found by the wide files: skip_unchanged compares a repeated key with the "
    "earlier row's cleaned datetime; stock reads it back in UTC, unequal to any time in the "
    "repeated DST hour (PEP 495), so it updates (README's known difference, case not listed)",
)
SKIP_IN_CHUNK = pytest.mark.xfail(
    strict=False,
    reason="issue 14, found by the wide files: skip_unchanged on a key repeated within a "
    "chunk (m2m sets or the repeated DST hour, see the two marks above)",
)

#: Generated seeds of ``test_wide.py`` that differ for a cause above (on the three
#: databases unless noted).
GENERATED = {
    19: SKIP_IN_CHUNK,
    46: SKIP_M2M_IN_CHUNK,  # SQLite
    110: SKIP_REPEATED_HOUR_IN_CHUNK,
    118: SKIP_M2M_IN_CHUNK,
}


def seeds(numbers: range | list[int]) -> list[object]:
    """``numbers`` as parameters, each known failing one with its mark."""
    return [pytest.param(n, marks=GENERATED[n]) if n in GENERATED else n for n in numbers]
