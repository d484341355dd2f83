"""django-simple-history: a chunk's history rows written with one ``bulk_create``.

``HistoricalRecords`` connects a ``post_save`` receiver for each tracked model
that saves one history row per saved record. :func:`register_history_models`
(called when the app is ready, if a model has imported ``simple_history``)
replaces that receiver per chunk (:func:`~admin_bulk_upsert.replace_receiver_per_chunk`)
with :class:`ChunkHistory`, which builds for each saved row of the chunk, in
file order, the history row ``HistoricalRecords.create_historical_record``
builds, and writes them all at once:

* nothing when ``SIMPLE_HISTORY_ENABLED`` is false, nor for an instance with
  ``skip_history_when_saving`` (both read at the chunk's turn, as the receiver
  reads them at the row's);
* ``history_type`` ``"+"`` for a created record, ``"~"`` for an updated one;
* the tracked fields' values (``fields_included``), and ``history_relation``;
* ``history_date``: the instance's ``_history_date``, else ``timezone.now()``
  taken for each row (after the chunk's write, not right after the row's);
* ``history_user``: ``get_history_user(instance)`` (``_history_user``, else the
  request of ``HistoryRequestMiddleware``, through ``get_user``);
* ``history_change_reason``: ``get_change_reason_for_object`` (``_change_reason``,
  ``None`` when unset: simple-history's ``bulk_history_create`` would store ``""``);
* ``pre_create_historical_record`` for each row before the write and
  ``post_create_historical_record`` for each after it, with the receiver's arguments.

The history rows go in with ``bulk_create`` on the database the receiver would
use (on PostgreSQL through the engine's COPY, which sends what ``bulk_create``
would send). Where a bulk write would not be the same thing, the receiver itself is
called for each row of the chunk (still after the whole chunk is written): a
``HistoricalRecords`` subclass overriding ``post_save`` or
``create_historical_record`` is not replaced at all, and the rows are saved one
by one for a model tracking many-to-many fields, a historical model with
``pre_save``/``post_save`` receivers or a ``save()`` of its own, and a database
that does not return the primary keys of a bulk insert.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections, router
from django.db.models import Model, signals
from django.utils import timezone
from simple_history.models import HistoricalRecords
from simple_history.signals import (
    post_create_historical_record,
    pre_create_historical_record,
)

from ..engine.chunk_receivers import live_receivers, replace_receiver_per_chunk
from ..engine.postgres_copy import write_round
from ..engine.write_mode import save_overriders

__all__ = ["ChunkHistory", "register_history_models"]


def _replaceable(records: Any) -> bool:
    klass = type(records)
    return (
        klass.post_save is HistoricalRecords.post_save
        and klass.create_historical_record is HistoricalRecords.create_historical_record
    )


def register_history_models() -> list[type[Model]]:
    """Replace the ``post_save`` receiver of every ``HistoricalRecords``-tracked model
    per chunk; returns the models found. Safe to call again (a model registered with
    ``simple_history.register()`` after the app was ready)."""
    found = []
    for model in apps.get_models():
        if not hasattr(model._meta, "simple_history_manager_attribute"):
            continue
        live = live_receivers(signals.post_save, model)
        if live is None:
            continue  # leave the receivers per row
        for receiver in live[0]:
            records = getattr(receiver, "__self__", None)
            if (
                isinstance(records, HistoricalRecords)
                and getattr(receiver, "__func__", None) is HistoricalRecords.post_save
                and _replaceable(records)
            ):
                replace_receiver_per_chunk(signals.post_save, receiver, ChunkHistory(records))
                found.append(model)
    return found


class ChunkHistory:
    """The per-chunk form of one ``HistoricalRecords.post_save`` receiver."""

    def __init__(self, records: HistoricalRecords) -> None:
        self.records = records

    def __repr__(self) -> str:
        return f"ChunkHistory({self.records.cls.__qualname__})"

    def __call__(self, sender: type[Model], rows: list[tuple[Model, bool]], using: str) -> None:
        if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            return
        rows = [(instance, new) for instance, new in rows if not _skipped(instance)]
        if not rows:
            return
        records = self.records
        history_model = getattr(sender, records.manager_name).model
        history_using = using if records.use_base_model_db else None
        if not self._bulk_writable(sender, history_model, history_using):
            for instance, new in rows:
                records.post_save(
                    instance, new, using=using, signal=signals.post_save, sender=sender, raw=False
                )
            return
        fields = [field.attname for field in records.fields_included(rows[0][0])]
        relation = getattr(history_model, "history_relation", None) is not None
        built = []
        for instance, new in rows:
            history_type = "+" if new else "~"
            history_date = getattr(instance, "_history_date", _UNSET)
            if history_date is _UNSET:
                history_date = timezone.now()
            history_user = records.get_history_user(instance)
            reason = records.get_change_reason_for_object(instance, history_type, history_using)
            attrs = {name: getattr(instance, name) for name in fields}
            if relation:
                attrs["history_relation"] = instance
            history = history_model(
                history_date=history_date,
                history_type=history_type,
                history_user=history_user,
                history_change_reason=reason,
                **attrs,
            )
            pre_create_historical_record.send(
                sender=history_model,
                instance=instance,
                history_date=history_date,
                history_user=history_user,
                history_change_reason=reason,
                history_instance=history,
                using=history_using,
            )
            built.append((instance, history))
        _insert(history_model, [history for _instance, history in built], history_using)
        for instance, history in built:
            post_create_historical_record.send(
                sender=history_model,
                instance=instance,
                history_instance=history,
                history_date=history.history_date,
                history_user=history.history_user,
                history_change_reason=history.history_change_reason,
                using=history_using,
            )

    def _bulk_writable(self, sender: type[Model], history_model: type[Model], using: Any) -> bool:
        """Whether one ``bulk_create`` writes what ``save()`` per history row would."""
        m2m_fields = getattr(self.records, "get_m2m_fields_from_model", None)  # 3.4 and later
        if m2m_fields is not None and m2m_fields(sender):
            return False
        if save_overriders(history_model):
            return False
        if signals.pre_save.has_listeners(history_model) or signals.post_save.has_listeners(
            history_model
        ):
            return False
        alias = using or router.db_for_write(history_model)
        return connections[alias].features.can_return_rows_from_bulk_insert


_UNSET = object()


def _insert(history_model: type[Model], rows: list[Model], using: str | None) -> None:
    """``bulk_create`` of the history rows; through COPY on PostgreSQL where the engine's
    COPY mirrors ``bulk_create`` exactly (:mod:`admin_bulk_upsert.engine.postgres_copy`)."""
    alias = using or router.db_for_write(history_model)
    columns = tuple(f.name for f in history_model._meta.concrete_fields if not f.primary_key)
    if not write_round(history_model, rows, [], alias, columns):
        history_model._base_manager.using(alias).bulk_create(rows)


def _skipped(instance: Model) -> bool:
    return hasattr(instance, "skip_history_when_saving")
