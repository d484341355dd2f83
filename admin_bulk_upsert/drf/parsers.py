"""JSON whose numbers keep the text they were written with.

DRF's parser reads ``1.10`` as the binary float ``1.1``, and ``0.1 + 0.2``
worth of error then reaches a decimal field. A CSV cell holds the digits as
written; reading each JSON number with a fractional part or exponent as its
text keeps that (:mod:`.records` turns it into the cell unchanged).
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

__all__ = ["BulkUpsertJSONParser"]


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


class BulkUpsertJSONParser(JSONParser):
    """``application/json``, numbers with a fraction or an exponent kept as their text."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
            return json.loads(text, parse_float=str, parse_constant=_refuse_constant)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise ParseError(f"JSON parse error - {exc}") from exc
