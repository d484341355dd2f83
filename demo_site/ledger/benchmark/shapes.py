"""Model shapes that change how an import writes, each beside its plain twin.

``manage.py benchmark --shapes`` imports one generated file (columns ``code``, ``name``,
``amount``, ``tags``; half of the codes already in the table, one in five of those with a
new name and new tags, the other half new) with three contenders per shape, on the same
CSV bytes:

- the plugin on the shaped model (``<shape>``),
- the plugin on its plain twin, a model with the same columns and nothing else
  (``<shape>_twin``),
- stock DIE row by row on the shaped model (``<shape>_die``).

Shapes: ``m2m`` (tags through ``ManyToManyWidget(Tag, field="name")``; the twin keeps
them as text), ``history`` (django-model-utils' ``TimeStampedModel`` with
django-simple-history's ``HistoricalRecords``; the twin has plain ``created`` and
``modified`` columns), ``receiver`` (a ``pre_save`` receiver connected for every sender
that acts on one mixin only and does nothing for this model; connected for the shaped
contenders' runs only, the twin runs without it) and ``save`` (a ``save()`` filling the
slug from the name; the twin's slug column is left alone).

After each contender's last run the table is fingerprinted (codes, names, amounts and
tags, whichever way they are stored) and compared with what a correct import leaves;
the shapes' own work is checked too (every slug filled, one history record per row).
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models.signals import pre_save
from django.utils.text import slugify

from ledger.benchmark.contenders import Contender, Workload, _die_dataset, _import_with
from ledger.benchmark.measuring import Outcome
from ledger.models import (
    PlainSignalledItem,
    PlainSluggedItem,
    PlainTaggedItem,
    SignalledItem,
    SluggedItem,
    Tag,
    TaggedItem,
)
from ledger.resources import (
    ITEM_COLUMNS,
    PlainSignalledItemResource,
    PlainSluggedItemResource,
    PlainTaggedItemResource,
    SignalledItemResource,
    SluggedItemResource,
    StockSignalledItemResource,
    StockSluggedItemResource,
    StockTaggedItemResource,
    TaggedItemResource,
)

SEED = 20261207
TAG_NAMES = tuple(
    f"{colour}-{thing}"
    for colour in ("red", "green", "blue", "amber")
    for thing in ("invoice", "refund", "travel")
)
_WORDS = ("Acme", "Café Lumière", "Nordwind", "Søren & Co", "Payroll", "Rent", "Telecom")
_BATCH_SIZE = 1000


# -- the file -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleItem:
    index: int
    code: str
    name: str
    amount: Decimal
    tags: tuple[str, ...]
    old_name: str
    old_tags: tuple[str, ...]

    @property
    def preexisting(self) -> bool:
        return self.index % 2 == 0


def sample_items(count: int, seed: int = SEED) -> list[SampleItem]:
    """Items 0 to ``count - 1``; the same item ``i`` whatever the count."""
    rng = random.Random(seed)
    items = []
    for index in range(count):
        name = f"{rng.choice(_WORDS)} item {rng.randrange(100_000):05d}"
        tags = tuple(sorted(rng.sample(TAG_NAMES, rng.randrange(4))))
        old_tags = tuple(sorted(rng.sample(TAG_NAMES, rng.randrange(4))))
        changed = index % 10 == 0
        items.append(
            SampleItem(
                index=index,
                code=f"ITEM-{index:07d}",
                name=name,
                amount=Decimal(rng.randrange(-50_000, 500_000) or 1).scaleb(-2),
                tags=tags,
                old_name=f"{name} (old)" if changed else name,
                old_tags=old_tags if changed else tags,
            )
        )
    return items


def items_csv(count: int, seed: int = SEED) -> bytes:
    """The shapes' file of ``count`` rows, shuffled, as UTF-8 CSV with a header."""
    rows = sample_items(count, seed)
    random.Random(seed + count).shuffle(rows)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ITEM_COLUMNS)
    writer.writerows((i.code, i.name, str(i.amount), ",".join(i.tags)) for i in rows)
    return buffer.getvalue().encode("utf-8")


# -- the receiver ---------------------------------------------------------------------------


class Searchable:
    """A mixin: models whose ``search_text`` is kept up to date on every save."""

    search_text: str


def fill_search_text(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A project-wide ``pre_save`` receiver (connected for every sender, as Wagtail's
    are) that acts on ``Searchable`` models only."""
    if isinstance(instance, Searchable):
        instance.search_text = str(instance).lower()


@contextmanager
def project_wide_receiver() -> Iterator[None]:
    pre_save.connect(fill_search_text, dispatch_uid="ledger_fill_search_text")
    try:
        yield
    finally:
        pre_save.disconnect(dispatch_uid="ledger_fill_search_text")


# -- the shapes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemState:
    rows: int
    checksum: str
    problems: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.rows} rows, sha256 {self.checksum[:12]}"

    def same_content(self, other: ItemState) -> bool:
        return (self.rows, self.checksum) == (other.rows, other.checksum)


@dataclass(frozen=True)
class Shape:
    key: str
    title: str
    model: type[models.Model]
    twin: type[models.Model]
    resource: Any
    twin_resource: Any
    stock_resource: Any
    #: Around the shaped contenders' runs (the project-wide receiver's connection).
    around_shaped: Callable[[], AbstractContextManager[Any]] = nullcontext
    #: Checks of the shape's own work after an import of ``count`` rows: problems found.
    extra_check: Callable[[str, int], list[str]] = field(default=lambda alias, count: [])


def _slug_check(alias: str, count: int) -> list[str]:
    wrong = sum(
        slug != slugify(name)
        for name, slug in SluggedItem.objects.using(alias).values_list("name", "slug")
    )
    return [f"{wrong} slugs not filled from the name"] if wrong else []


def _history_check(alias: str, count: int) -> list[str]:
    history = apps.get_model("ledger_history", "HistoryItem").history.using(alias).count()
    # One history record per row the file creates or updates (the starting rows were
    # written without any).
    return [] if history == count else [f"{history} history records for {count} rows"]


def shapes() -> tuple[list[Shape], dict[str, str]]:
    """The shapes to run, and the reason each unavailable one is skipped."""
    found = [
        Shape(
            "m2m",
            'many-to-many column (ManyToManyWidget(Tag, field="name"))',
            TaggedItem,
            PlainTaggedItem,
            TaggedItemResource,
            PlainTaggedItemResource,
            StockTaggedItemResource,
        ),
    ]
    skipped: dict[str, str] = {}
    if apps.is_installed("ledger_history"):
        from ledger_history import models as history_models
        from ledger_history import resources as history_resources

        found.append(
            Shape(
                "history",
                "TimeStampedModel + HistoricalRecords",
                history_models.HistoryItem,
                history_models.PlainHistoryItem,
                history_resources.HistoryItemResource,
                history_resources.PlainHistoryItemResource,
                history_resources.StockHistoryItemResource,
                extra_check=_history_check,
            )
        )
    else:
        skipped["history"] = (
            "django-model-utils and django-simple-history are not both installed "
            "(pip install -e '.[demo]'), so the ledger_history app is not"
        )
    found += [
        Shape(
            "receiver",
            "project-wide pre_save receiver (acts on another mixin)",
            SignalledItem,
            PlainSignalledItem,
            SignalledItemResource,
            PlainSignalledItemResource,
            StockSignalledItemResource,
            around_shaped=project_wide_receiver,
        ),
        Shape(
            "save",
            "save() filling a slug from the name",
            SluggedItem,
            PlainSluggedItem,
            SluggedItemResource,
            PlainSluggedItemResource,
            StockSluggedItemResource,
            extra_check=_slug_check,
        ),
    ]
    return found, skipped


SHAPE_KEYS = ("m2m", "history", "receiver", "save")


def contenders(shape: Shape) -> list[Contender]:
    """The plain twin, the shaped model and stock DIE on the shaped model, in that order."""

    def importer(resource_class: Any, reader: Callable[[Workload], Any], shaped: bool) -> Any:
        def run(workload: Workload, prepared: None) -> Outcome:
            with shape.around_shaped() if shaped else nullcontext():
                return _import_with(resource_class(), reader(workload), dry_run=False)

        return run

    def reset(model: type[models.Model]) -> Callable[[Workload], None]:
        return lambda workload: reset_items(model, workload.rows, workload.alias)

    return [
        Contender(
            f"{shape.key}_twin",
            f"{shape.key}: plugin, plain twin",
            True,
            False,
            reset(shape.twin),
            importer(shape.twin_resource, _plugin_dataset, shaped=False),
        ),
        Contender(
            shape.key,
            f"{shape.key}: plugin",
            True,
            False,
            reset(shape.model),
            importer(shape.resource, _plugin_dataset, shaped=True),
            baseline=f"{shape.key}_twin",
        ),
        Contender(
            f"{shape.key}_die",
            f"{shape.key}: DIE row by row",
            True,
            True,
            reset(shape.model),
            importer(shape.stock_resource, _die_dataset, shaped=True),
            baseline=shape.key,
        ),
    ]


def _plugin_dataset(workload: Workload) -> Any:
    from admin_bulk_upsert.files.reading import read_dataset

    return read_dataset(workload.csv_data, filename="items.csv")


# -- resetting and fingerprinting -------------------------------------------------------------


def _m2m(model: type[models.Model]) -> models.ManyToManyField | None:
    return next(iter(model._meta.many_to_many), None)  # type: ignore[return-value]


def ensure_tags(alias: str) -> dict[str, int]:
    existing = set(Tag.objects.using(alias).values_list("name", flat=True))
    Tag.objects.using(alias).bulk_create(Tag(name=n) for n in TAG_NAMES if n not in existing)
    return dict(Tag.objects.using(alias).values_list("name", "pk"))


def reset_items(model: type[models.Model], count: int, alias: str) -> None:
    """Make ``model``'s table hold the starting state for the file of ``count`` rows."""
    starting = [i for i in sample_items(count) if i.preexisting]
    m2m = _m2m(model)
    names = {f.name for f in model._meta.concrete_fields}
    with transaction.atomic(using=alias):
        history = getattr(model, "history", None)
        if history is None:
            model.objects.using(alias).all().delete()  # type: ignore[attr-defined]
        else:
            # Without the post_delete that records a deletion per row (minutes at 100,000
            # rows); nothing references the table.
            model.objects.using(alias).all()._raw_delete(alias)  # type: ignore[attr-defined]
            history.using(alias).all().delete()
        instances = []
        for item in starting:
            values = {"code": item.code, "name": item.old_name, "amount": item.amount}
            if "tags" in names:
                values["tags"] = ",".join(item.old_tags)
            if "slug" in names and model is SluggedItem:
                values["slug"] = slugify(item.old_name)
            instances.append(model(**values))
        created = model.objects.using(alias).bulk_create(  # type: ignore[attr-defined]
            instances, batch_size=_BATCH_SIZE
        )
        if m2m is not None:
            tag_pks = ensure_tags(alias)
            through = m2m.remote_field.through
            source, target = f"{m2m.m2m_field_name()}_id", f"{m2m.m2m_reverse_field_name()}_id"
            links = [
                through(**{source: instance.pk, target: tag_pks[name]})
                for instance, item in zip(created, starting, strict=True)
                for name in item.old_tags
            ]
            through.objects.using(alias).bulk_create(links, batch_size=_BATCH_SIZE)


def item_state(model: type[models.Model], alias: str) -> ItemState:
    """Fingerprint a shape's table: code, name, amount and tags, however tags are stored."""
    rows = model.objects.using(alias).values_list("pk", "code", "name", "amount")  # type: ignore[attr-defined]
    m2m = _m2m(model)
    if m2m is None:
        tags = dict(model.objects.using(alias).values_list("pk", "tags"))  # type: ignore[attr-defined]
    else:
        through = m2m.remote_field.through
        source, target = m2m.m2m_field_name(), m2m.m2m_reverse_field_name()
        linked: dict[Any, list[str]] = {}
        for pk, name in through.objects.using(alias).values_list(f"{source}_id", f"{target}__name"):
            linked.setdefault(pk, []).append(name)
        tags = {pk: ",".join(names) for pk, names in linked.items()}
    return _fingerprint((code, name, amount, tags.get(pk, "")) for pk, code, name, amount in rows)


def expected_items(count: int) -> ItemState:
    return _fingerprint((i.code, i.name, i.amount, ",".join(i.tags)) for i in sample_items(count))


def _fingerprint(rows: Iterable[tuple[str, str, Decimal, str]]) -> ItemState:
    lines = sorted(
        f"{code}\t{name}\t{amount:.2f}\t{','.join(sorted(filter(None, tags.split(','))))}"
        for code, name, amount, tags in rows
    )
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return ItemState(rows=len(lines), checksum=digest)
