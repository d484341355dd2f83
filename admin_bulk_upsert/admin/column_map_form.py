"""The mapping page's form: one choice of resource field (or "ignore") per file column.

Its fields are numbered (``column_map-0``, ``column_map-1`` ...) in file order,
since headers may hold any character; each field's label is its header. The
checks are :func:`..column_mapping.validation.mapping_errors`', shared with
``bulk_import --map``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ..column_mapping.matching import ColumnMatch
from ..column_mapping.targets import ColumnTarget
from ..column_mapping.validation import ColumnMap, mapping_errors

PREFIX = "column_map"

#: How the page says which rule pre-filled a choice (:data:`..column_mapping.matching.RULES`).
RULE_LABELS = {
    "exact": _("same name"),
    "name": _("similar name"),
    "verbose_name": _("field's verbose name"),
    "alias": _("declared alias"),
    "remembered": _("your last choice"),
}


class ColumnMapForm(forms.Form):
    """Maps each of ``headers`` to one of ``targets``; ``key_fields`` must all be mapped."""

    def __init__(
        self,
        headers: Sequence[str],
        targets: Sequence[ColumnTarget],
        key_fields: Sequence[str],
        *,
        matches: Mapping[str, ColumnMatch] | None = None,
        data: Any = None,
    ) -> None:
        matches = matches or {}
        initial = {
            _name(index): matches[header].field_name
            for index, header in enumerate(headers)
            if header in matches
        }
        super().__init__(data=data, initial=initial, prefix=PREFIX)
        self.headers = list(headers)
        self.targets = list(targets)
        self.key_fields = list(key_fields)
        self.matches = dict(matches)
        keys = set(key_fields)
        choices = [("", _("— ignore this column —"))] + [
            (target.field_name, f"{target.label} *" if target.field_name in keys else target.label)
            for target in targets
        ]
        for index, header in enumerate(headers):
            self.fields[_name(index)] = forms.ChoiceField(
                label=header, choices=choices, required=False
            )

    @property
    def rows(self) -> list[dict[str, Any]]:
        """What the page's table shows per file column: header, choice, how it was matched."""
        rows = []
        for index, header in enumerate(self.headers):
            match = self.matches.get(header)
            rows.append(
                {
                    "header": header,
                    "field": self[_name(index)],
                    "rule": RULE_LABELS.get(match.rule, "") if match and match.field_name else "",
                }
            )
        return rows

    @property
    def column_map(self) -> ColumnMap:
        """``{header: field name}`` once valid (``""`` for an ignored column)."""
        return {
            header: self.cleaned_data.get(_name(index)) or ""
            for index, header in enumerate(self.headers)
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            for message in mapping_errors(self.column_map, self.targets, self.key_fields):
                self.add_error(None, message)
        return cleaned


def _name(index: int) -> str:
    return str(index)
