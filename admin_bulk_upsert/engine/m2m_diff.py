"""What the rows' diffs read of their many-to-many links, when a chunk's links are written
set-based (:mod:`.m2m_links`).

Stock's diff renders ``instance.<m2m>.all()`` per row, before and after the
row's ``save_m2m``, a query each. Here the chunk's records are given those
links in the cache ``prefetch_related_objects`` fills, from the chunk's
links (:meth:`.m2m_links.ChunkLinks.attach`) or one join per field
(:func:`prefetch_links`), where one query gives each record the objects
stock's per-row query gives, in the same order; the cache is dropped again
once the row is finished (:func:`forget_links`), and the diff rendered later
reads a snapshot holding it (:func:`snapshot`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connections
from django.db.models import IntegerField, ManyToManyField, Model
from import_export.widgets import ManyToManyWidget

from .lookup import max_keys_per_query


def diff_attributes(resource: Any) -> list[str]:
    """The many-to-many attributes the rows' diffs read that one query per chunk can serve.

    Stock's diff renders ``instance.<m2m>.all()`` per row, before and after its
    ``save_m2m``. One ``prefetch_related_objects`` query for the chunk gives each
    record the same objects in the same order when the related model's default
    manager filters and orders nothing of its own and its ``Meta.ordering``
    is total (it reaches the pk or a unique, non-null column), so that no two
    objects tie and the database orders each record's objects as the per-row
    query would. Otherwise the diff keeps its per-row reads.
    """
    model = resource._meta.model
    attributes: dict[str, None] = {}
    for field in resource.get_import_fields():
        if not isinstance(field.widget, ManyToManyWidget) or not field.attribute:
            continue
        try:
            m2m = model._meta.get_field(field.attribute)
        except Exception:
            continue
        if not isinstance(m2m, ManyToManyField) or m2m.name != field.attribute:
            continue
        query = m2m.remote_field.model._default_manager.all().query
        if query.where or query.order_by or not query.default_ordering:
            continue
        if not isinstance(model._meta.pk, IntegerField):
            continue  # the source column is read raw: integers compare as they are
        if _total_order(m2m.remote_field.model):
            attributes[m2m.name] = None
    return list(attributes)


def _total_order(model: type[Model]) -> bool:
    for item in model._meta.ordering:
        if not isinstance(item, str) or "__" in item or item == "?":
            return False
        name = item.removeprefix("-")
        if name == "pk":
            return True
        try:
            column = model._meta.get_field(name)
        except Exception:
            return False
        if column.is_relation or not getattr(column, "concrete", False):
            return False
        if column.primary_key or (column.unique and not column.null):
            return True
    return False


def prefetch_links(instances: Iterable[Any], attributes: Sequence[str]) -> None:
    """Read these records' links for the diff, one query per attribute (:func:`diff_attributes`).

    What ``prefetch_related_objects`` does (the related model's default
    manager filtered on the through table, the join's source column selected
    beside it, one cached queryset per record), without building a manager
    and a queryset chain per record.
    """
    stored = [record for record in instances if record is not None and record.pk is not None]
    if not stored or not attributes:
        return
    alias = stored[0]._state.db
    connection = connections[alias]
    qn = connection.ops.quote_name
    model = type(stored[0])
    pks = list(dict.fromkeys(record.pk for record in stored))
    step = max_keys_per_query(connection.vendor, 1)
    for attribute in attributes:
        m2m = model._meta.get_field(attribute)
        related = m2m.remote_field.model
        through = m2m.remote_field.through._meta
        source = f"{qn(through.db_table)}.{qn(through.get_field(m2m.m2m_field_name()).column)}"
        manager = related._default_manager.db_manager(alias)
        by_source: dict[Any, list[Model]] = {}
        attnames = [column.attname for column in related._meta.concrete_fields]
        built: dict[Any, Model] = {}  # one object per related record: the diff only renders it
        for start in range(0, len(pks), step):
            queryset = (
                manager.filter(**{f"{m2m.related_query_name()}__in": pks[start : start + step]})
                .extra(select={_SOURCE: source})
                .values_list(_SOURCE, *attnames)
            )
            for source_pk, *values in queryset:
                linked = built.get(values[0]) if attnames[0] == related._meta.pk.attname else None
                if linked is None:
                    linked = related.from_db(alias, attnames, values)
                    built[linked.pk] = linked
                by_source.setdefault(source_pk, []).append(linked)
        for record in stored:
            cache_links(record, attribute, related, by_source.get(record.pk, []), alias)


#: The name under which :func:`prefetch_links` selects the through table's source column.
_SOURCE = "_admin_bulk_upsert_source"


def forget_links(instance: Any, attributes: Sequence[str]) -> None:
    """Drop what :func:`prefetch_links` left on the instance: stock's instance has no cache."""
    cache = getattr(instance, "_prefetched_objects_cache", None)
    if cache is None:
        return
    for attribute in attributes:
        cache.pop(attribute, None)
    if not cache:
        del instance._prefetched_objects_cache


def diff_reads_only(resource: Any, attributes: Sequence[str]) -> bool:
    """Whether every many-to-many field the diff reads is one of ``attributes``."""
    if not attributes:
        return False
    model = resource._meta.model
    m2m_names = {field.name for field in model._meta.many_to_many}
    for field in resource.get_import_fields():
        name = (field.attribute or "").split("__")[0]
        if name in m2m_names and (
            name not in attributes or not isinstance(field.widget, ManyToManyWidget)
        ):
            return False
    return True


def snapshot(instance: Model) -> Model:
    """A copy of the instance with its own copy of the links read for it, for a diff
    rendered later: the instance itself is left without them, as stock's is."""
    copy = object.__new__(type(instance))
    copy.__dict__.update(instance.__dict__)
    cache = instance.__dict__.get("_prefetched_objects_cache")
    if cache is not None:
        copy.__dict__["_prefetched_objects_cache"] = dict(cache)
    return copy


@dataclasses.dataclass(frozen=True)
class DiffLinks:
    """The links a row's deferred diff shows before and after the row, given to copies of
    its two instances only when the diff is rendered (most diffs never are).

    ``before`` and ``after`` hold, per attribute, the related model and records
    (:meth:`.m2m_links.ChunkLinks.shown`); an instance with none is compared as it is.
    """

    alias: str
    before: tuple[tuple[str, Any, list[Model]], ...]
    after: tuple[tuple[str, Any, list[Model]], ...]

    def apply(self, before: Model, after: Model) -> tuple[Model, Model]:
        """Copies of ``before`` and ``after`` holding their links, as the diff reads them."""
        return self._holding(before, self.before), self._holding(after, self.after)

    def _holding(self, instance: Model, links: tuple[tuple[str, Any, list[Model]], ...]) -> Model:
        if not links:
            return instance
        copy = snapshot(instance)
        for attribute, related, linked in links:
            cache_links(copy, attribute, related, list(linked), self.alias)
        return copy


def cache_links(
    record: Model, attribute: str, related: Any, linked: list[Model], alias: str
) -> None:
    """What ``prefetch_related_objects`` leaves on a record: a queryset holding its links.

    Each is a copy of one empty queryset per related model and database (building a
    ``Query`` per record costs more than the rest of the row's diff), with its own
    result list and dictionaries; chaining it (``.filter()``) clones the query.
    """
    template = _templates.get((related, alias))
    if template is None:
        template = related._default_manager._queryset_class(model=related, using=alias)
        _templates[related, alias] = template
    cached = object.__new__(type(template))
    cached.__dict__.update(template.__dict__)
    cached._hints = {}
    cached._known_related_objects = {}
    cached._result_cache = linked
    cached._prefetch_done = True
    record.__dict__.setdefault("_prefetched_objects_cache", {})[attribute] = cached


#: The empty queryset :func:`cache_links` copies, per related model and database.
_templates: dict[tuple[Any, str], Any] = {}
