"""XLSX's own XML, read for what calamine does not say: which sheet is active, and error cells.

openpyxl read ``wb.active`` (the first workbook view's ``activeTab``, hidden
or not), and calamine has no notion of it; calamine reads an error cell
(``#N/A``, ``#DIV/0!``) as empty, where openpyxl gave its text. Both are found
here in the zip's parts, with the standard library only.
"""

from __future__ import annotations

import dataclasses
import posixpath
import re
import zipfile
from xml.etree import ElementTree

__all__ = ["XlsxParts", "error_cells", "error_cells_in", "xlsx_parts"]


@dataclasses.dataclass(frozen=True)
class XlsxParts:
    #: Index of openpyxl's ``wb.active`` among the workbook's sheets.
    active: int
    #: Each sheet's part in the zip, in workbook order (``""`` when not found).
    sheet_paths: list[str]
    #: The workbook part, its relationships and the parts they name but the
    #: sheets (styles, shared strings, theme...): what a reader needs besides a sheet.
    workbook_parts: list[str]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """``{id: (type, path in the zip)}`` of a part's relationships (``""``: the package's)."""
    folder, name = posixpath.split(part)
    rels_path = posixpath.join(folder, "_rels", name + ".rels")
    try:
        root = ElementTree.fromstring(archive.read(rels_path))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {}
    for rel in root:
        target = rel.get("Target", "")
        if target.startswith("/"):
            resolved = target.lstrip("/")
        else:
            resolved = posixpath.normpath(posixpath.join(folder, target))
        targets[rel.get("Id", "")] = (rel.get("Type", ""), resolved)
    return targets


#: Relationship types (their last segment) of the workbook's sheets.
_SHEET_KINDS = ("/worksheet", "/chartsheet", "/dialogsheet", "/xlMacrosheet", "/xlIntlMacrosheet")


def xlsx_parts(archive: zipfile.ZipFile) -> XlsxParts | None:
    """The active sheet's index (openpyxl's ``wb.active``) and each sheet's part in the zip.

    ``None`` when the workbook part cannot be found or parsed: calamine then
    reports the broken file, or reads its first sheet.
    """
    workbook_path = next(
        (
            path
            for kind, path in _relationships(archive, "").values()
            if kind.endswith("/officeDocument")
        ),
        "xl/workbook.xml",
    )
    try:
        root = ElementTree.fromstring(archive.read(workbook_path))
    except (KeyError, ElementTree.ParseError):
        return None
    rels = _relationships(archive, workbook_path)
    active: int | None = None
    sheet_paths = []
    for element in root.iter():
        name = _local(element.tag)
        if name == "workbookView" and active is None:  # openpyxl reads the first view's
            tab = element.get("activeTab") or "0"
            active = int(tab) if tab.isdigit() else 0
        elif name == "sheet":
            rel_id = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
            sheet_paths.append(rels.get(rel_id, ("", ""))[1])
    folder, name = posixpath.split(workbook_path)
    workbook_parts = [workbook_path, posixpath.join(folder, "_rels", name + ".rels")]
    workbook_parts += [path for kind, path in rels.values() if not kind.endswith(_SHEET_KINDS)]
    return XlsxParts(active or 0, sheet_paths, workbook_parts)


_ERROR_MARK = b't="e"'
_XML_BLOCK = 1 << 20
_ERROR_CELL = re.compile(
    rb"<(?:\w+:)?c\b([^>]*\bt=[\"']e[\"'][^>]*)(?<!/)>(.*?)</(?:\w+:)?c>", re.S
)
_REFERENCE = re.compile(rb"\br=[\"']([A-Z]+)([0-9]+)[\"']")
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
#: The end of a cell or a row: text holds no ``<``, so this never falls inside a value.
_CELL_END = re.compile(rb"</(?:\w+:)?(?:c|row)>")


def error_cells(archive: zipfile.ZipFile, sheet_path: str) -> dict[int, list[tuple[int, str]]]:
    """``{row: [(column, text), ...]}`` of the sheet's error cells (``#N/A``...), from 0.

    The XML is inflated a block at a time and not kept; only blocks with the
    error marker are searched. A block is cut after its last complete cell.
    """
    found: dict[int, list[tuple[int, str]]] = {}
    pending = b""
    try:
        with archive.open(sheet_path) as stream:
            while True:
                block = stream.read(_XML_BLOCK)
                text = pending + block
                cut = len(text) if not block else _last_cell_end(text)
                _find_error_cells(text[:cut], found)
                pending = text[cut:]
                if not block:
                    return found
    except (KeyError, zipfile.BadZipFile, OSError):
        return found


def error_cells_in(xml: bytes) -> dict[int, list[tuple[int, str]]]:
    """:func:`error_cells` of a piece of the sheet's XML holding whole rows."""
    found: dict[int, list[tuple[int, str]]] = {}
    _find_error_cells(xml, found)
    return found


def _last_cell_end(text: bytes) -> int:
    position = text.rfind(b"</")
    while position >= 0:
        end = _CELL_END.match(text, position)
        if end is not None:
            return end.end()
        position = text.rfind(b"</", 0, position)
    return 0


def _find_error_cells(xml: bytes, found: dict[int, list[tuple[int, str]]]) -> None:
    if _ERROR_MARK not in xml:  # the common case: a scan for it is far cheaper than the regex
        return
    for cell in _ERROR_CELL.finditer(xml):
        reference = _REFERENCE.search(cell.group(1))
        value = _VALUE.search(cell.group(2))
        if reference is None or value is None:
            continue
        row = int(reference.group(2)) - 1
        column = _column_index(reference.group(1).decode())
        found.setdefault(row, []).append((column, value.group(1).decode()))


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1
