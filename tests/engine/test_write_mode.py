"""Which way imports write: ``save()`` per row for a ``save()`` doing real work, bulk writes
with the save signals for receivers, plain bulk writes otherwise."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_save, pre_save
from model_utils.models import TimeStampedModel

import admin_bulk_upsert
from admin_bulk_upsert import BulkUpsertResource
from admin_bulk_upsert.engine.write_mode import (
    BULK,
    BULK_WITH_SIGNALS,
    SAVE_PER_ROW,
    WritePath,
    bulk_safe_save,
    model_write_path,
    save_per_row_reason,
    write_path,
)
from tests.testapp.models import (
    Account,
    BulkSafeProduct,
    Product,
    SavingProduct,
    SignalledProduct,
    StampedProduct,
    TrackedProduct,
)


def receiver(sender, **kwargs):
    pass


@pytest.fixture
def connected():
    """Connect ``receiver`` to a signal for a sender; disconnected after the test."""
    made = []

    def connect(signal, sender=None):
        signal.connect(receiver, sender=sender, weak=False)
        made.append((signal, sender))

    yield connect
    for signal, sender in made:
        signal.disconnect(receiver, sender=sender)


def resource_for(model, **meta):
    attrs = {"model": model, "fields": ("code", "name"), "import_id_fields": ("code",), **meta}
    return type("R", (BulkUpsertResource,), {"Meta": type("Meta", (), attrs)})


def test_a_model_without_save_or_receivers_is_written_in_bulk():
    assert model_write_path(Product) == WritePath(BULK)
    assert save_per_row_reason(resource_for(Product), Product) is None


def test_a_save_overridden_in_an_abstract_parent_counts():
    assert model_write_path(SavingProduct) == WritePath(
        SAVE_PER_ROW, "tests.testapp.models.SavingBase overrides save()"
    )
    assert model_write_path(SavingProduct).describe() == (
        "save() per row: tests.testapp.models.SavingBase overrides save()"
    )


@pytest.mark.parametrize("signal", [pre_save, post_save], ids=["pre_save", "post_save"])
def test_a_receiver_for_the_model_means_bulk_writes_with_signals(connected, signal):
    connected(signal, sender=SignalledProduct)
    path = model_write_path(SignalledProduct)
    assert path == WritePath(BULK_WITH_SIGNALS, "receivers: tests.engine.test_write_mode.receiver")
    assert path.describe() == (
        "bulk writes, pre_save/post_save sent per row around them "
        "(receivers: tests.engine.test_write_mode.receiver)"
    )
    assert model_write_path(Product) == WritePath(BULK)
    assert save_per_row_reason(resource_for(SignalledProduct), SignalledProduct) is None


def test_a_receiver_for_every_sender_counts_for_every_model(connected):
    connected(post_save)
    assert post_save.has_listeners(Product)  # Django's own answer, which the detection uses
    assert model_write_path(Product).how == BULK_WITH_SIGNALS
    # A save() doing real work still decides.
    assert model_write_path(SavingProduct).how == SAVE_PER_ROW


def test_time_stamped_model_save_passes_through():
    """django-model-utils' TimeStampedModel.save only adds "modified" to given update_fields."""
    assert "save" in vars(TimeStampedModel)
    assert model_write_path(StampedProduct) == WritePath(BULK)


def test_a_save_declared_bulk_safe(connected):
    assert model_write_path(BulkSafeProduct) == WritePath(BULK)
    connected(pre_save, sender=BulkSafeProduct)
    assert model_write_path(BulkSafeProduct).how == BULK_WITH_SIGNALS


def test_bulk_safe_save_on_a_third_party_function():
    class Base:
        def save(self):
            pass

    assert bulk_safe_save(Base.save) is Base.save
    assert Base.save._admin_bulk_upsert_bulk_safe is True
    assert admin_bulk_upsert.bulk_safe_save is bulk_safe_save


def test_a_field_tracker_patches_save_base():
    assert "save_base" in vars(TrackedProduct)
    assert model_write_path(TrackedProduct) == WritePath(
        SAVE_PER_ROW, "tests.testapp.models.TrackedProduct overrides save_base()"
    )


def test_the_path_is_read_when_asked_not_when_the_model_is_loaded(connected):
    resource = resource_for(SignalledProduct)
    assert write_path(resource, SignalledProduct).how == BULK
    connected(post_save, sender=SignalledProduct)
    assert write_path(resource, SignalledProduct).how == BULK_WITH_SIGNALS
    post_save.disconnect(receiver, sender=SignalledProduct)
    assert write_path(resource, SignalledProduct).how == BULK


def test_bulk_writes_always_and_never(connected):
    connected(post_save)
    always = resource_for(SavingProduct, bulk_writes="always")
    assert write_path(always, SavingProduct).how == BULK
    assert write_path(always, SignalledProduct).how == BULK
    never = resource_for(Account, bulk_writes="never")
    assert save_per_row_reason(never, Account) == "Meta.bulk_writes is 'never'"
    auto = resource_for(SavingProduct, bulk_writes="auto")
    assert save_per_row_reason(auto, SavingProduct) == (
        "tests.testapp.models.SavingBase overrides save()"
    )


def test_an_unknown_bulk_writes_value_is_refused():
    with pytest.raises(ImproperlyConfigured, match="bulk_writes is 'sometimes'"):
        save_per_row_reason(resource_for(Product, bulk_writes="sometimes"), Product)
