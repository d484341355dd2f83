"""Which imports must call ``save()`` per row: an overridden ``save()``, save receivers."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models.signals import post_save, pre_save

from admin_bulk_upsert import BulkUpsertResource
from admin_bulk_upsert.engine.write_mode import save_per_row_reason, save_reasons
from tests.testapp.models import Account, Product, SavingProduct, SignalledProduct


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
    assert save_reasons(Product) == []
    assert save_per_row_reason(resource_for(Product), Product) is None


def test_a_save_overridden_in_an_abstract_parent_counts():
    assert save_reasons(SavingProduct) == ["tests.testapp.models.SavingBase overrides save()"]


@pytest.mark.parametrize("signal", [pre_save, post_save], ids=["pre_save", "post_save"])
def test_a_receiver_for_the_model_counts(connected, signal):
    connected(signal, sender=SignalledProduct)
    name = "pre_save" if signal is pre_save else "post_save"
    assert save_reasons(SignalledProduct) == [
        f"{name} receivers connected (tests.engine.test_write_mode.receiver)"
    ]
    assert save_reasons(Product) == []


def test_a_receiver_for_every_sender_counts_for_every_model(connected):
    connected(post_save)
    assert post_save.has_listeners(Product)  # Django's own answer, which the detection uses
    assert save_reasons(Product) == [
        "post_save receivers connected (tests.engine.test_write_mode.receiver)"
    ]


def test_the_reasons_are_read_when_asked_not_when_the_model_is_loaded(connected):
    resource = resource_for(SignalledProduct)
    assert save_per_row_reason(resource, SignalledProduct) is None
    connected(post_save, sender=SignalledProduct)
    assert save_per_row_reason(resource, SignalledProduct) is not None
    post_save.disconnect(receiver, sender=SignalledProduct)
    assert save_per_row_reason(resource, SignalledProduct) is None


def test_bulk_writes_always_and_never():
    always = resource_for(SavingProduct, bulk_writes="always")
    assert save_per_row_reason(always, SavingProduct) is None
    never = resource_for(Account, bulk_writes="never")
    assert save_per_row_reason(never, Account) == "Meta.bulk_writes is 'never'"
    auto = resource_for(SavingProduct, bulk_writes="auto")
    assert save_per_row_reason(auto, SavingProduct) == (
        "tests.testapp.models.SavingBase overrides save()"
    )


def test_an_unknown_bulk_writes_value_is_refused():
    with pytest.raises(ImproperlyConfigured, match="bulk_writes is 'sometimes'"):
        save_per_row_reason(resource_for(Product, bulk_writes="sometimes"), Product)
