"""Which way an import writes its rows: in bulk, in bulk with the save signals, or ``save()``.

Stock DIE saves each row with ``instance.save()``, so an overridden ``save()``
(filling a slug, a total) and the ``pre_save``/``post_save`` receivers (a search
index, an audit trail) run for every imported row. Bulk writes run neither by
themselves. With ``Meta.bulk_writes = "auto"`` (the default) the model decides:

* a ``save()`` or ``save_base()`` that does real work, on any of the model's
  classes (abstract parents and mixins included, ``Model`` itself not, and a
  ``save_base`` patched in as django-model-utils' ``FieldTracker`` does):
  ``save()`` per row (:mod:`.per_row_save`), the only way to run its code;
* otherwise, ``pre_save``/``post_save`` receivers for the model (all-sender ones
  included): bulk writes, with both signals sent per row around them
  (:mod:`.save_signals`), as ``save()`` would send them;
* otherwise: bulk writes.

A ``save()`` does no real work when it only passes through to ``Model.save()``
(django-model-utils' ``TimeStampedModel.save`` adds ``"modified"`` to a given
``update_fields``, and imports give none), or when the project says so with
:func:`bulk_safe_save`. Multi-table inheritance models are imported by stock DIE
(:mod:`.stock_fallback`); were one to get here, its receivers keep ``save()``.

``"always"`` writes in bulk without sending signals or calling ``save()``;
``"never"`` calls ``save()`` per row for every model. The path is read when an
import starts (receivers connected later in the process's life count), at a cost
independent of the number of rows.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, signals
from django.dispatch import Signal

from ..conf import UNDECLARED, declared_option
from .chunk_receivers import live_receivers

#: The values ``Meta.bulk_writes`` accepts.
BULK_WRITES_CHOICES = ("auto", "always", "never")
DEFAULT_BULK_WRITES = "auto"

#: The ways of writing a chunk.
BULK = "bulk"
BULK_WITH_SIGNALS = "bulk_with_signals"
SAVE_PER_ROW = "save_per_row"

_SAVE_SIGNALS: tuple[tuple[str, Signal], ...] = (
    ("pre_save", signals.pre_save),
    ("post_save", signals.post_save),
)
#: The methods of a model's save machinery a class may override or patch.
_SAVE_METHODS = ("save", "save_base")
_BULK_SAFE = "_admin_bulk_upsert_bulk_safe"

F = TypeVar("F", bound=Callable[..., Any])


def bulk_safe_save(function: F) -> F:
    """Declare a ``save()`` (or ``save_base()``) that does nothing a bulk write misses.

    Put it on the method (``@bulk_safe_save`` above ``def save``), or call it on a
    third-party class's function (``bulk_safe_save(ThirdPartyModel.save)``).
    Imports with ``Meta.bulk_writes = "auto"`` then write the model's rows in bulk,
    sending ``pre_save``/``post_save`` per row if it has receivers; declare only a
    ``save()`` whose work the receivers, field ``pre_save`` hooks and the bulk
    write do anyway (or that only passes ``update_fields`` on, which imports never
    give). Returns the function itself.
    """
    target = getattr(function, "__func__", function)
    setattr(target, _BULK_SAFE, True)
    return function


def _known_pass_throughs() -> set[Any]:
    """``save()`` methods of widespread base classes that only pass through to ``Model``.

    Read from modules already imported: a model subclassing them has imported them.
    """
    known = set()
    model_utils = sys.modules.get("model_utils.models")
    if model_utils is not None:
        # Adds "modified" to update_fields when given; calls super().save() as is.
        stamped = getattr(model_utils, "TimeStampedModel", None)
        if stamped is not None and "save" in vars(stamped):
            known.add(vars(stamped)["save"])
    return known


def _bulk_safe(function: Any, known: set[Any]) -> bool:
    function = getattr(function, "__func__", function)
    return function in known or bool(getattr(function, _BULK_SAFE, False))


def bulk_writes_option(resource_class: type) -> Any:
    """``Meta.bulk_writes`` as declared (not validated), ``"auto"`` when undeclared."""
    declared = declared_option(resource_class, "bulk_writes")
    return DEFAULT_BULK_WRITES if declared is UNDECLARED else declared


def save_overriders(model: type[Model]) -> list[tuple[type, str]]:
    """``(class, method)`` for the model's classes, nearest first, whose own ``save()``
    or ``save_base()`` may do real work (not declared or known bulk-safe).

    Abstract parents and mixins count; ``django.db.models.Model`` does not.
    """
    known = _known_pass_throughs()
    found = []
    for klass in model.__mro__:
        if klass is Model:
            break
        for method in _SAVE_METHODS:
            function = vars(klass).get(method)
            if function is not None and not _bulk_safe(function, known):
                found.append((klass, method))
    return found


def save_receivers(model: type[Model]) -> dict[str, list[Callable[..., Any]]]:
    """Live ``pre_save``/``post_save`` receivers for ``model`` (all-sender ones included).

    ``Signal.has_listeners(model)`` answers the question; the receivers
    themselves are read (:func:`.chunk_receivers.live_receivers`) only to name them.
    """
    found: dict[str, list[Callable[..., Any]]] = {}
    for name, signal in _SAVE_SIGNALS:
        if not signal.has_listeners(model):
            continue
        live = live_receivers(signal, model)
        found[name] = [] if live is None else [*live[0], *live[1]]
    return found


@dataclasses.dataclass(frozen=True)
class WritePath:
    """How an import writes its rows (:data:`BULK`, ...), and why: for the log and the checks."""

    how: str
    why: str = ""

    def describe(self) -> str:
        """The path in words: ``"save() per row: X overrides save()"``, ..."""
        if self.how == SAVE_PER_ROW:
            return f"save() per row: {self.why}"
        if self.how == BULK_WITH_SIGNALS:
            return f"bulk writes, pre_save/post_save sent per row around them ({self.why})"
        return f"bulk writes ({self.why})" if self.why else "bulk writes"


def model_write_path(model: type[Model]) -> WritePath:
    """The path ``Meta.bulk_writes = "auto"`` takes for ``model``."""
    overriders = save_overriders(model)
    if overriders:
        klass, method = overriders[0]
        return WritePath(SAVE_PER_ROW, f"{_qualname(klass)} overrides {method}()")
    receivers = save_receivers(model)
    if not receivers:
        return WritePath(BULK)
    named = sorted({_qualname(r) for found in receivers.values() for r in found})
    why = "receivers: " + (", ".join(named) or "unnamed")
    if model._meta.parents:
        # Multi-table inheritance: saved per row, as before signals were sent around bulk writes.
        return WritePath(SAVE_PER_ROW, f"pre_save/post_save {why}")
    return WritePath(BULK_WITH_SIGNALS, why)


def write_path(resource_class: type, model: type[Model]) -> WritePath:
    """How imports with this resource write ``model``'s rows.

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
        return WritePath(BULK, "Meta.bulk_writes is 'always'")
    if option == "never":
        return WritePath(SAVE_PER_ROW, "Meta.bulk_writes is 'never'")
    return model_write_path(model)


def save_per_row_reason(resource_class: type, model: type[Model]) -> str | None:
    """Why imports with this resource call ``save()`` per row, or ``None`` if they do not."""
    path = write_path(resource_class, model)
    return path.why if path.how == SAVE_PER_ROW else None


def _qualname(obj: Any) -> str:
    obj = getattr(obj, "__func__", obj)  # a bound method: name its function
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{name}" if module else name
