"""Run one scenario through two resource classes and say how the outcomes differ.

An outcome is everything a user or the admin can observe: the table afterwards
(every column and every row's many-to-many sets; stored rows recognised by which
starting row they were, new rows by their values, since automatic primary keys
differ between runs, or by the key the file gave them), the ``Result`` (totals, row
results with their diffs, errors and their messages, invalid rows, failed rows,
base errors) and the exception when ``raise_errors`` is set.
"""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import connection, models
from import_export.resources import ModelResource
from import_export.results import ErrorRow, InvalidRow, Result, RowResult

from tests.differential.datasets import ResourceSpec, Scenario

#: Aspects compared, in the order they are reported.
ASPECTS = (
    "raised",
    "table",
    "totals",
    "total_rows",
    "base_errors",
    "row_errors",
    "error_rows",
    "invalid_rows",
    "has_errors",
    "has_validation_errors",
    "diff_headers",
    "rows",
    "failed_dataset",
)


def bulk_base() -> type[ModelResource]:
    """The engine's resource; imported late so that this module loads without it."""
    from admin_bulk_upsert import BulkUpsertResource

    return BulkUpsertResource


def build_resource_class(base: type[ModelResource], spec: ResourceSpec) -> type[ModelResource]:
    """The same class body on ``base``: the only difference between the two runs."""
    meta = type(
        "Meta",
        (),
        {
            "model": spec.model,
            "fields": spec.fields,
            "import_id_fields": list(spec.import_id_fields),
            **spec.meta,
        },
    )
    body: dict[str, Any] = {"Meta": meta, "__module__": __name__, **spec.declare()}
    return type(f"{base.__name__}For{spec.model.__name__}", (base,), body)


@dataclass(frozen=True)
class Outcome:
    before: list[tuple[Any, ...]]
    aspects: dict[str, Any]

    @property
    def changed_table(self) -> bool:
        return self.before != self.aspects["table"]


def reset_table(scenario: Scenario) -> dict[Any, int]:
    """Empty the model's table and store the scenario's starting rows.

    Returns which starting row each primary key is, so that "row 3 was updated"
    can be compared between runs whose primary keys differ.
    """
    model = scenario.spec.model
    m2m = {f.name for f in model._meta.many_to_many}
    # Raw deletes: the ORM's collector would read the rows back, and Django's converters
    # raise on values the database accepted but the field cannot hold (see _stored_rows).
    for field in model._meta.many_to_many:
        field.remote_field.through._base_manager.all()._raw_delete(connection.alias)
    model._base_manager.all()._raw_delete(connection.alias)
    origins = {}
    for index, values in enumerate(scenario.existing):
        obj = model._base_manager.create(**{k: v for k, v in values.items() if k not in m2m})
        for name in m2m & set(values):
            getattr(obj, name).set(values[name])
        origins[obj.pk] = index
    _restart_sequence(model)
    return origins


def _restart_sequence(model: type[models.Model]) -> None:
    """Make the next automatic primary key follow the starting rows, where the database
    allows it in a transaction (PostgreSQL): stock DIE moves the sequence to the
    table's largest key after an import, and rolling back does not move it back, so
    new rows would otherwise get other keys in each run (or a starting row's key)."""
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
            cursor.execute(sql)


def _normal(value: Any) -> Any:
    """A value in a form equal across runs on one database."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, (Decimal, date)):
        return f"{type(value).__name__}:{value}"
    return value


def _values(model: type[models.Model], obj: models.Model) -> tuple[Any, ...]:
    """An instance's values as held in memory (for ``row_result.instance``/``original``)."""
    return tuple(
        _normal(getattr(obj, f.attname)) for f in model._meta.concrete_fields if not f.primary_key
    )


def _stored_rows(model: type[models.Model]) -> dict[Any, tuple[Any, ...]]:
    """Every row by primary key, read with SQL: Django's converters would raise on
    values the database accepted but the field cannot hold (SQLite stores a decimal
    with too many digits), and those values are part of the outcome."""
    quote = connection.ops.quote_name
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    sql = "SELECT {}, {} FROM {}".format(
        quote(model._meta.pk.column),
        ", ".join(map(quote, columns)),
        quote(model._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = {row[0]: tuple(_normal(v) for v in row[1:]) for row in cursor.fetchall()}
    for name, related in _related_sets(model).items():
        for pk in rows:
            rows[pk] += ((name, related.get(pk, ())),)
    return rows


def _related_sets(model: type[models.Model]) -> dict[str, dict[Any, tuple[Any, ...]]]:
    """Each many-to-many field's targets per row, as sorted primary keys (the targets
    are stored before the test and never change, so their keys are equal across runs)."""
    quote = connection.ops.quote_name
    sets = {}
    for field in model._meta.many_to_many:
        through = field.remote_field.through._meta.db_table
        source, target = field.m2m_column_name(), field.m2m_reverse_name()
        related: dict[Any, list[Any]] = {}
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {quote(source)}, {quote(target)} FROM {quote(through)}")
            for pk, target_pk in cursor.fetchall():
                related.setdefault(pk, []).append(target_pk)
        sets[field.name] = {pk: tuple(sorted(targets)) for pk, targets in related.items()}
    return sets


def table_state(
    model: type[models.Model], origins: Mapping[Any, int], shown_pks: frozenset[Any] = frozenset()
) -> list[tuple[Any, ...]]:
    """Every row: ("stored", n) for the n-th starting row, ("new", pk) for a new row
    under a key the file set, "new" otherwise, and its values (m2m sets included)."""

    def origin(pk: Any) -> tuple[Any, ...]:
        if pk in origins:
            return ("stored", origins[pk])
        return ("new", pk) if pk in shown_pks else ("new",)

    rows = [(origin(pk), values) for pk, values in _stored_rows(model).items()]
    return sorted(rows, key=repr)


def run_import(
    base: type[ModelResource],
    scenario: Scenario,
    *,
    resource_kwargs: Mapping[str, Any] | None = None,
    **import_kwargs: Any,
) -> Outcome:
    """Reset the table, import the scenario's file with a resource on ``base``, observe."""
    if import_kwargs.get("use_transactions") is False and connection.in_atomic_block:
        # Without transactions a failed statement on PostgreSQL aborts the test's own
        # transaction; such runs need @pytest.mark.django_db(transaction=True).
        raise AssertionError("use_transactions=False needs a transactional test")
    model = scenario.spec.model
    origins = reset_table(scenario)
    before = table_state(model, origins, scenario.shown_pks)
    resource = build_resource_class(base, scenario.spec)(**(resource_kwargs or {}))
    result = None
    raised = None
    streamed = STREAMING and base is not ModelResource
    collected = _Collected()
    try:
        if streamed:
            result = resource.import_data(
                _RowsOnly(scenario), row_consumer=collected, **import_kwargs
            )
            result = collected.as_result(result)
        else:
            result = resource.import_data(scenario.dataset(), **import_kwargs)
    except Exception as exc:  # the exception is part of the outcome
        raised = _exception_summary(exc)
    new_rows = _stored_rows(model)
    aspects = dict.fromkeys(ASPECTS)
    aspects["raised"] = raised
    aspects["table"] = table_state(model, origins, scenario.shown_pks)
    if result is not None:
        ref = _reference(origins, {} if import_kwargs.get("dry_run") else new_rows)
        aspects.update(_result_aspects(result, model, ref, scenario.shown_pks))
    return Outcome(before, aspects)


#: Whether the engine's side imports through the streaming path: a dataset that
#: can only be iterated and a ``row_consumer`` (:class:`StreamingResult`). Set by
#: ``tests/differential/test_streaming.py``, or for the whole suite with the
#: environment variable ``ADMIN_BULK_UPSERT_DIFFERENTIAL_STREAMING=1``.
STREAMING = os.environ.get("ADMIN_BULK_UPSERT_DIFFERENTIAL_STREAMING") == "1"


class _RowsOnly:
    """The scenario's rows with only what a streamed file offers: headers, len(), iteration."""

    def __init__(self, scenario: Scenario) -> None:
        self.headers = list(scenario.headers)
        self._rows = scenario.rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Any:
        return (list(row) for row in self._rows)


class _Collected:
    """A row consumer that keeps what it is given, to rebuild stock's ``Result`` from it."""

    def __init__(self) -> None:
        self.seen: list[tuple[RowResult, Any]] = []

    def __call__(self, row_result: RowResult, failed: Any) -> None:
        self.seen.append((row_result, failed))

    def as_result(self, streamed: Any) -> Result:
        """A plain ``Result`` with the rows the consumer saw and the streamed result's counts."""
        from admin_bulk_upsert.engine.results import StreamingResult

        assert isinstance(streamed, StreamingResult), type(streamed)

        class Rebuilt(Result):
            def has_errors(self) -> bool:
                return bool(streamed.has_errors())

            def has_validation_errors(self) -> bool:
                return bool(streamed.has_validation_errors())

        result = Rebuilt()
        for name in ("totals", "total_rows", "base_errors", "diff_headers", "failed_dataset"):
            setattr(result, name, getattr(streamed, name))
        for row_result, failed in self.seen:
            result.rows.append(row_result)
            if failed is None:
                continue
            if row_result.errors:
                result.error_rows.append(ErrorRow(failed.number, row_result.errors))
            else:
                invalid = InvalidRow(failed.number, row_result.validation_error, failed.values)
                result.invalid_rows.append(invalid)
        return result


#: PostgreSQL names the failing row's primary key, taken from a sequence that differs
#: between the two runs.
_FAILING_ROW_PK = re.compile(r"(Failing row contains \()\d+,")


def _message(error: BaseException) -> str:
    return _FAILING_ROW_PK.sub(r"\1<pk>,", str(error))


def _exception_summary(exc: BaseException) -> tuple[Any, ...]:
    error = getattr(exc, "error", None)
    row = getattr(exc, "row", None)
    return (
        type(exc).__name__,
        getattr(exc, "number", None),
        type(error).__name__ if error is not None else None,
        _message(error) if error is not None else _message(exc),
        dict(row) if row is not None else None,
    )


def _reference(origins: Mapping[Any, int], new_rows: Mapping[Any, Any]) -> Callable[[Any], Any]:
    """A primary key as something equal across runs: which starting row, or the values
    of the new row (not in dry runs, where the row no longer exists)."""

    def ref(pk: Any) -> Any:
        if pk is None:
            return None
        if pk in origins:
            return ("stored", origins[pk])
        if pk in new_rows:
            return ("new", new_rows[pk])
        return ("not stored",)

    return ref


def _result_aspects(
    result: Result,
    model: type[models.Model],
    ref: Callable[[Any], Any],
    shown_pks: frozenset[Any],
) -> dict[str, Any]:
    """The result's aspects. Where the diff shows a primary key that is not one the
    file set (a sequence's value, which differs between runs), it shows the row's
    reference instead."""
    headers = list(result.diff_headers)
    pk_index = headers.index(model._meta.pk.name) if model._meta.pk.name in headers else None

    def diff(r: RowResult) -> list[str] | None:
        if r.diff is None:
            return None
        cells = [str(html) for html in r.diff]
        pk = r.object_id
        if pk_index is not None and pk is not None and pk not in shown_pks:
            cells[pk_index] = cells[pk_index].replace(f">{pk}<", ">&lt;pk&gt;<")
        return cells

    def instance(obj: models.Model | None) -> Any:
        return None if obj is None else (ref(obj.pk), _values(model, obj))

    def row(r: RowResult) -> tuple[Any, ...]:
        return (
            r.import_type,
            ref(r.object_id),
            r.object_repr,
            diff(r),
            instance(r.original),
            instance(r.instance),
            [(e.number, type(e.error).__name__, _message(e.error)) for e in r.errors],
            None if r.validation_error is None else _messages(r.validation_error),
            dict(r.row_values),
        )

    failed = result.failed_dataset
    return {
        "totals": dict(result.totals),
        "total_rows": result.total_rows,
        "base_errors": [(type(e.error).__name__, _message(e.error)) for e in result.base_errors],
        "row_errors": [
            (position, e.number, type(e.error).__name__, _message(e.error), dict(e.row or {}))
            for position, errors in result.row_errors()
            for e in errors
        ],
        "error_rows": [(er.number, len(er.errors)) for er in result.error_rows],
        "invalid_rows": [(r.number, r.error_dict, r.values) for r in result.invalid_rows],
        "has_errors": result.has_errors(),
        "has_validation_errors": result.has_validation_errors(),
        "diff_headers": list(result.diff_headers),
        "rows": [row(r) for r in result.rows],
        "failed_dataset": (
            list(failed.headers or []),
            [
                tuple(_FAILING_ROW_PK.sub(r"\1<pk>,", v) if isinstance(v, str) else v for v in r)
                for r in failed
            ],
        ),
    }


def _messages(error: ValidationError) -> Any:
    """Messages as stock's ``InvalidRow`` reads them: by field when there are fields."""
    try:
        return error.message_dict
    except AttributeError:
        return error.messages


def _sequence_differences(name: str, left: Sequence[Any], right: Sequence[Any]) -> list[str]:
    lines = []
    if len(left) != len(right):
        lines.append(f"{name}: {len(left)} items in stock, {len(right)} in the other")
    pairs = itertools.zip_longest(left, right, fillvalue="<missing>")
    shown = [(i, a, b) for i, (a, b) in enumerate(pairs) if a != b][:5]
    lines += [f"{name}[{i}]:\n    stock: {a!r}\n    other: {b!r}" for i, a, b in shown]
    return lines


def _table_difference(left: list[Any], right: list[Any], left_name: str, right_name: str) -> str:
    only_left = Counter(map(repr, left)) - Counter(map(repr, right))
    only_right = Counter(map(repr, right)) - Counter(map(repr, left))
    return (
        f"table:\n  only {left_name}: "
        + "\n    ".join(only_left.elements())
        + f"\n  only {right_name}: "
        + "\n    ".join(only_right.elements())
    )


def differences(stock: Outcome, other: Outcome) -> list[str]:
    """Human-readable differences, empty when the outcomes are the same."""
    lines: list[str] = []
    for aspect in ASPECTS:
        left, right = stock.aspects[aspect], other.aspects[aspect]
        if left == right:
            continue
        if aspect == "table":
            lines.append(_table_difference(left, right, "after stock", "after the other"))
        elif isinstance(left, list) and isinstance(right, list):
            lines += _sequence_differences(aspect, left, right)
        else:
            lines.append(f"{aspect}:\n    stock: {left!r}\n    other: {right!r}")
    return lines


def without_diff_columns(outcome: Outcome, columns: Sequence[str]) -> Outcome:
    """The outcome with the diff cells of ``columns`` blanked: for a difference already
    known and tracked elsewhere, so that it does not hide the others."""
    rows, headers = outcome.aspects["rows"], outcome.aspects["diff_headers"]
    if not columns or rows is None:
        return outcome
    hidden = {headers.index(c) for c in columns if c in headers}

    def blank(diff: list[str] | None) -> list[str] | None:
        if diff is None:
            return None
        return ["<not compared>" if i in hidden else cell for i, cell in enumerate(diff)]

    rows = [(*row[:3], blank(row[3]), *row[4:]) for row in rows]
    return Outcome(outcome.before, {**outcome.aspects, "rows": rows})


def assert_same(
    stock: Outcome, other: Outcome, label: str = "", ignore_diff_columns: Sequence[str] = ()
) -> None:
    found = differences(
        without_diff_columns(stock, ignore_diff_columns),
        without_diff_columns(other, ignore_diff_columns),
    )
    assert not found, f"{label} differs from stock DIE:\n" + "\n".join(found)


def assert_equivalent(
    scenario: Scenario,
    *,
    other_base: type[ModelResource] | None = None,
    other_resource_kwargs: Mapping[str, Any] | None = None,
    dry_run_too: bool = True,
    ignore_diff_columns: Sequence[str] = (),
    **import_kwargs: Any,
) -> tuple[Outcome, Outcome]:
    """Import with stock DIE and with the engine (or ``other_base``); same outcome, and
    (unless ``dry_run_too`` is false) dry runs of both change nothing and agree too."""
    other = other_base or bulk_base()
    stock_outcome = run_import(ModelResource, scenario, **import_kwargs)
    other_outcome = run_import(
        other, scenario, resource_kwargs=other_resource_kwargs, **import_kwargs
    )
    ignored = ignore_diff_columns
    assert_same(stock_outcome, other_outcome, f"{scenario.name} {import_kwargs}", ignored)
    if dry_run_too and not import_kwargs.get("dry_run"):
        dry_kwargs = {**import_kwargs, "dry_run": True}
        stock_dry = run_import(ModelResource, scenario, **dry_kwargs)
        other_dry = run_import(other, scenario, resource_kwargs=other_resource_kwargs, **dry_kwargs)
        assert not stock_dry.changed_table, "stock DIE's dry run changed the table"
        assert not other_dry.changed_table, f"{scenario.name}: the dry run changed the " + (
            _table_difference(other_dry.before, other_dry.aspects["table"], "before", "after")
        )
        assert_same(stock_dry, other_dry, f"{scenario.name} dry run {dry_kwargs}", ignored)
    return stock_outcome, other_outcome


def shrink(
    scenario: Scenario,
    other_base: type[ModelResource] | None = None,
    ignore_diff_columns: Sequence[str] = (),
    **import_kwargs: Any,
) -> Scenario:
    """The smallest file (and set of stored rows) that still differs from stock, found by
    dropping rows one at a time: what to paste into a bug report.

    Use it by hand, from a failing test: ``print(shrink(scenario, use_transactions=True))``.
    """
    other = other_base or bulk_base()

    def differs(candidate: Scenario) -> bool:
        stock_outcome = run_import(ModelResource, candidate, **import_kwargs)
        other_outcome = run_import(other, candidate, **import_kwargs)
        return bool(
            differences(
                without_diff_columns(stock_outcome, ignore_diff_columns),
                without_diff_columns(other_outcome, ignore_diff_columns),
            )
        )

    if not differs(scenario):
        return scenario
    for attribute in ("rows", "existing"):
        index = 0
        while index < len(getattr(scenario, attribute)):
            items = getattr(scenario, attribute)
            candidate = replace(scenario, **{attribute: items[:index] + items[index + 1 :]})
            if differs(candidate):
                scenario = candidate
            else:
                index += 1
    return scenario
