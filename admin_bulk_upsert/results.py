"""Row results whose diff is rendered only when someone reads it.

Stock django-import-export renders an HTML diff of every row as it imports
(diff-match-patch over every column): a large share of its per-row cost, paid
even when nobody looks. The admin preview shows a hundred rows; so here
``row_result.diff`` is computed on first access, from the instance as it was
before the row (a shallow copy) and the instance after the chunk was written,
which is what stock compares too.
"""

from __future__ import annotations

from typing import Any

from import_export.results import RowResult


class LazyDiffRowResult(RowResult):
    """A :class:`~import_export.results.RowResult` with a diff made on demand."""

    def __init__(self) -> None:
        self._diff: list[str] | None = None
        self._diff_source: Any = None
        super().__init__()

    def defer_diff(self, resource: Any, before: Any, after: Any, new: bool) -> None:
        """Remember what to compare; :attr:`diff` renders it when first read."""
        self._diff_source = (resource, before, after, new)

    def defer_diff_rendering(self, diff: Any) -> None:
        """Keep a diff whose values were read already; :attr:`diff` renders it when first read."""
        self._diff_source = diff

    @property  # type: ignore[override]
    def diff(self) -> list[str] | None:
        if self._diff is None and self._diff_source is not None:
            source, self._diff_source = self._diff_source, None
            if isinstance(source, tuple):
                resource, before, after, new = source
                diff = resource.get_diff_class()(resource, before, new)
                diff.compare_with(resource, after)
            else:
                diff = source
            self._diff = diff.as_html()
        return self._diff

    @diff.setter
    def diff(self, value: list[str] | None) -> None:
        self._diff = value
        self._diff_source = None
