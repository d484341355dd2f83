"""How much the admin adds on top of the engine: preview and confirm vs ``import_data``.

The target is that the preview (upload, read, stage, dry run, summary, CSV,
page) and the confirm (verify, read, import, log entries) each take at most
1.5x the resource's own ``import_data`` (dry run and real run respectively) on
the same file. This is a measurement to run by hand or from the demo's
benchmark, never a timed test: the machine's noise is ±20-30 %.

``measure_admin_import`` drives the real admin views in process with
``django.test.Client`` (no network), on whatever database the project uses.
``preview_and_confirm`` has the signature of the demo benchmark's
``--admin-callable``.
"""

from __future__ import annotations

import dataclasses
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from admin_bulk_upsert.files.reading import read_dataset

_TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')
_OPTION_RE = r'<option value="(\d+)"[^>]*>{name}</option>'
_CHECKED_KEY_RE = re.compile(
    r'<input type="checkbox" name="import_id_fields" value="([^"]+)"[^>]*checked'
)


@dataclasses.dataclass(frozen=True)
class AdminImportTimings:
    """Seconds for each step, and the admin's ratios to the engine alone."""

    rows: int
    read_seconds: float
    dry_run_seconds: float
    preview_seconds: float
    import_seconds: float
    confirm_seconds: float
    preview_page_bytes: int

    @property
    def preview_ratio(self) -> float:
        return self.preview_seconds / self.dry_run_seconds

    @property
    def confirm_ratio(self) -> float:
        return self.confirm_seconds / self.import_seconds

    def summary(self) -> str:
        return (
            f"{self.rows} rows: read {self.read_seconds:.2f}s; "
            f"dry run {self.dry_run_seconds:.2f}s vs preview {self.preview_seconds:.2f}s "
            f"({self.preview_ratio:.2f}x); import {self.import_seconds:.2f}s vs confirm "
            f"{self.confirm_seconds:.2f}s ({self.confirm_ratio:.2f}x); "
            f"preview page {self.preview_page_bytes / 1024:.0f} KB"
        )


def preview_and_confirm(client: Any, import_url: str, file_name: str, data: bytes) -> Any:
    """Upload ``data`` with the default key, then confirm; returns the confirm response."""
    preview = upload(client, import_url, file_name, data)
    return confirm(client, import_url, preview)


def upload(
    client: Any,
    import_url: str,
    file_name: str,
    data: bytes,
    unique_fields: list[str] | None = None,
) -> Any:
    """POST the upload form as a browser would, choosing the CSV format."""
    payload = {
        **form_fields(client, import_url, "csv"),
        "import_file": SimpleUploadedFile(file_name, data, "text/csv"),
    }
    if unique_fields:
        payload["import_id_fields"] = unique_fields
    response = client.post(import_url, payload)
    if response.status_code != 200 or not _TOKEN_RE.search(response.content.decode()):
        raise RuntimeError(f"the preview offers no confirm step (status {response.status_code})")
    return response


def form_fields(client: Any, import_url: str, format_name: str) -> dict[str, Any]:
    """The upload form's fields but the file, as a browser fills them: the default key.

    The page is read as HTML (``response.context`` exists only under the test runner).
    """
    page = client.get(import_url).content.decode()
    choice = re.search(_OPTION_RE.format(name=re.escape(format_name)), page)
    return {
        "resource": "0",
        "format": choice.group(1) if choice else "0",
        "import_id_fields": _CHECKED_KEY_RE.findall(page),
    }


def check_upload_response(response: Any) -> str:
    """What the upload POST did: queued a job (a redirect to its page) or showed a preview.

    Raises when it did neither (a form error, a failed preview).
    """
    if response.status_code == 302:
        return "job queued"
    if response.status_code == 200 and _TOKEN_RE.search(response.content.decode()):
        return "preview in the request"
    raise RuntimeError(
        f"the upload neither queued a job nor previewed (status {response.status_code})"
    )


def confirm(client: Any, import_url: str, preview: Any) -> Any:
    token = _TOKEN_RE.search(preview.content.decode())
    if token is None:
        raise RuntimeError("no token in the preview page")
    process_url = import_url.replace("/import/", "/process_import/")
    response = client.post(process_url, {"token": token.group(1)})
    if response.status_code != 302:
        raise RuntimeError(f"the confirm step answered {response.status_code}")
    return response


def measure_admin_import(
    *,
    client: Any,
    import_url: str,
    resource_class: type[Any],
    file_name: str,
    data: bytes,
    reset: Callable[[], None],
    unique_fields: list[str] | None = None,
    repeat: int = 3,
) -> AdminImportTimings:
    """Time the engine alone and the admin views on the same file; medians of ``repeat`` runs.

    ``reset`` must bring the database back to the state before the import (it
    runs before each step and is not timed). ``client`` is logged in as a user
    who may import. Each round runs the four steps back to back, so that the
    machine's drift hits the engine and the admin alike.
    """
    keys = unique_fields or list(resource_class().get_import_id_fields())
    started = time.perf_counter()
    dataset = read_dataset(data, filename=file_name)
    read_seconds = time.perf_counter() - started

    def engine(dry_run: bool) -> float:
        reset()
        resource = resource_class()
        started = time.perf_counter()
        resource.import_data(
            dataset, dry_run=dry_run, raise_errors=False, use_transactions=True, unique_fields=keys
        )
        return time.perf_counter() - started

    page_sizes = []

    def preview() -> float:
        reset()
        started = time.perf_counter()
        page = upload(client, import_url, file_name, data, keys)
        elapsed = time.perf_counter() - started
        page_sizes.append(len(page.content))
        return elapsed

    def confirmed() -> float:
        reset()
        page = upload(client, import_url, file_name, data, keys)
        started = time.perf_counter()
        confirm(client, import_url, page)
        return time.perf_counter() - started

    rounds = [(engine(True), preview(), engine(False), confirmed()) for _ in range(repeat)]
    dry_run_seconds, preview_seconds, import_seconds, confirm_seconds = (
        statistics.median(column) for column in zip(*rounds, strict=True)
    )
    return AdminImportTimings(
        rows=len(dataset),
        read_seconds=read_seconds,
        dry_run_seconds=dry_run_seconds,
        preview_seconds=preview_seconds,
        import_seconds=import_seconds,
        confirm_seconds=confirm_seconds,
        preview_page_bytes=max(page_sizes),
    )
