"""Which way an import writes its rows: in bulk, or through ``Model.save()`` per row.

Stock DIE saves each row with ``instance.save()``, so an overridden ``save()``
(filling a slug, a total) and the ``pre_save``/``post_save`` receivers (a search
index, an audit trail) run for every imported row. Bulk writes run neither.
When a model has either, an import saves its rows one by one, in file order,
unless the resource says otherwise with ``Meta.bulk_writes``:

* ``"auto"`` (the default): ``save()`` per row when :func:`save_reasons` finds a
  reason, bulk writes otherwise;
* ``"always"``: bulk writes, even though ``save()`` and the receivers then do
  not run for imported rows;
* ``"never"``: ``save()`` per row for every model.

The reasons are read when an import starts (receivers connected later in the
process's life count), at a cost independent of the number of rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, signals
from django.dispatch import Signal

from ..conf import UNDECLARED, declared_option

#: The values ``Meta.bulk_writes`` accepts.
BULK_WRITES_CHOICES = ("auto", "always", "never")
DEFAULT_BULK_WRITES = "auto"

_SAVE_SIGNALS: tuple[tuple[str, Signal], ...] = (
    ("pre_save", signals.pre_save),
    ("post_save", signals.post_save),
)


def bulk_writes_option(resource_class: type) -> Any:
    """``Meta.bulk_writes`` as declared (not validated), ``"auto"`` when undeclared."""
    declared = declared_option(resource_class, "bulk_writes")
    return DEFAULT_BULK_WRITES if declared is UNDECLARED else declared


def save_overriders(model: type[Model]) -> list[type]:
    """The model's classes, nearest first, that define their own ``save()``.

    Abstract parents and mixins count; ``django.db.models.Model`` does not.
    """
    found = []
    for klass in model.__mro__:
        if klass is Model:
            break
        if "save" in vars(klass):
            found.append(klass)
    return found


def save_receivers(model: type[Model]) -> dict[str, list[Callable[..., Any]]]:
    """Live ``pre_save``/``post_save`` receivers for ``model`` (all-sender ones included).

    ``Signal.has_listeners(model)`` answers the question; the receivers
    themselves are read from Django's ``_live_receivers`` only to name them.
    """
    found: dict[str, list[Callable[..., Any]]] = {}
    for name, signal in _SAVE_SIGNALS:
        if not signal.has_listeners(model):
            continue
        try:
            sync_receivers, async_receivers = signal._live_receivers(model)
            found[name] = [*sync_receivers, *async_receivers]
        except Exception:  # a private API: name nobody rather than fail an import
            found[name] = []
    return found


def save_reasons(model: type[Model]) -> list[str]:
    """Why saving rows in bulk would not do what ``save()`` per row does; empty if nothing."""
    reasons = [f"{_qualname(klass)} overrides save()" for klass in save_overriders(model)[:1]]
    for name, receivers in save_receivers(model).items():
        names = ", ".join(_qualname(receiver) for receiver in receivers)
        reasons.append(f"{name} receivers connected" + (f" ({names})" if names else ""))
    return reasons


def save_per_row_reason(resource_class: type, model: type[Model]) -> str | None:
    """Why imports with this resource call ``save()`` per row, or ``None`` for bulk writes.

    Raises ``ImproperlyConfigured`` for a ``Meta.bulk_writes`` outside
    :data:`BULK_WRITES_CHOICES` (system check ``admin_bulk_upsert.E010``).
    """
    option = bulk_writes_option(resource_class)
    if option not in BULK_WRITES_CHOICES:
        raise ImproperlyConfigured(
            f"{resource_class.__qualname__}.Meta.bulk_writes is {option!r}; "
            f"expected one of {', '.join(BULK_WRITES_CHOICES)}"
        )
    if option == "always":
        return None
    if option == "never":
        return "Meta.bulk_writes is 'never'"
    return "; ".join(save_reasons(model)) or None


def _qualname(obj: Any) -> str:
    obj = getattr(obj, "__func__", obj)  # a bound method: name its function
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{name}" if module else name
