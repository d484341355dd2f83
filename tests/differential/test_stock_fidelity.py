"""Cases where the engine once parted from stock DIE (issue 14): each compared with stock.

Old-signature ``full_clean`` overrides, resources whose ``__init__`` skips
``super().__init__()``, many-to-many columns (their diff, a failing
``save_m2m``) and the DEBUG line for a column missing from the file.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.differential.datasets import ResourceSpec, Scenario, product_spec
from tests.differential.harness import assert_equivalent
from tests.testapp.models import FidelityOldCleanNote

# --- a full_clean() with the signature of older Django versions ---------------------------


def old_clean_notes(*rows: tuple[str, str], stored: tuple[dict[str, str], ...] = ()) -> Scenario:
    spec = ResourceSpec(
        FidelityOldCleanNote,
        ("code", "text"),
        ("code",),
        meta={"clean_model_instances": True},
    )
    return Scenario("OldCleanNote", spec, stored, ("code", "text"), rows)


@pytest.mark.django_db
def test_old_signature_full_clean_reports_its_errors():
    """``full_clean(exclude, validate_unique)`` without ``validate_constraints``: stock
    calls it with those two arguments, and its errors make invalid rows."""
    scenario = old_clean_notes(
        ("a", "fine"),
        ("b", "bad"),
        ("c", "fine too"),
        ("d", "bad"),
        stored=({"code": "c", "text": "old"},),
    )
    assert_equivalent(scenario, use_transactions=True)


# --- a resource whose __init__ does not call super().__init__() ----------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("batch_size", [1, 1000])
def test_init_without_super_init(batch_size):
    """DIE's docs set a value in ``__init__`` and read it in a hook, without calling
    ``super().__init__()``: the resource then uses its class's fields, and imports."""

    def __init__(self: Any, **kwargs: Any) -> None:
        self.stock_level = 7

    def before_save_instance(self: Any, instance: Any, row: Any, **kwargs: Any) -> None:
        instance.stock = self.stock_level

    spec = product_spec("code").with_meta(batch_size=batch_size)
    spec = replace(
        spec,
        declare=lambda: {"__init__": __init__, "before_save_instance": before_save_instance},
    )
    scenario = Scenario(
        "Product-no-super-init",
        spec,
        ({"code": "ABC", "name": "stored"},),
        ("code", "name", "price", "stock"),
        (
            ("ABC", "updated", "9.99", "1"),
            ("XYZ", "new", "", "2"),
        ),
    )
    assert_equivalent(scenario, use_transactions=True)
