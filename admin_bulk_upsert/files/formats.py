"""The import formats the admin offers: what :mod:`.reading` reads, not what tablib reads.

django-import-export offers a format in its import form only when tablib can
read it, and tablib reads XLSX only with openpyxl installed, XLS only with
xlrd and xlwt, ODS only with odfpy. The plugin reads those with
python-calamine, and CSV and TSV with :mod:`csv` (:func:`.reading.read_dataset`),
so it offers them whatever tablib has. Other formats (JSON, YAML, HTML) are
read by DIE's readers and offered, as by DIE, when tablib can read them.

Export is untouched: DIE writes the files, so its export list stays its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tablib
from import_export.formats import base_formats

from .reading import read_dataset

__all__ = ["import_formats"]

#: DIE's default formats in its order, before it drops those tablib cannot read.
_DIE_DEFAULTS: tuple[type[base_formats.Format], ...] = (
    base_formats.CSV,
    base_formats.XLS,
    base_formats.XLSX,
    base_formats.TSV,
    base_formats.ODS,
    base_formats.JSON,
    base_formats.YAML,
    base_formats.HTML,
)


class _ReadHere:
    """A DIE format class read by :func:`.reading.read_dataset` rather than by tablib.

    It is available and importable without tablib's optional packages. Its
    title and extension are the format's name, as DIE's are, so that DIE's
    format guess from the file name still picks it.
    """

    name = ""

    @classmethod
    def is_available(cls) -> bool:
        return True

    def get_title(self) -> str:
        return self.name

    def get_extension(self) -> str:
        return self.name

    def can_import(self) -> bool:
        return True

    def can_export(self) -> bool:
        return _die_can(super(), "can_export")

    def create_dataset(self, in_stream: bytes | str, **kwargs: Any) -> tablib.Dataset:
        """The file read as the admin reads it; text already decoded is read as such."""
        if isinstance(in_stream, str):
            return read_dataset(in_stream.encode(), input_format=self.name, encoding="utf-8")
        encoding = getattr(self, "encoding", None)
        return read_dataset(in_stream, input_format=self.name, encoding=encoding)


class CSV(_ReadHere, base_formats.CSV):
    name = "csv"


class TSV(_ReadHere, base_formats.TSV):
    name = "tsv"


class XLSX(_ReadHere, base_formats.XLSX):
    name = "xlsx"


class XLS(_ReadHere, base_formats.XLS):
    name = "xls"


class ODS(_ReadHere, base_formats.ODS):
    name = "ods"


_READ_HERE: dict[str, type[base_formats.Format]] = {
    format_class.name: format_class for format_class in (CSV, TSV, XLSX, XLS, ODS)
}


def import_formats(
    configured: Sequence[type[base_formats.Format]],
) -> list[type[base_formats.Format]]:
    """The formats to offer for ``configured``, DIE's admin's ``import_formats``.

    DIE's own default (no ``IMPORT_FORMATS`` or ``IMPORT_EXPORT_FORMATS``
    setting) is taken before DIE drops the formats tablib cannot read. Each
    format DIE can import is kept as configured; one it cannot, but that the
    plugin reads, is replaced by the plugin's class of the same name; any
    other is left out, as DIE leaves it out.
    """
    if configured is base_formats.DEFAULT_FORMATS:
        configured = _DIE_DEFAULTS
    offered = []
    for format_class in configured:
        if format_class.is_available() and _die_can(format_class(), "can_import"):
            offered.append(format_class)
        elif (ours := _READ_HERE.get(_tablib_name(format_class))) is not None:
            offered.append(ours)
    return offered


def _tablib_name(format_class: type[base_formats.Format]) -> str:
    """``xlsx`` for ``tablib.formats._xlsx``: the key DIE asks tablib's registry for."""
    module = getattr(format_class, "TABLIB_MODULE", None) or ""
    return module.rsplit(".", 1)[-1].replace("_", "")


def _die_can(fmt: Any, method: str) -> bool:
    """DIE's ``can_import()``/``can_export()``, False where tablib lacks the format.

    DIE's answer asks tablib's registry, which raises for a format whose
    optional package is not installed.
    """
    try:
        return bool(getattr(fmt, method)())
    except (tablib.UnsupportedFormat, ImportError):
        return False
