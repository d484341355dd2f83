"""The upload form (file, format, encoding, key columns) and the confirm form (a token).

The upload form reads the file while validating, so that every reason a file
cannot be imported (too big, not a spreadsheet, wrong encoding, empty, header
only, a key column missing while the resource has no mapping step) is a form
error next to the file field, and nothing is staged or written. For a
background import it reads the header only (:mod:`..files.headers`): the
upload must return at once, and the worker reports what the rows hold on the
job page.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.encoding import force_str
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export.forms import ConfirmImportForm, ImportForm

from ..column_mapping.targets import mapping_enabled
from ..conf import get_config
from ..files import encodings
from ..files.headers import read_header
from ..files.reading import ReadError, read_dataset


def key_field_choices(resource_class: Any) -> list[tuple[str, str]]:
    """``(field name, label)`` for each field a user may pick as the import key."""
    resource = resource_class()
    choices = []
    for name in resource.get_allowed_import_id_fields():
        column = force_str(resource.fields[name].column_name)
        choices.append((name, column if column == name else f"{column} ({name})"))
    return choices


class _AlwaysTrue(forms.HiddenInput):
    """Renders ``True`` whatever was posted, so a re-rendered form still sends it."""

    def format_value(self, value: Any) -> str:
        return "True"


class BulkUpsertImportForm(ImportForm):
    """DIE's upload form plus the choice of the columns that identify existing rows."""

    import_id_fields = forms.MultipleChoiceField(
        label=_("Columns that identify existing rows"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "A row whose values in these columns match an existing record updates it; "
            "any other row creates a new record."
        ),
    )
    #: Sent by the rendered form: then no key column checked is an error. A POST
    #: without it (a custom template, a script written for DIE's form) gets the
    #: resource's ``import_id_fields``.
    import_id_fields_shown = forms.BooleanField(widget=_AlwaysTrue, required=False)
    encoding = forms.ChoiceField(
        label=_("Text encoding"),
        required=False,
        help_text=_(
            "For CSV and TSV files. Excel on Windows saves “CSV” as Windows-1252 "
            "and “CSV UTF-8” as UTF-8."
        ),
    )
    field_order = ["resource", "import_file", "format", "encoding", "import_id_fields"]

    def __init__(
        self,
        formats: Sequence[Any],
        resources: Sequence[Any],
        encoding: str | None = None,
        header_only: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(formats, resources, **kwargs)
        #: Check the header and leave the rows to a background job.
        self.header_only = header_only
        #: What the admin's ``from_encoding`` asks for; ``None``: detect (DIE's default).
        self.default_encoding = encodings.requested_encoding(encoding)
        self.fields["encoding"].choices = _encoding_choices(self.default_encoding)
        self.fields["encoding"].initial = self.default_encoding or encodings.AUTO
        #: The encoding the text was read with (detected or chosen), ``""`` for spreadsheets.
        self.text_encoding = ""
        self.formats = list(formats)
        self.resources = list(resources)
        choices: dict[str, str] = {}
        for resource_class in self.resources:
            choices.update(key_field_choices(resource_class))
        self.fields["import_id_fields"].choices = list(choices.items())
        self.fields["import_id_fields"].initial = list(self.resources[0]().get_import_id_fields())
        #: Filled by a successful ``clean()``: the uploaded bytes and the Dataset read from
        #: them (``None`` with ``header_only``), and the column names.
        self.data_bytes: bytes = b""
        self.dataset: Any = None
        self.headers: list[str] = []
        #: ``{file header: field name}`` once the mapping step settled it (``{}``: none needed).
        self.column_map: dict[str, str] = {}

    def clean_import_file(self) -> Any:
        upload = self.cleaned_data["import_file"]
        limit = get_config().MAX_UPLOAD_SIZE
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is %(size)s; the largest file accepted is %(limit)s."),
                code="too_big",
                params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
            )
        return upload

    @property
    def resource_class(self) -> Any:
        try:
            return self.resources[int(self.cleaned_data.get("resource") or 0)]
        except (IndexError, ValueError):
            return self.resources[0]

    @property
    def input_format(self) -> str:
        """The extension name ``read_dataset`` expects (``csv``, ``xlsx`` ...)."""
        return str(self.formats[int(self.cleaned_data["format"])]().get_extension())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        resource = self.resource_class()
        chosen = cleaned.get("import_id_fields") or []
        if not chosen:
            if cleaned.get("import_id_fields_shown"):
                field = self.fields["import_id_fields"]
                self.add_error("import_id_fields", field.error_messages["required"])
                return cleaned
            chosen = cleaned["import_id_fields"] = list(resource.get_import_id_fields())
        allowed = set(resource.get_allowed_import_id_fields())
        refused = [name for name in chosen if name not in allowed]
        if refused:
            self.add_error(
                "import_id_fields",
                _("%(resource)s cannot match rows on: %(fields)s.")
                % {"resource": resource.get_display_name(), "fields": ", ".join(refused)},
            )
            return cleaned
        upload = cleaned["import_file"]
        data = b"".join(upload.chunks())
        encoding = self._chosen_encoding(data)
        read = read_header if self.header_only else read_dataset
        try:
            dataset = read(
                data, filename=upload.name, input_format=self.input_format, encoding=encoding
            )
        except ReadError as exc:
            self.add_error("import_file", _die_message(exc))
            return cleaned
        headers = list(dataset) if self.header_only else list(dataset.headers)
        missing = [
            force_str(resource.fields[name].column_name)
            for name in chosen
            if force_str(resource.fields[name].column_name) not in headers
        ]
        if missing and not mapping_enabled(type(resource)):
            # With the mapping step, the view asks which column holds the key instead.
            self.add_error(
                "import_file",
                _(
                    "The file has no column %(missing)s, which is needed to identify "
                    "existing rows. Columns found: %(found)s."
                )
                % {
                    "missing": ", ".join(f"“{name}”" for name in missing),
                    "found": ", ".join(f"“{name}”" for name in headers),
                },
            )
            return cleaned
        self.data_bytes = data
        self.headers = headers
        self.dataset = None if self.header_only else dataset
        self.text_encoding = encoding or ""
        return cleaned

    def _chosen_encoding(self, data: bytes) -> str | None:
        """The user's choice, else the admin's; a detected one is named, for the confirm step.

        A POST without the field (a script written for DIE's form) gets the
        admin's ``from_encoding``. The encoding detected here is the one the
        confirm step reads with, so that both read the same text.
        """
        chosen = self.cleaned_data.get("encoding") or self.default_encoding or encodings.AUTO
        if self.input_format in _BINARY_FORMATS:
            return None
        if chosen == encodings.AUTO:
            return encodings.detect_encoding(data)
        return chosen


#: Formats whose bytes are not text: the encoding does not apply.
_BINARY_FORMATS = frozenset({"xlsx", "xlsm", "xls", "ods"})


def _encoding_choices(default: str | None) -> list[tuple[str, Any]]:
    """The select's choices; an admin's ``from_encoding`` not among them is added, by name."""
    choices = encodings.encoding_choices()
    if default and not any(
        encodings.same_encoding(default, value) for value, _label in choices[1:]
    ):
        choices.append((default, default))
    return choices


_DIE_NO_DATA = (
    "No valid data to import. Ensure your file has the correct headers or data for import."
)


def _die_message(error: ReadError) -> str:
    """DIE's words (and translations) for a file without data rows; ours for the rest."""
    if error.code == "no_data":
        # DIE's msgid, left unmarked here: DIE's catalog translates it.
        return gettext(_DIE_NO_DATA)
    return error.message


class BulkUpsertConfirmForm(forms.Form):
    """Carries only the signed staging token: everything else comes out of the token."""

    token = forms.CharField(widget=forms.HiddenInput)


@cache
def bulk_import_form_class(form_class: type[forms.Form]) -> type[BulkUpsertImportForm]:
    """``form_class`` with :class:`BulkUpsertImportForm`'s reading and key choice.

    A project's ``import_form_class`` usually subclasses DIE's ``ImportForm`` to
    add fields its ``get_import_data_kwargs`` reads (DIE's documented way); it
    keeps its fields and methods, placed before ours in the MRO.
    """
    if issubclass(form_class, BulkUpsertImportForm):
        return form_class
    return type(form_class)(
        form_class.__name__,
        (form_class, BulkUpsertImportForm),
        {"__module__": form_class.__module__},
    )


@cache
def bulk_confirm_form_class(form_class: type[forms.Form]) -> type[BulkUpsertConfirmForm]:
    """``form_class`` carrying the signed token instead of DIE's file name fields.

    Like :func:`bulk_import_form_class`, for ``confirm_form_class``: its own
    fields stay, those of DIE's ``ConfirmImportForm`` are dropped (the token
    holds the file, format and resource).
    """
    if issubclass(form_class, BulkUpsertConfirmForm):
        return form_class
    dropped = (
        dict.fromkeys(ConfirmImportForm.base_fields)
        if issubclass(form_class, ConfirmImportForm)
        else {}
    )
    return type(form_class)(
        form_class.__name__,
        (form_class, BulkUpsertConfirmForm),
        {"__module__": form_class.__module__, **dropped},
    )
