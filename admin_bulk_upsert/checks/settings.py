"""System checks of ``settings.ADMIN_BULK_UPSERT`` (``E007``, ``E008``, ``W002``).

:func:`~admin_bulk_upsert.conf.get_config` reads the setting without
validating it, so that reading it stays cheap on every import; a wrong type or
a misspelt key would otherwise show up only as a default silently applied, or
as an error deep inside an import. These checks run project-wide at start-up
(``manage.py check``, ``runserver``), registered when :mod:`admin_bulk_upsert.checks`
is imported.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import typing
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from ..conf import SETTING_NAME, Config

# Keys whose value 0 makes no sense (an empty chunk, an upload limit of nothing,
# a staged file that expires at once); the other integer keys accept 0.
_POSITIVE_KEYS = frozenset(
    {
        "BATCH_SIZE",
        "MAX_UPLOAD_SIZE",
        "STAGING_MAX_AGE",
        "HEARTBEAT_TIMEOUT",
        "JOB_MAX_AGE_DAYS",
        "UNDO_MAX_AGE_DAYS",
    }
)


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Checks ``settings.ADMIN_BULK_UPSERT``, which ``get_config()`` reads without validating."""
    user = getattr(settings, SETTING_NAME, None)
    if user is None:
        return []
    if not isinstance(user, Mapping):
        return [
            Error(
                f"settings.{SETTING_NAME} is a {type(user).__name__}; it must be a dict.",
                hint=f"Set {SETTING_NAME} = {{'BATCH_SIZE': 1000, ...}} or remove it to use "
                "the defaults.",
                id="admin_bulk_upsert.E007",
            )
        ]
    known = {field.name: field for field in dataclasses.fields(Config)}
    types = typing.get_type_hints(Config)
    messages: list[CheckMessage] = []
    for key, value in user.items():
        if key not in known:
            messages.append(_unknown_key(key, known))
            continue
        expected = _expected_value(key, types[key], value)
        if expected is not None:
            messages.append(
                Error(
                    f"settings.{SETTING_NAME}[{key!r}] is {value!r}; it must be {expected}.",
                    hint=f"Fix the value, or remove the key to use the default "
                    f"({known[key].default!r}).",
                    id="admin_bulk_upsert.E008",
                )
            )
    return messages


def _unknown_key(key: Any, known: Mapping[str, Any]) -> CheckMessage:
    close = difflib.get_close_matches(str(key), list(known), n=1)
    suggestion = f"Did you mean {close[0]!r}? " if close else ""
    return Warning(
        f"settings.{SETTING_NAME} has the key {key!r}, which admin_bulk_upsert ignores.",
        hint=f"{suggestion}Known keys: {', '.join(known)}.",
        id="admin_bulk_upsert.W002",
    )


def _expected_value(key: str, annotation: Any, value: Any) -> str | None:
    """What ``value`` should have been, or None when it is acceptable.

    Keys of a type this check does not know are accepted, so that a new key
    in ``Config`` never fails the checks before a rule is written for it.
    """
    if key == "BACKGROUND_IMPORTS":
        return None if value in (True, False, "auto") else 'True, False or "auto"'
    if annotation is bool:
        return None if isinstance(value, bool) else "True or False"
    optional = type(None) in typing.get_args(annotation)
    if optional and value is None:
        return None
    base = {a for a in typing.get_args(annotation) if a is not type(None)} or {annotation}
    if base == {int}:
        minimum = 1 if key in _POSITIVE_KEYS else 0
        if is_int(value, minimum=minimum):
            return None
        return "a positive integer" if minimum == 1 else "an integer, 0 or more"
    if base == {str}:
        if isinstance(value, (str, os.PathLike)):
            return None
        return "a path (str or pathlib.Path) or None" if optional else "a string"
    return None


def is_int(value: Any, *, minimum: int) -> bool:
    # bool is an int subclass; True as a batch size is a mistake, not 1.
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum
