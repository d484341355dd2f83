"""Which resources the engine leaves to stock DIE, imported row by row, and why.

The engine reaches stock's outcome by calling a resource's hooks in stock
order while it finds, saves and deletes records itself, in bulk. A resource
that replaces one of those steps (its own ``import_row``, ``get_instance``,
``save_instance``, ...) would have its code silently skipped, and a
multi-table model cannot be bulk created; such a resource is imported by
stock's own row loop instead (slower, but running what its author wrote),
and the import logs the reason given here.
"""

from __future__ import annotations

from typing import Any

#: Methods whose override means the bulk path would not run the user's code.
STOCK_ONLY_METHODS = (
    "import_row",
    "get_or_init_instance",
    "get_instance",
    "save_instance",
    "do_instance_save",
    "for_delete",
)


def stock_path_reason(resource_class: Any, base: type[Any]) -> str | None:
    """Why ``resource_class`` must be imported row by row by stock DIE, or ``None``.

    ``base`` is the resource class whose methods the engine stands for
    (``BulkUpsertResource``): a method of :data:`STOCK_ONLY_METHODS` that is
    not ``base``'s own is an override.
    """
    if resource_class._meta.use_bulk:
        return "Meta.use_bulk is set"
    for name in STOCK_ONLY_METHODS:
        if getattr(resource_class, name) is not getattr(base, name):
            return f"{resource_class.__name__} overrides {name}()"
    if resource_class._meta.model._meta.parents:
        return "multi-table inheritance cannot be bulk created"
    return None
