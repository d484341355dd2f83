"""Per-chunk replacements of save receivers, against stock DIE.

``replace_receiver_per_chunk`` (a project's own receiver), and the
django-simple-history adapter built on it: stock calls ``HistoricalRecords``'
``post_save`` receiver for each saved row, which saves one history row; the
engine writes a chunk's history rows with one ``bulk_create``. Each test
compares the outcome (table, totals, rows, diffs) and the history table (per
record, in order: history type, values, user, change reason), dry runs included.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time
from import_export.resources import ModelResource
from simple_history.models import HistoricalRecords

from admin_bulk_upsert import BulkUpsertResource, replace_receiver_per_chunk
from admin_bulk_upsert.engine.chunk_receivers import replacement_for
from admin_bulk_upsert.engine.write_mode import BULK_WITH_SIGNALS, write_path
from admin_bulk_upsert.integrations.simple_history import ChunkHistory, register_history_models
from tests.differential import harness
from tests.differential.datasets import ResourceSpec, Scenario
from tests.differential.harness import assert_same, build_resource_class, run_import
from tests.differential.test_save_signals import ROWS, STORED, connected, products
from tests.testapp.models import (
    BulkSafeProduct,
    HistoryProduct,
    SignalledProduct,
    StampedHistoryProduct,
)

NOW = "2026-02-03 04:05:06"
BEFORE = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def modified_default() -> None:
    """``AutoLastModifiedField``'s default is computed once per process: read it before
    the clock is frozen (see test_save_signals)."""
    StampedHistoryProduct._meta.get_field("modified").get_default()


def history_receiver(model: type) -> Any:
    """The ``HistoricalRecords.post_save`` receiver connected for ``model``."""
    receivers, _ = post_save._live_receivers(model)
    (found,) = [r for r in receivers if isinstance(getattr(r, "__self__", None), HistoricalRecords)]
    return found


def history_state(model: type) -> dict[str, list[tuple[Any, ...]]]:
    """Each record's history rows in order (by date, then id), by its code: the tracked
    values (``code``, ``name``, ...) then history type, user and change reason."""
    history_model = model.history.model
    history = ["history_type", "history_user_id", "history_change_reason"]
    names = [
        f.attname
        for f in history_model._meta.concrete_fields
        if not f.attname.startswith("history_") and f.attname != "id"
    ]
    names += history  # the values, then what the history says of them
    state: dict[str, list[tuple[Any, ...]]] = {}
    for row in history_model._base_manager.order_by("history_date", "history_id").values(*names):
        state.setdefault(row["code"], []).append(
            tuple(harness._normal(row[name]) for name in names)
        )
    return state


def history_run(base: type, scenario: Scenario, **import_kwargs: Any):
    """Import with ``base`` from an empty history table: the outcome, the history after the
    starting rows were stored, and after the import."""
    model = scenario.spec.model
    reset_table = harness.reset_table
    seen = {}

    def reset_with_history(scenario: Scenario) -> Any:
        model.history.model._base_manager.all()._raw_delete(connection.alias)
        origins = reset_table(scenario)
        seen["before"] = history_state(model)
        return origins

    with mock.patch.object(harness, "reset_table", reset_with_history):
        outcome = run_import(base, scenario, **import_kwargs)
    return outcome, seen["before"], history_state(model)


def assert_same_history(scenario: Scenario, **import_kwargs: Any) -> dict[str, Any]:
    """Stock and the engine: the same outcome and history, and a dry run leaves none."""
    for dry_run in (False, True):
        kwargs = {"use_transactions": True, **import_kwargs, "dry_run": dry_run}
        stock, stock_before, stock_history = history_run(ModelResource, scenario, **kwargs)
        ours, our_before, our_history = history_run(BulkUpsertResource, scenario, **kwargs)
        assert_same(stock, ours, f"{scenario.name} {kwargs}")
        assert our_history == stock_history, kwargs
        if dry_run:
            assert our_history == our_before == stock_before
        else:
            assert stock_history != stock_before, "stock wrote no history"
            result = stock_history
    return result


def history_products(model=HistoryProduct, rows=ROWS, **meta: Any) -> Scenario:
    stored = STORED
    if model is StampedHistoryProduct:
        stored = tuple({**values, "created": BEFORE, "modified": BEFORE} for values in STORED)
    return products(model, rows=rows, stored=stored, **meta)


# --- django-simple-history ---------------------------------------------------------------


def test_the_history_models_are_registered():
    assert set(register_history_models()) == {HistoryProduct, StampedHistoryProduct}
    for model in (HistoryProduct, StampedHistoryProduct):
        assert isinstance(replacement_for(post_save, history_receiver(model)), ChunkHistory)


@pytest.mark.django_db
@pytest.mark.parametrize("model", [HistoryProduct, StampedHistoryProduct])
@pytest.mark.parametrize("batch_size", [1, 3, 1000])
@pytest.mark.parametrize("skip_unchanged", [False, True])
def test_history_rows_as_stock(model, batch_size, skip_unchanged):
    scenario = history_products(
        model, batch_size=batch_size, skip_unchanged=skip_unchanged, report_skipped=True
    )
    assert write_path(build_resource_class(BulkUpsertResource, scenario.spec), model).how == (
        BULK_WITH_SIGNALS
    )
    with freeze_time(NOW):
        history = assert_same_history(scenario)
    assert [row[-3:] for row in history["A"]] == [("+", None, None), ("~", None, None)]
    assert [row[-3] for row in history["D"]] == ["+"]
    assert [row[-3] for row in history["B"]] == (["+"] if skip_unchanged else ["+", "~"])


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [3, 1000])
def test_a_repeated_key_in_a_chunk(batch_size):
    rows = (("A", "one"), ("D", "dog"), ("A", "two"), ("D", "dig"), ("E", "eel"))
    history = assert_same_history(history_products(rows=rows, batch_size=batch_size))
    assert [(row[1], row[-3]) for row in history["A"]] == [
        ("apple", "+"),
        ("one", "~"),
        ("two", "~"),
    ]


@pytest.fixture
def request_user() -> Iterator[User]:
    """A request with a signed-in user, as ``HistoryRequestMiddleware`` leaves it."""
    user = User.objects.create(username="importer")
    HistoricalRecords.context.request = SimpleNamespace(user=user)
    try:
        yield user
    finally:
        del HistoricalRecords.context.request


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [3, 1000])
def test_user_change_reason_and_skipped_rows(request_user, batch_size):
    """The request's user, an instance's own ``_history_user`` and ``_change_reason`` set by
    a pre_save receiver, and ``skip_history_when_saving`` on one row."""
    other = User.objects.create(username="other")

    def annotate(sender, instance, **kwargs):
        instance._change_reason = f"import of {instance.code}"
        if instance.code in ("A", "E"):
            instance._history_user = other
        if instance.code == "F":
            instance.skip_history_when_saving = True

    with connected((pre_save, annotate, HistoryProduct)):
        history = assert_same_history(history_products(batch_size=batch_size))
    assert history["A"][-1][-3:] == ("~", other.pk, "import of A")
    assert history["D"][-1][-3:] == ("+", request_user.pk, "import of D")
    assert "F" not in history


@pytest.mark.django_db
def test_simple_history_disabled(settings):
    settings.SIMPLE_HISTORY_ENABLED = False
    for base in (ModelResource, BulkUpsertResource):
        _outcome, before, after = history_run(base, history_products(), use_transactions=True)
        assert before == after == {}


@pytest.mark.django_db
def test_a_raising_history_receiver_is_replayed_as_stock():
    """A ``pre_create_historical_record`` receiver that raises for one row: the chunk is
    rolled back and replayed row by row, where ``HistoricalRecords`` runs per row."""
    from simple_history.signals import pre_create_historical_record

    def refuse(sender, instance, **kwargs):
        if instance.name == "boom":
            raise ValueError("no history for boom")

    rows = (*ROWS[:3], ("H", "boom"), *ROWS[3:])
    with connected((pre_create_historical_record, refuse, HistoryProduct.history.model)):
        for batch_size in (3, 1000):
            scenario = history_products(rows=rows, batch_size=batch_size)
            kwargs = {"use_transactions": True}
            stock, _, stock_history = history_run(ModelResource, scenario, **kwargs)
            ours, _, our_history = history_run(BulkUpsertResource, scenario, **kwargs)
            assert_same(stock, ours, "raising")
            assert our_history == stock_history
            assert stock.aspects["row_errors"]


@pytest.mark.django_db
def test_receivers_of_the_history_model_keep_its_saves():
    """A ``pre_save`` receiver of the historical model: its rows are saved one by one (the
    receiver called for each, as in stock), still after the chunk's write."""
    seen = []

    def history_saved(sender, instance, **kwargs):
        seen.append((instance.code, instance.history_type))

    with connected((pre_save, history_saved, HistoryProduct.history.model)):
        stock = history_run(ModelResource, history_products(), use_transactions=True)
        stock_seen, seen[:] = seen[len(STORED) :], []
        ours = history_run(BulkUpsertResource, history_products(), use_transactions=True)
        our_seen = seen[len(STORED) :]
    assert_same(stock[0], ours[0], "history model receivers")
    assert ours[2] == stock[2]
    assert our_seen == stock_seen and len(stock_seen) == len(ROWS)


def statements(model: type, rows: int) -> int:
    """Statements an import of ``rows`` new records sends, in one chunk."""
    model._base_manager.all()._raw_delete(connection.alias)
    spec = ResourceSpec(model, ("code", "name"), ("code",), meta={"batch_size": 1000})
    file = tuple((f"P{n}", "x") for n in range(rows))
    resource_class = build_resource_class(BulkUpsertResource, spec)
    with CaptureQueriesContext(connection) as queries:
        resource_class().import_data(Scenario("n", spec, (), ("code", "name"), file).dataset())
    return len(queries.captured_queries)


@pytest.mark.django_db
def test_statements():
    """The history is one statement per chunk; per row without the adapter."""
    for model in (BulkSafeProduct, HistoryProduct):
        statements(model, 1)  # what an import reads once per table (MariaDB's collations)
    # The history rows: one insert, or on PostgreSQL the engine's COPY (the temporary
    # table, the COPY, the insert). One savepoint covers the signals and the write.
    history = 3 if connection.vendor == "postgresql" else 1
    plain = statements(BulkSafeProduct, 10)
    assert statements(HistoryProduct, 10) == plain + history
    assert statements(HistoryProduct, 20) == statements(BulkSafeProduct, 20) + history
    receiver = history_receiver(HistoryProduct)
    replace_receiver_per_chunk(post_save, receiver, None)
    try:
        assert statements(HistoryProduct, 10) == plain + 10
    finally:
        register_history_models()
    assert HistoryProduct.history.count() == 1 + 10 + 20 + 10


# --- a project's own replacement -----------------------------------------------------------


class Audit:
    """A project's receiver and its per-chunk form, recording their calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def receiver(self, sender, instance, created, **kwargs):
        self.calls.append(("row", instance.code, instance.name, created))

    def chunk(self, sender, rows, using):
        assert sender is SignalledProduct and using == connection.alias
        assert all(instance.pk is not None for instance, _created in rows)
        self.calls.append(("chunk", [(i.code, i.name, created) for i, created in rows]))

    def rows(self) -> list[tuple[Any, ...]]:
        """Every row the receiver or the replacement saw, in order."""
        found = []
        for call in self.calls:
            found.extend([call[1:]] if call[0] == "row" else call[1])
        return found


def audited_run(base: type, scenario: Scenario, audit: Audit, **import_kwargs: Any):
    """``run_import``, forgetting the calls the starting rows' saves made."""
    reset_table = harness.reset_table

    def reset_then_forget(scenario: Scenario) -> Any:
        origins = reset_table(scenario)
        audit.calls.clear()
        return origins

    with mock.patch.object(harness, "reset_table", reset_then_forget):
        return run_import(base, scenario, **import_kwargs)


@contextlib.contextmanager
def replaced(signal, receiver, replacement) -> Iterator[None]:
    with connected((signal, receiver, SignalledProduct)):
        replace_receiver_per_chunk(signal, receiver, replacement)
        try:
            yield
        finally:
            replace_receiver_per_chunk(signal, receiver, None)


@pytest.mark.django_db
def test_a_project_replacement_is_called_once_per_chunk():
    scenario = products()  # batch_size 3
    stock_audit, our_audit = Audit(), Audit()
    with replaced(post_save, stock_audit.receiver, stock_audit.chunk):
        stock = audited_run(ModelResource, scenario, stock_audit, use_transactions=True)
    with (
        replaced(post_save, our_audit.receiver, our_audit.chunk),
        mock.patch.object(post_save, "send", wraps=post_save.send) as send,
    ):
        ours = audited_run(BulkUpsertResource, scenario, our_audit, use_transactions=True)
    assert_same(stock, ours, "replacement")
    assert {call[0] for call in stock_audit.calls} == {"row"}
    assert [call[0] for call in our_audit.calls] == ["chunk"] * 3
    assert [len(call[1]) for call in our_audit.calls] == [3, 3, 1]
    assert our_audit.rows() == stock_audit.rows()
    # The only post_save receiver left is replaced: nothing is sent per row for the import
    # (the starting rows, stored before it, were).
    assert len(send.call_args_list) == len(STORED)


@pytest.mark.django_db
def test_replacements_run_at_their_receivers_place():
    """pre_save: receivers before the replaced one for every row, the replacement, then
    those after it; the replacement sees the instances before the write."""
    calls = []

    def first(sender, instance, **kwargs):
        calls.append(("first", instance.code))

    def replaced_receiver(sender, instance, **kwargs):
        calls.append(("replaced", instance.code))

    def last(sender, instance, **kwargs):
        calls.append(("last", instance.code))

    def chunk(sender, rows, using):
        calls.append(("chunk", [(i.code, i.pk is None) for i in rows]))

    rows = (("D", "date"), ("A", "apricot"))
    scenario = products(rows=rows)
    with (
        connected((pre_save, first, SignalledProduct)),
        replaced(pre_save, replaced_receiver, chunk),
        connected((pre_save, last, SignalledProduct)),
    ):
        run_import(BulkUpsertResource, scenario, use_transactions=True)
    calls = calls[len(STORED) * 3 :]  # the starting rows' saves
    assert calls == [
        ("first", "D"),
        ("first", "A"),
        ("chunk", [("D", True), ("A", False)]),
        ("last", "D"),
        ("last", "A"),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_a_replacement_that_raises(batch_size):
    """The chunk is rolled back and replayed the stock way: the receiver runs per row."""
    rows = (*ROWS[:3], ("H", "boom"), *ROWS[3:])
    scenario = products(rows=rows, batch_size=batch_size)

    def refuse_boom(audit):
        def chunk(sender, rows, using):
            if any(instance.name == "boom" for instance, _created in rows):
                raise ValueError("boom refused")
            audit.chunk(sender, rows, using)

        return chunk

    def boom_receiver(audit):
        def receiver(sender, instance, created, **kwargs):
            if instance.name == "boom":
                raise ValueError("boom refused")
            audit.receiver(sender, instance, created, **kwargs)

        return receiver

    stock_audit, our_audit = Audit(), Audit()
    with replaced(post_save, boom_receiver(stock_audit), refuse_boom(stock_audit)):
        stock = audited_run(ModelResource, scenario, stock_audit, use_transactions=True)
    with replaced(post_save, boom_receiver(our_audit), refuse_boom(our_audit)):
        ours = audited_run(BulkUpsertResource, scenario, our_audit, use_transactions=True)
    assert_same(stock, ours, "raising replacement")
    assert stock.aspects["row_errors"]
    assert our_audit.rows() == stock_audit.rows()
    replayed = [  # the other rows of boom's chunk, replayed row by row
        row for i, row in enumerate(rows) if i // batch_size == 3 // batch_size and i != 3
    ]
    assert [call[1:] for call in our_audit.calls if call[0] == "row"] == [
        call[1:] for call in stock_audit.calls if call[1] in {code for code, _name in replayed}
    ]


def test_only_save_signals_can_be_replaced():
    from django.db.models.signals import post_delete

    with pytest.raises(ValueError, match="pre_save and post_save"):
        replace_receiver_per_chunk(post_delete, print, print)
    with pytest.raises(TypeError):
        replace_receiver_per_chunk(post_save, print, "not callable")


@pytest.mark.django_db
def test_the_documented_example_runs():
    """The example of docs/resources.md, as pasted, then an import of two groups in one chunk."""
    page = (Path(__file__).parents[2] / "docs" / "resources.md").read_text()
    (example,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", page, re.S)
        if "replace_receiver_per_chunk(post_save, audit, audit_chunk)" in block
    ]
    namespace: dict[str, Any] = {}
    exec(compile(example, "docs/resources.md", "exec"), namespace)
    audit, audit_log = namespace["audit"], namespace["audit_log"]
    chunk = mock.Mock(wraps=namespace["audit_chunk"])
    replace_receiver_per_chunk(post_save, audit, chunk)  # the same, counting its calls
    try:
        staff = Group.objects.create(name="staff")
        audit_log.clear()  # the group stored beforehand
        spec = ResourceSpec(Group, ("name",), ("name",))
        resource_class = build_resource_class(BulkUpsertResource, spec)
        assert write_path(resource_class, Group).how == BULK_WITH_SIGNALS
        resource_class().import_data(
            Scenario("groups", spec, (), ("name",), (("staff",), ("editors",))).dataset()
        )
        editors = Group.objects.get(name="editors")
        assert audit_log == [("Group", staff.pk, False), ("Group", editors.pk, True)]
        assert chunk.call_count == 1
    finally:
        replace_receiver_per_chunk(post_save, audit, None)
        post_save.disconnect(audit, sender=Group)
