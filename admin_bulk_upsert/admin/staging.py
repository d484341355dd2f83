"""Uploads kept between the dry-run preview and the confirmed import.

Stock DIE puts the temp file's bare name in the confirm form and imports (then
deletes) whatever file a POST names. Here the confirm form carries a token
signed with ``django.core.signing``: it names a random staged-file id and binds
it to the uploading user, the model, the input format, the text encoding the
preview read it with, the chosen key fields, the column mapping and the SHA-256
of the content.
The token is verified before the disk is touched, so a forged or foreign token
can neither read nor delete anything.

Staged files live in ``STAGING_DIR`` (default: ``<tempdir>/admin_bulk_upsert``)
and expire after ``STAGING_MAX_AGE`` seconds, like the token itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from django.core import signing
from django.utils.translation import gettext as _

from ..conf import get_config
from ..jobs.storage import StorageFull, disk_full

SALT = "admin_bulk_upsert.admin.staging"
_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_UPLOAD_SUFFIX = ".upload"
_PREVIEW_SUFFIX = ".preview.csv"
_CLAIMED_SUFFIX = ".claimed"


class StagingError(Exception):
    """The staged upload cannot be used; ``status`` is the HTTP status to answer with."""

    status = 400


class TamperedToken(StagingError):
    """The token's signature does not verify (or its payload is malformed)."""


class ExpiredToken(StagingError):
    """The token is older than ``STAGING_MAX_AGE``: the upload must be repeated."""


class ForeignToken(StagingError):
    """The token is genuine but was issued to another user or for another model."""

    status = 403


class MissingUpload(StagingError):
    """The staged file is gone (imported already, expired and cleaned up) or altered."""


@dataclasses.dataclass(frozen=True)
class StagedUpload:
    """What the signed token says about one staged upload."""

    staged_id: str
    user_pk: str
    model_label: str
    input_format: str
    resource_index: int
    unique_fields: tuple[str, ...]
    file_name: str
    sha256: str
    #: The encoding the preview decoded a text file with (``""``: a spreadsheet).
    encoding: str = ""
    #: ``{file header: field name}`` chosen on the mapping page (empty: headers matched).
    column_map: dict[str, str] = dataclasses.field(default_factory=dict)

    def as_payload(self) -> dict[str, Any]:
        return {
            "id": self.staged_id,
            "u": self.user_pk,
            "m": self.model_label,
            "f": self.input_format,
            "r": self.resource_index,
            "k": list(self.unique_fields),
            "n": self.file_name,
            "h": self.sha256,
            "e": self.encoding,
            "c": self.column_map,
        }

    @classmethod
    def from_payload(cls, payload: Any) -> StagedUpload:
        try:
            upload = cls(
                staged_id=str(payload["id"]),
                user_pk=str(payload["u"]),
                model_label=str(payload["m"]),
                input_format=str(payload["f"]),
                resource_index=int(payload["r"]),
                unique_fields=tuple(str(name) for name in payload["k"]),
                file_name=str(payload["n"]),
                sha256=str(payload["h"]),
                encoding=str(payload.get("e", "")),
                column_map={str(k): str(v) for k, v in dict(payload.get("c") or {}).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise TamperedToken("malformed staging token") from exc
        if not _ID_RE.match(upload.staged_id):
            # A valid signature over a bad id means our own bug; never build a path from it.
            raise TamperedToken("malformed staged-file id")
        return upload

    @property
    def token(self) -> str:
        return signing.dumps(self.as_payload(), salt=SALT, compress=True)


def staging_dir() -> Path:
    """The folder for staged uploads, created on first use with owner-only access."""
    configured = get_config().STAGING_DIR
    folder = Path(configured) if configured else Path(tempfile.gettempdir()) / "admin_bulk_upsert"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def upload_path(upload: StagedUpload) -> Path:
    return staging_dir() / f"{upload.staged_id}{_UPLOAD_SUFFIX}"


def preview_csv_path(upload: StagedUpload) -> Path:
    """Where the full preview of ``upload`` is written as CSV (row, outcome, changes, error)."""
    return staging_dir() / f"{upload.staged_id}{_PREVIEW_SUFFIX}"


def open_preview_csv(upload: StagedUpload) -> TextIO:
    """Create the preview CSV of ``upload`` for writing, readable by the owner only."""
    fd = os.open(preview_csv_path(upload), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", newline="", encoding="utf-8")


def stage_upload(
    data: bytes,
    *,
    user_pk: Any,
    model_label: str,
    input_format: str,
    resource_index: int,
    unique_fields: list[str] | tuple[str, ...],
    file_name: str,
    encoding: str = "",
    column_map: dict[str, str] | None = None,
) -> StagedUpload:
    """Write ``data`` to a new staged file and describe it; expired uploads are removed first."""
    cleanup_expired()
    upload = StagedUpload(
        staged_id=secrets.token_hex(16),
        user_pk=str(user_pk),
        model_label=model_label,
        input_format=input_format,
        resource_index=resource_index,
        unique_fields=tuple(unique_fields),
        file_name=os.path.basename(file_name)[:200],
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
        column_map=dict(column_map or {}),
    )
    path = upload_path(upload)
    # O_EXCL: a random id never collides, but never write through someone's symlink either.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as staged:
            staged.write(data)
    except OSError as exc:
        path.unlink(missing_ok=True)  # no partial upload is kept
        if disk_full(exc):
            raise staging_full(exc) from exc
        raise
    return upload


def restage(upload: StagedUpload, data: bytes) -> StagedUpload:
    """Stage ``data`` (claimed from ``upload``) again, under a new id and token."""
    return stage_upload(
        data,
        user_pk=upload.user_pk,
        model_label=upload.model_label,
        input_format=upload.input_format,
        resource_index=upload.resource_index,
        unique_fields=upload.unique_fields,
        file_name=upload.file_name,
        encoding=upload.encoding,
        column_map=upload.column_map,
    )


def staging_full(exc: OSError) -> StorageFull:
    """The error an upload gets when ``STAGING_DIR``'s disk is full (shown on the form)."""
    return StorageFull(
        _(
            "The server has no space left to keep this upload (%(error)s): nothing was "
            "kept. Try again once space has been freed."
        )
        % {"error": exc.strerror or exc}
    )


def load_token(token: str, *, user_pk: Any, model_label: str) -> StagedUpload:
    """Verify ``token`` for this user and model, without touching the disk.

    Raises :class:`TamperedToken`, :class:`ExpiredToken` or :class:`ForeignToken`.
    """
    try:
        payload = signing.loads(token, salt=SALT, max_age=get_config().STAGING_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ExpiredToken(str(exc)) from exc
    except signing.BadSignature as exc:
        raise TamperedToken(str(exc)) from exc
    upload = StagedUpload.from_payload(payload)
    if upload.user_pk != str(user_pk) or upload.model_label != model_label:
        raise ForeignToken("staging token issued to another user or model")
    return upload


def claim_upload(upload: StagedUpload) -> bytes:
    """Take the staged content for import, so that a second confirm finds nothing.

    The file is renamed first (atomic), then read and checked against the
    token's hash. The caller deletes it with :func:`discard` once done.
    """
    path = upload_path(upload)
    claimed = path.with_name(path.name + _CLAIMED_SUFFIX)
    try:
        os.rename(path, claimed)
    except FileNotFoundError as exc:
        raise MissingUpload("staged upload not found") from exc
    data = claimed.read_bytes()
    if hashlib.sha256(data).hexdigest() != upload.sha256:
        claimed.unlink(missing_ok=True)
        raise MissingUpload("staged upload does not match its token")
    return data


def read_upload(upload: StagedUpload) -> bytes:
    """The staged content, left in place (the mapping step reads it, the confirm claims it).

    Raises :class:`MissingUpload` if it is gone or no longer matches the token.
    """
    try:
        data = upload_path(upload).read_bytes()
    except FileNotFoundError as exc:
        raise MissingUpload("staged upload not found") from exc
    if hashlib.sha256(data).hexdigest() != upload.sha256:
        raise MissingUpload("staged upload does not match its token")
    return data


def discard(upload: StagedUpload) -> None:
    """Delete every file staged for ``upload`` (content, claimed content, preview CSV)."""
    path = upload_path(upload)
    for leftover in (path, path.with_name(path.name + _CLAIMED_SUFFIX), preview_csv_path(upload)):
        leftover.unlink(missing_ok=True)


def cleanup_expired(*, now: float | None = None) -> int:
    """Delete staged files older than ``STAGING_MAX_AGE``; return how many were deleted.

    Called on every upload; projects may also run it from a periodic task.
    """
    deadline = (time.time() if now is None else now) - get_config().STAGING_MAX_AGE
    deleted = 0
    for entry in staging_dir().iterdir():
        name = entry.name
        if not _ID_RE.match(name[:32]) or not name[32:].startswith(
            (_UPLOAD_SUFFIX, _PREVIEW_SUFFIX)
        ):
            continue  # not ours: STAGING_DIR may be shared
        try:
            if entry.stat().st_mtime < deadline:
                entry.unlink()
                deleted += 1
        except FileNotFoundError:
            continue  # removed concurrently
    return deleted
