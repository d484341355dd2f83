"""The admin's import as a user does it: upload, preview, confirm.

``preview_and_confirm`` drives the import page through ``django.test.Client``
(in process, no network) by reading the forms the pages render, so it works
with DIE's admin and with the plugin's alike, whatever hidden fields their
confirm step carries. The benchmark's ``--admin-callable`` replaces it with any
callable of the same signature, for example one the admin's authors provide.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

_USERNAME = "benchmark-admin"


@dataclass
class _Form:
    action: str
    method: str
    multipart: bool
    #: What the browser would submit, by name: checkboxes can repeat a name.
    values: dict[str, list[str]] = field(default_factory=dict)
    file_inputs: list[str] = field(default_factory=list)
    #: Options of each <select>: (value, label, selected).
    selects: dict[str, list[tuple[str, str, bool]]] = field(default_factory=dict)
    multiple_selects: set[str] = field(default_factory=set)

    def payload(self, wanted_option: str) -> dict[str, Any]:
        """The submitted values, choosing ``wanted_option`` in single selects if offered."""
        payload: dict[str, Any] = dict(self.values)
        for name, options in self.selects.items():
            if name in self.multiple_selects:
                payload[name] = [value for value, _label, selected in options if selected]
            else:
                payload[name] = _choose(options, wanted_option)
        return payload


class _FormParser(HTMLParser):
    """Collects each form's action and the values its browser would submit."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self._select: str | None = None
        self._option: tuple[str, bool] | None = None
        self._option_text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(
                _Form(
                    action=a.get("action", ""),
                    method=a.get("method", "get").lower(),
                    multipart="multipart" in a.get("enctype", ""),
                )
            )
        elif not self.forms:
            return
        elif tag == "input":
            self._input(self.forms[-1], a)
        elif tag == "select" and "name" in a:
            self._select = a["name"]
            self.forms[-1].selects[self._select] = []
            if "multiple" in a:
                self.forms[-1].multiple_selects.add(self._select)
        elif tag == "option" and self._select:
            self._option = (a.get("value", ""), "selected" in a)
            self._option_text = ""

    def _input(self, form: _Form, a: dict[str, str]) -> None:
        kind, name = a.get("type", "text").lower(), a.get("name")
        if not name:
            return
        if kind == "file":
            form.file_inputs.append(name)
        elif kind in ("checkbox", "radio"):
            if "checked" in a:
                form.values.setdefault(name, []).append(a.get("value", "on"))
        elif kind not in ("submit", "button", "reset", "image"):
            form.values.setdefault(name, []).append(a.get("value", ""))

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option_text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option" and self._option is not None and self._select:
            value, selected = self._option
            self.forms[-1].selects[self._select].append(
                (value, self._option_text.strip(), selected)
            )
            self._option = None
        elif tag == "select":
            self._select = None


def _forms(html: str) -> list[_Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def _choose(options: list[tuple[str, str, bool]], wanted: str) -> str:
    """The option labelled ``wanted`` (a format), else the selected one, else the first real one."""
    for value, label, _selected in options:
        if label.lower() == wanted:
            return value
    for value, _label, selected in options:
        if selected:
            return value
    real = [value for value, _label, _selected in options if value]
    return real[0] if real else ""


def admin_client(alias: str) -> Client:
    """A client logged in as a superuser that exists on the benchmarked database."""
    user_model = get_user_model()
    user, _ = user_model._default_manager.db_manager(alias).get_or_create(
        **{user_model.USERNAME_FIELD: _USERNAME},
        defaults={"is_staff": True, "is_superuser": True},
    )
    client = Client()
    client.force_login(user)
    return client


def preview_and_confirm(client: Client, import_url: str, file_name: str, data: bytes) -> Any:
    """Upload ``data`` on the import page, then submit the confirm form the preview shows."""
    page = client.get(import_url)
    _expect(page, 200, "the import page")
    upload_form = next((f for f in _forms(page.text) if f.file_inputs), None)
    if upload_form is None:
        raise RuntimeError(f"No form with a file input on {import_url}.")
    payload = upload_form.payload("csv")
    payload[upload_form.file_inputs[0]] = SimpleUploadedFile(file_name, data, "text/csv")
    preview = client.post(upload_form.action or import_url, payload)
    _expect(preview, 200, "the preview")

    confirm = [f for f in _forms(preview.text) if f.method == "post" and not f.file_inputs]
    confirm = [f for f in confirm if set(f.values) - {"csrfmiddlewaretoken"}]
    if not confirm:
        raise RuntimeError("The preview shows no confirm form (did the file have errors?).")
    form = confirm[-1]
    done = client.post(form.action or import_url, form.payload(""))
    _expect(done, 302, "the confirm step")
    return done


def _expect(response: Any, status: int, what: str) -> None:
    if response.status_code != status:
        raise RuntimeError(f"{what} answered {response.status_code}, expected {status}.")


def changelist_import_url() -> str:
    return reverse("admin:ledger_financialtransaction_import")
