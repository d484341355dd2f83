"""Bytes of a CSV/TSV upload -> text: UTF-8 (BOM or not), Windows-1252, Latin-1, or detected.

Excel on Windows saves "CSV" in the machine's ANSI code page (Windows-1252 in
western Europe and the Americas) and "CSV UTF-8" with a byte order mark.
Stock DIE decodes with ``from_encoding`` (``utf-8-sig``) and refuses anything
else. Here, when nobody chose an encoding, UTF-8 is tried first: text in
another 8-bit encoding with accented letters is almost never valid UTF-8, so a
file that decodes is UTF-8. If it does not, it is read as Windows-1252, whose
letters, euro sign and typographic quotes are what such files hold. The five
bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) are read as
Latin-1 does (the C1 control with that number), as browsers read
"windows-1252", so that decoding never fails and no byte is dropped. A Latin-1
file differs from Windows-1252 only in the 0x80-0x9F range, where Latin-1 has
invisible control characters: detection never guesses Latin-1, the user or
the project chooses it.

No statistical detector (chardet) is used: it is slow on large files, and it
guesses between encodings these files never use.
"""

from __future__ import annotations

import codecs
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

__all__ = [
    "AUTO",
    "DecodeError",
    "decode",
    "detect_encoding",
    "encoding_choices",
    "encoding_label",
    "requested_encoding",
    "same_encoding",
]

#: The form's and the command's word for "detect the encoding".
AUTO = "auto"
_UTF8 = "utf-8-sig"
_WINDOWS_1252 = "cp1252"
_LATIN_1 = "latin-1"
#: DIE's ``ImportMixin.from_encoding`` default, which means "not chosen" here.
DIE_DEFAULT_ENCODING = "utf-8-sig"
_C1_HANDLER = "admin_bulk_upsert.c1_controls"


def _c1_controls(error: UnicodeError) -> tuple[str, int]:
    """Decode the bytes Windows-1252 leaves undefined as their Latin-1 code points."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    undefined = error.object[error.start : error.end]
    return "".join(chr(byte) for byte in undefined), error.end


codecs.register_error(_C1_HANDLER, _c1_controls)


class DecodeError(ValueError):
    """The bytes are not text in the encoding asked for; the message says where, translated."""


def encoding_choices() -> list[tuple[str, Any]]:
    """The choices of the admin's encoding select, ``AUTO`` first."""
    return [
        (AUTO, gettext_lazy("Detect automatically (UTF-8, else Windows-1252)")),
        ("utf-8", gettext_lazy("UTF-8 (with or without BOM)")),
        (_WINDOWS_1252, gettext_lazy("Windows-1252 (Excel on Windows, western Europe)")),
        (_LATIN_1, gettext_lazy("Latin-1 (ISO-8859-1)")),
    ]


def requested_encoding(from_encoding: str | None) -> str | None:
    """The encoding an admin's ``from_encoding`` asks for, ``None`` meaning "detect".

    DIE's default (``utf-8-sig``) is what every admin has unless its project
    changed it, so it means "not chosen": detection still tries UTF-8 first,
    BOM or not, and reads what stock DIE would refuse. Any other value is the
    project's choice and is used as is.
    """
    if not from_encoding or from_encoding == AUTO:
        return None
    try:
        if codecs.lookup(from_encoding).name == codecs.lookup(DIE_DEFAULT_ENCODING).name:
            return None
    except LookupError:
        pass  # reading reports it

    return from_encoding


def detect_encoding(data: bytes) -> str:
    """``utf-8-sig`` if ``data`` is valid UTF-8 (BOM or not), else ``cp1252``."""
    try:
        codecs.decode(data, _UTF8)
    except UnicodeDecodeError:
        return _WINDOWS_1252
    return _UTF8


def decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    """``(text, encoding used)``; ``encoding`` ``None`` (or ``"auto"``) detects it.

    Windows-1252, chosen or detected, reads its five undefined bytes as
    Latin-1 does. A byte order mark is removed with any UTF-8 spelling.

    Raises :class:`DecodeError` naming the line and byte where the text stops
    being valid in the chosen encoding, and :class:`LookupError` for an
    encoding Python does not know.
    """
    if encoding is None or encoding == AUTO:
        try:
            return codecs.decode(data, _UTF8), _UTF8
        except UnicodeDecodeError:
            encoding = _WINDOWS_1252
    name = _canonical(encoding)
    if name == "cp1252":
        return data.decode("cp1252", errors=_C1_HANDLER), encoding
    if name == "utf-8":
        encoding = _UTF8  # a BOM is not part of the first column's name
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        params = {
            "encoding": encoding_label(encoding),
            "line": data.count(b"\n", 0, exc.start) + 1,
            "offset": exc.start,
        }
        raise DecodeError(
            _(
                "The file is not valid %(encoding)s (line %(line)s, byte %(offset)s). "
                "Choose the file’s encoding, or save it as “CSV UTF-8”."
            )
            % params
        ) from exc


def stream_encoding(file: Any, start: int, encoding: str | None) -> tuple[str, str]:
    """``(encoding, errors)`` to read ``file`` as a stream, as :func:`decode` reads bytes.

    ``encoding`` ``None`` (or ``"auto"``) is detected with one pass of an
    incremental UTF-8 decoder over the file, which is left at ``start``.
    ``errors`` is the handler that gives Windows-1252's undefined bytes their
    Latin-1 meaning, or ``"strict"``.
    """
    if encoding is None or encoding == AUTO:
        decoder = codecs.getincrementaldecoder(_UTF8)()
        file.seek(start)
        encoding = _UTF8
        try:
            while block := file.read(1 << 16):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            encoding = _WINDOWS_1252
        file.seek(start)
    name = _canonical(encoding)
    if name == "cp1252":
        return encoding, _C1_HANDLER
    if name == "utf-8":
        return _UTF8, "strict"  # a BOM is not part of the first column's name
    return encoding, "strict"


def same_encoding(first: str, second: str) -> bool:
    """Whether two names spell one encoding (``utf_8`` and ``UTF-8``, ``latin1`` and ``l1``)."""
    return _canonical(first) == _canonical(second)


def encoding_label(encoding: str) -> str:
    """The name people know an encoding by (``UTF-8``, ``Windows-1252``)."""
    name = _canonical(encoding)
    return {"utf-8": "UTF-8", "cp1252": "Windows-1252", "latin-1": "Latin-1"}.get(name, encoding)


def _canonical(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    return {"utf-8-sig": "utf-8", "iso8859-1": "latin-1"}.get(name, name)
