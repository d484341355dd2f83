"""DIE's hooks still run, once per row, with their usual arguments."""

import pytest
from django.db import connection
from django.db.models import signals
from import_export import fields

from tests.engine.builders import stored, transactions_file
from tests.engine.resources import TransactionResource
from tests.testapp.models import Account, Transaction

pytestmark = pytest.mark.django_db


class RecordingResource(TransactionResource):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = []

    def before_import(self, dataset, **kwargs):
        self.calls.append(("before_import", len(dataset), kwargs.get("user")))

    def before_import_row(self, row, **kwargs):
        self.calls.append(("before_import_row", kwargs["row_number"], row["description"]))

    def after_init_instance(self, instance, new, row, **kwargs):
        self.calls.append(("after_init_instance", kwargs["row_number"], new))

    def before_save_instance(self, instance, row, **kwargs):
        self.calls.append(("before_save_instance", kwargs["row_number"], instance.pk is None))

    def after_save_instance(self, instance, row, **kwargs):
        stored = Transaction.objects.get(pk=instance.pk).description
        self.calls.append(("after_save_instance", kwargs["row_number"], stored))

    def after_import_row(self, row, row_result, **kwargs):
        self.calls.append(("after_import_row", kwargs["row_number"], row_result.import_type))

    def after_import(self, dataset, result, **kwargs):
        self.calls.append(("after_import", result.totals["new"], result.totals["update"]))


def test_hooks_run_per_row_with_stock_arguments():
    Account.objects.create(number="A1")
    resource = RecordingResource()
    resource.import_data(
        transactions_file(
            ["A1", "2024-01-05 10:00:00", "1", "first"],
            ["A1", "2024-01-05 10:00:00", "1", "second"],
        ),
        user="alice",
    )
    calls = resource.calls
    assert calls[0] == ("before_import", 2, "alice")
    assert calls[-1] == ("after_import", 1, 1)
    per_row = calls[1:-1]
    # Planned in stock order per row, then the chunk is written, then the
    # post-save hooks see each row's saved record.
    assert per_row == [
        ("before_import_row", 1, "first"),
        ("before_import_row", 2, "second"),
        ("after_init_instance", 1, True),
        ("before_save_instance", 1, True),
        ("after_init_instance", 2, False),
        ("before_save_instance", 2, True),
        ("after_save_instance", 1, "second"),
        ("after_import_row", 1, "new"),
        ("after_save_instance", 2, "second"),
        ("after_import_row", 2, "update"),
    ]


def test_primary_keys_are_read_back_where_a_backend_does_not_return_them(monkeypatch):
    Account.objects.create(number="A1")
    features = type(connection.features)
    monkeypatch.setattr(features, "can_return_rows_from_bulk_insert", False, raising=False)
    result = TransactionResource().import_data(
        transactions_file(
            ["A1", "2024-01-05 10:00:00", "1", "x"], ["A1", "2024-01-05 11:00:00", "2", "y"]
        )
    )
    assert sorted(int(row.object_id) for row in result.rows) == sorted(
        Transaction.objects.values_list("pk", flat=True)
    )


class FieldRecordingResource(TransactionResource):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.fields_seen = []

    def import_field(self, field, instance, row, is_m2m=False, **kwargs):
        self.fields_seen.append((kwargs["row_number"], field.attribute))
        super().import_field(field, instance, row, is_m2m, **kwargs)


def test_an_overridden_import_field_runs_for_every_field_of_every_row():
    Account.objects.create(number="A1")
    resource = FieldRecordingResource()
    resource.import_data(transactions_file(["A1", "2024-01-05 10:00:00", "1", "x"]))
    assert resource.fields_seen == [
        (1, "account"),
        (1, "datetime"),
        (1, "amount"),
        (1, "description"),
    ]


class ShoutingField(fields.Field):
    def save(self, instance, row, is_m2m=False, **kwargs):
        super().save(instance, row, is_m2m, **kwargs)
        instance.description = instance.description.upper()


class ShoutingResource(TransactionResource):
    description = ShoutingField(attribute="description", column_name="description")


def test_a_field_with_its_own_save_is_saved_by_it():
    Account.objects.create(number="A1")
    ShoutingResource().import_data(transactions_file(["A1", "2024-01-05 10:00:00", "1", "x"]))
    assert Transaction.objects.get().description == "X"


def test_post_init_receivers_see_every_new_record():
    Account.objects.create(number="A1")
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    signals.post_init.connect(receiver, sender=Transaction)
    try:
        TransactionResource().import_data(
            transactions_file(
                ["A1", "2024-01-05 10:00:00", "1", "x"], ["A1", "2024-01-05 11:00:00", "1", "y"]
            )
        )
    finally:
        signals.post_init.disconnect(receiver, sender=Transaction)
    created = {id(obj) for obj in seen if obj.pk is not None}
    assert len(created) == 2


def test_new_records_do_not_share_mutable_state():
    Account.objects.create(number="A1")
    result = TransactionResource().import_data(
        transactions_file(
            ["A1", "2024-01-05 10:00:00", "1", "x"], ["A1", "2024-01-05 11:00:00", "2", "y"]
        ),
        retain_instance_in_row_result=True,
    )
    first, second = (row.instance for row in result.rows)
    assert first is not second and first._state is not second._state
    assert (first.description, second.description) == ("x", "y")
    assert first.pk != second.pk


class SkipsOddAmounts(TransactionResource):
    def skip_row(self, instance, original, row, import_validation_errors=None):
        return instance.amount % 2 == 1


def test_an_overridden_skip_row_runs_without_skip_unchanged():
    Account.objects.create(number="A1")
    result = SkipsOddAmounts().import_data(
        transactions_file(
            ["A1", "2024-01-05 10:00:00", "1", "odd"], ["A1", "2024-01-05 11:00:00", "2", "even"]
        )
    )
    assert [row.import_type for row in result.rows] == ["skip", "new"]
    assert stored(Transaction, "description") == [("even",)]


def test_hooks_set_on_the_resource_instance_run_too():
    Account.objects.create(number="A1")
    resource = TransactionResource()
    seen = []
    resource.before_save_instance = lambda instance, row, **kwargs: seen.append(row["description"])
    resource.after_import_row = lambda row, result, **kwargs: seen.append(result.import_type)
    resource.import_data(transactions_file(["A1", "2024-01-05 10:00:00", "1", "x"]))
    assert seen == ["x", "new"]
