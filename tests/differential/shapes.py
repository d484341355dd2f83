"""The model shapes real projects have, as the generator draws them, and what to observe.

Beyond the table and the ``Result`` (:mod:`.harness`), an import on these models is
observed through what its receivers saw and what django-simple-history wrote:

* every ``pre_save``/``post_save`` call, by a recorder connected for all senders or
  for the model only: the instance's values (its key among them), whether it had a
  pk yet, ``_state.adding``, ``created``, ``raw``, ``using``, ``update_fields``;
* every ``m2m_changed`` call for the through model, with the labels it names;
* the history rows of each record, in order (type, values, user, change reason).

Receivers that act are drawn too: a ``pre_save`` receiver that sets a value (upper
cases the name, for all senders or one) and one that refuses a row named "boom".

How the calls are compared follows the engine's documented differences from stock
(README, "Deliberate differences"): on bulk writes, each signal's calls for each
sender come in stock's order (every ``pre_save`` of a chunk precedes its write and
every ``post_save`` follows it, so calls of two signals, or of the model and its
historical model, interleave differently); when stock reports a failing row, the
engine has replayed a chunk whose receivers ran once already, so stock's calls are a
subsequence of its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from django.db import connection, models
from django.db.models.signals import m2m_changed, post_save, pre_save
from freezegun import freeze_time
from import_export.resources import ModelResource

from tests.differential import harness
from tests.differential.datasets import Scenario
from tests.differential.harness import Outcome, assert_same, bulk_base, run_import
from tests.testapp.models import M2MLabel, M2MPost

#: The instant every example's clock is frozen at (``TimeStampedModel``, history dates).
NOW = "2026-02-03 04:05:06"

#: The values a call records of an instance, where it has them.
_RECORDED = ("code", "name", "title", "slug", "history_type")


def _values(instance: models.Model) -> tuple[Any, ...]:
    return tuple((name, getattr(instance, name)) for name in _RECORDED if hasattr(instance, name))


def _named(instance: Any) -> str | None:
    """The text a setting or refusing receiver acts on: a product's name, a post's title."""
    for name in ("name", "title"):
        value = getattr(instance, name, None)
        if isinstance(value, str):
            return name
    return None


class SaveCalls:
    """A ``pre_save``/``post_save`` receiver that records each call as a tuple equal across runs."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, sender: type, instance: Any, signal: Any, **kwargs: Any) -> None:
        self.calls.append(
            (
                "pre_save" if signal is pre_save else "post_save",
                sender.__name__,
                _values(instance),
                instance.pk is None,
                instance._state.adding,
                kwargs.get("created"),
                kwargs["raw"],
                kwargs["using"],
                kwargs["update_fields"],
            )
        )


class M2MCalls:
    """An ``m2m_changed`` receiver recording each call, its targets by label name."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, sender: type, instance: Any, action: str, **kwargs: Any) -> None:
        pk_set = kwargs["pk_set"]
        names = None
        if pk_set is not None:
            names = sorted(M2MLabel.objects.filter(pk__in=pk_set).values_list("name", flat=True))
        self.calls.append(
            (str(instance), action, kwargs["reverse"], kwargs["model"].__name__, names)
        )


def set_upper(sender: type, instance: Any, **kwargs: Any) -> None:
    """A ``pre_save`` receiver that sets a value: the write, the diff and the history show it."""
    name = _named(instance)
    if name is not None:
        setattr(instance, name, getattr(instance, name).upper())


def refuse_boom(sender: type, instance: Any, **kwargs: Any) -> None:
    """A ``pre_save`` receiver that refuses one row: stock reports it as an error row."""
    name = _named(instance)
    if name is not None and getattr(instance, name) == "boom":
        raise ValueError(f"{instance} refused by a receiver")


@dataclass(frozen=True)
class Receivers:
    """Which receivers an example connects: for ``"all"`` senders, ``"one"`` (the
    model), or none."""

    record: str | None = None
    set_value: str | None = None
    refuse: bool = False
    #: A recorder of ``m2m_changed`` for ``M2MPost.labels``' through model.
    m2m: bool = False

    def connections(self, model: type[models.Model]) -> list[tuple[Any, Any, Any]]:
        """``(signal, receiver, sender)`` triples, recorders first (so that they see the
        values the setting receiver gives, as written, only for the ``post_save``)."""

        def sender(scope: str) -> Any:
            return None if scope == "all" else model

        found = []
        if self.record:
            recorder = SaveCalls()
            found += [(pre_save, recorder, sender(self.record))]
            found += [(post_save, recorder, sender(self.record))]
        if self.set_value:
            found.append((pre_save, set_upper, sender(self.set_value)))
        if self.refuse:
            found.append((pre_save, refuse_boom, model))
        if self.m2m:
            found.append((m2m_changed, M2MCalls(), M2MPost.labels.through))
        return found


@contextlib.contextmanager
def connected(pairs: list[tuple[Any, Any, Any]]) -> Iterator[None]:
    for signal, receiver, sender in pairs:
        signal.connect(receiver, sender=sender, weak=False)
    try:
        yield
    finally:
        for signal, receiver, sender in pairs:
            signal.disconnect(receiver, sender=sender)


def history_model(model: type[models.Model]) -> type[models.Model] | None:
    """The django-simple-history model tracking ``model``, if any."""
    manager = getattr(model._meta, "simple_history_manager_attribute", None)
    return None if manager is None else getattr(model, manager).model


def history_state(model: type[models.Model]) -> dict[Any, list[tuple[Any, ...]]]:
    """Each record's history rows in order (by date, then id), by its code: the tracked
    values, then history type, user and change reason."""
    tracked = history_model(model)
    if tracked is None:
        return {}
    names = [
        f.attname
        for f in tracked._meta.concrete_fields
        if not f.attname.startswith("history_") and f.attname != "id"
    ]
    names += ["history_type", "history_user_id", "history_change_reason"]
    state: dict[Any, list[tuple[Any, ...]]] = {}
    for row in tracked._base_manager.order_by("history_date", "history_id").values(*names):
        values = tuple(harness._normal(row[name]) for name in names)
        state.setdefault(row["code"], []).append(values)
    return state


@dataclass
class Observed:
    """One import's outcome and what its receivers and the history saw."""

    outcome: Outcome
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    m2m_calls: list[tuple[Any, ...]] = field(default_factory=list)
    history_before: dict[Any, Any] = field(default_factory=dict)
    history: dict[Any, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        aspects = self.outcome.aspects
        return bool(aspects["raised"] or aspects["row_errors"] or aspects["invalid_rows"])


def observed_run(
    base: type, scenario: Scenario, receivers: Receivers, **import_kwargs: Any
) -> Observed:
    """Import with ``base`` (clock frozen at :data:`NOW`), the receivers connected."""
    model = scenario.spec.model
    tracked = history_model(model)
    pairs = receivers.connections(model)
    recorders = [r for _s, r, _m in pairs if isinstance(r, (SaveCalls, M2MCalls))]
    reset_table = harness.reset_table
    seen: dict[str, Any] = {}

    def reset_then_forget(scenario: Scenario) -> Mapping[Any, int]:
        if tracked is not None:
            tracked._base_manager.all()._raw_delete(connection.alias)
        origins = reset_table(scenario)
        for recorder in recorders:
            recorder.calls.clear()  # the starting rows' saves are not the import's
        seen["history"] = history_state(model)
        return origins

    with (
        freeze_time(NOW),
        connected(pairs),
        mock.patch.object(harness, "reset_table", reset_then_forget),
    ):
        outcome = run_import(base, scenario, **import_kwargs)
    observed = Observed(outcome, history_before=seen["history"], history=history_state(model))
    for recorder in recorders:
        if isinstance(recorder, SaveCalls):
            observed.calls = recorder.calls
        else:
            observed.m2m_calls = recorder.calls
    return observed


def by_signal_and_sender(calls: list[tuple[Any, ...]]) -> dict[tuple[str, str], list[Any]]:
    grouped: dict[tuple[str, str], list[Any]] = {}
    for call in calls:
        grouped.setdefault(call[:2], []).append(call)
    return grouped


def _subsequence(short: list[Any], long: list[Any]) -> bool:
    remaining = iter(long)
    return all(item in remaining for item in short)


def assert_calls(stock: list[Any], ours: list[Any], replayed: bool, label: str) -> None:
    """Stock's calls, or (after a failing row, whose chunk was replayed) a subsequence."""
    if replayed:
        assert _subsequence(stock, ours), f"{label}: stock's calls are not among ours\n" + (
            f"stock: {stock}\nours: {ours}"
        )
    else:
        assert ours == stock, f"{label}:\nstock: {stock}\nours: {ours}"


def assert_same_as_stock(
    scenario: Scenario, receivers: Receivers, interleaved: bool = False, **import_kwargs: Any
) -> tuple[Observed, Observed]:
    """Import with stock DIE and with the engine: the same outcome and history (a dry run
    leaves the table and the history as they were), and the receiver calls as the module
    docstring says; ``interleaved`` (``save()`` per row) compares their order across
    signals too."""
    stock = observed_run(ModelResource, scenario, receivers, **import_kwargs)
    ours = observed_run(bulk_base(), scenario, receivers, **import_kwargs)
    label = f"{scenario}\n{receivers} {import_kwargs}"
    assert_same(stock.outcome, ours.outcome, label)
    assert ours.history == stock.history, (
        f"{label}: history differs\nstock: {stock.history}\nours: {ours.history}"
    )
    if import_kwargs.get("dry_run"):
        assert not stock.outcome.changed_table and not ours.outcome.changed_table
        assert ours.history == ours.history_before, f"{label}: the dry run wrote history"
    replayed = stock.failed
    if interleaved:
        assert_calls(stock.calls, ours.calls, replayed, label)
    stock_calls, our_calls = by_signal_and_sender(stock.calls), by_signal_and_sender(ours.calls)
    assert set(our_calls) == set(stock_calls), f"{label}: {set(our_calls)} {set(stock_calls)}"
    for key, calls in stock_calls.items():
        assert_calls(calls, our_calls[key], replayed, f"{label} {key}")
    assert_calls(stock.m2m_calls, ours.m2m_calls, replayed, f"{label} m2m_changed")
    return stock, ours
