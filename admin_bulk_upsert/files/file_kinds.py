"""What a file is when it is not of the format chosen for it, told from its first bytes.

A PDF, a Word document or a photo uploaded as CSV would be decoded as text
(Windows-1252 decodes any byte) and read as a table of garbage, whose first
line "lacks the key columns"; an CSV uploaded as XLSX is "not a valid XLSX
workbook", which does not say what to do. The readers ask here first, so the
message says what the file looks like instead: "The file is not a CSV file:
it looks like a PDF document."

Only what the first bytes show for certain is named: a signature (PDF, RTF,
images, zip and OLE containers, and in a zip the folder of an Excel, Word or
PowerPoint file), markup (HTML, XML), JSON, or control characters no text
file holds. A text file with no signature is taken for what it was chosen as.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

__all__ = ["is_binary", "kind_of", "not_a_table_message"]

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls and other MS Office files

#: How much of the file is looked at.
HEAD_BYTES = 8192

# Bytes below 0x20 that text files hold: tab, line feed, vertical tab, form
# feed, carriage return, and the end-of-file mark some old tools write.
_TEXT_CONTROLS = frozenset(b"\t\n\x0b\x0c\r\x1a\x1b")
_CONTROLS = bytes(byte for byte in range(32) if byte not in _TEXT_CONTROLS)
#: Control characters in more than this share of the first bytes make them binary.
_BINARY_SHARE = 0.01

_JSON_START = re.compile(rb'\s*(?:\{\s*["}]|\[\s*[\[{"\]])')


def is_binary(head: bytes) -> bool:
    """Whether the first bytes hold a NUL, or control characters no text file holds.

    UTF-16 text holds NUL bytes: callers reading UTF-16 do not ask.
    """
    sample = head[:HEAD_BYTES]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROLS))
    return controls > 2 and controls > _BINARY_SHARE * len(sample)


def kind_of(head: bytes) -> str | None:
    """What the first bytes show the file to be, in words ("a PDF document"), or None."""
    sample = head[:HEAD_BYTES]
    if sample.startswith(ZIP_MAGIC):
        return _zip_kind(sample)
    if sample.startswith(OLE_MAGIC):
        return _("an old Excel (.xls) workbook or another Office document")
    for magic, kind in (
        (b"%PDF-", _("a PDF document")),
        (b"{\\rtf", _("an RTF document")),
        (b"\x89PNG", _("an image")),
        (b"\xff\xd8\xff", _("an image")),
        (b"GIF8", _("an image")),
    ):
        if sample.startswith(magic):
            return kind
    text = sample.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html")):
        return _("a web page (HTML)")
    if text.startswith(b"<?xml"):
        return _("an XML file")
    if _JSON_START.match(text):
        return _("a JSON file")
    return None


def _zip_kind(head: bytes) -> str:
    # A zip's first entries' names follow their headers: an Office file names its folder.
    if b"xl/" in head:
        return _("an Excel workbook")
    if b"word/" in head:
        return _("a Word document")
    if b"ppt/" in head:
        return _("a PowerPoint presentation")
    if b"opendocument.spreadsheet" in head:
        return _("an OpenDocument spreadsheet")
    return _("an Excel workbook or another zip archive")


def not_a_table_message(head: bytes, fmt: str) -> str | None:
    """Why ``head`` cannot be the start of a ``fmt`` (CSV, TSV) file, or None if it may be."""
    label = fmt.upper()
    kind = kind_of(head)
    if kind is not None:
        return _(
            "The file is not a %(format)s file: it looks like %(kind)s. "
            "Choose the format that matches it, or save it as %(format)s."
        ) % {"format": label, "kind": kind}
    if is_binary(head):
        return _("The file is not a %(format)s file: it contains binary data.") % {"format": label}
    return None


def not_a_workbook_hint(head: bytes, fmt: str) -> str:
    """What a file refused as a ``fmt`` workbook looks like, as a sentence to add, or ``""``.

    Nothing is added when the file looks like a workbook of ``fmt`` (a damaged one).
    """
    if not head.strip():
        return ""
    magic = OLE_MAGIC if fmt == "xls" else ZIP_MAGIC
    if head.startswith(magic) and (fmt == "xls" or kind_of(head) != _("a Word document")):
        return ""
    kind = kind_of(head)
    if kind is None and not is_binary(head):
        return _("It looks like a text (CSV) file: choose CSV as its format.")
    if kind is None:
        return ""
    return _("It looks like %(kind)s.") % {"kind": kind}
