"""System checks: each message compared whole (level, text, hint, object, id)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from django.core import checks
from django.core.checks import Error, Warning
from django.db.models.signals import post_save
from django.test import override_settings
from import_export.fields import Field
from import_export.resources import ModelResource
from import_export.widgets import ForeignKeyWidget

from admin_bulk_upsert import BulkUpsertResource
from admin_bulk_upsert.checks import check_resource_class, check_settings
from admin_bulk_upsert.conf import Config
from tests.testapp.models import (
    Account,
    BulkSafeProduct,
    LooseTransaction,
    Product,
    SavingProduct,
    SignalledProduct,
    StampedProduct,
    Transaction,
)


class TransactionResource(BulkUpsertResource):
    account = Field(
        attribute="account", column_name="account", widget=ForeignKeyWidget(Account, "number")
    )

    class Meta:
        model = Transaction
        fields = ("account", "datetime", "amount", "description")
        import_id_fields = ("account", "datetime", "amount")


class LooseTransactionResource(BulkUpsertResource):
    account = Field(
        attribute="account", column_name="account", widget=ForeignKeyWidget(Account, "number")
    )

    class Meta:
        model = LooseTransaction
        fields = ("account", "datetime", "amount", "description")
        import_id_fields = ("account", "datetime", "amount")


class AccountResource(BulkUpsertResource):
    class Meta:
        model = Account
        fields = ("number", "name", "active")
        import_id_fields = ("number",)


class NoKeyResource(BulkUpsertResource):
    class Meta:
        model = Account
        fields = ("number", "name")
        import_id_fields = ()


class MisnamedKeyResource(BulkUpsertResource):
    class Meta:
        model = Account
        fields = ("number", "name")
        import_id_fields = ("acount_number",)


class MisnamedAllowedResource(BulkUpsertResource):
    class Meta:
        model = Account
        fields = ("number", "name")
        import_id_fields = ("number",)
        allowed_import_id_fields = ("number", "nmae")


class ComputedKeyResource(BulkUpsertResource):
    account_name = Field(attribute="account__name", column_name="account_name")
    label = Field(column_name="label")

    class Meta:
        model = Transaction
        fields = ("account_name", "label", "datetime", "amount")
        import_id_fields = ("account_name", "datetime", "amount")
        allowed_import_id_fields = ("account_name", "datetime", "amount", "label")


class SkuResource(BulkUpsertResource):
    class Meta:
        model = Product
        fields = ("code", "sku", "name")
        import_id_fields = ("sku", "code")


class PlainModelResource(ModelResource):
    class Meta:
        model = Account
        import_id_fields = ("number",)


def _batch_size_resource(batch_size):
    meta = type(
        "Meta",
        (),
        {
            "model": Account,
            "import_id_fields": ("number",),
            "fields": ("number",),
            "batch_size": batch_size,
        },
    )
    return type("BatchResource", (BulkUpsertResource,), {"Meta": meta, "__module__": __name__})


BATCH_HINT = (
    "Set Meta.batch_size to the number of rows per chunk (for example 1000), "
    "or remove it to use ADMIN_BULK_UPSERT['BATCH_SIZE']."
)


class TestCheckResourceClass:
    @pytest.mark.parametrize("resource_class", [TransactionResource, AccountResource, SkuResource])
    def test_valid_resource_passes(self, resource_class):
        assert check_resource_class(resource_class) == []

    def test_e001_not_a_bulk_upsert_resource(self):
        assert check_resource_class(PlainModelResource, obj="the admin") == [
            Error(
                "tests.test_checks.PlainModelResource is not a subclass of BulkUpsertResource, "
                "so imports through this admin would run row by row.",
                hint="Subclass admin_bulk_upsert.BulkUpsertResource instead of ModelResource, "
                "or build one with admin_bulk_upsert.bulk_resource_factory().",
                obj="the admin",
                id="admin_bulk_upsert.E001",
            )
        ]

    def test_e001_not_a_class(self):
        [message] = check_resource_class(AccountResource(), obj="the admin")
        assert message.id == "admin_bulk_upsert.E001"
        assert message.msg.startswith("<tests.test_checks.AccountResource object at ")

    def test_e002_no_key(self):
        assert check_resource_class(NoKeyResource) == [
            Error(
                "tests.test_checks.NoKeyResource has no import key: "
                "Meta.import_id_fields is empty.",
                hint="Set Meta.import_id_fields to the fields that identify a row, "
                "for example import_id_fields = ['number'].",
                obj=NoKeyResource,
                id="admin_bulk_upsert.E002",
            )
        ]

    def test_e003_key_field_not_on_resource(self):
        assert check_resource_class(MisnamedKeyResource) == [
            Error(
                "tests.test_checks.MisnamedKeyResource.Meta.import_id_fields names "
                "'acount_number', which is not a field of the resource.",
                hint="Use the resource's field names in Meta.import_id_fields; "
                "it has: name, number.",
                obj=MisnamedKeyResource,
                id="admin_bulk_upsert.E003",
            )
        ]

    def test_e004_allowed_field_not_on_resource(self):
        assert check_resource_class(MisnamedAllowedResource) == [
            Error(
                "tests.test_checks.MisnamedAllowedResource.Meta.allowed_import_id_fields names "
                "'nmae', which is not a field of the resource.",
                hint="Use the resource's field names in Meta.allowed_import_id_fields; "
                "it has: name, number.",
                obj=MisnamedAllowedResource,
                id="admin_bulk_upsert.E004",
            )
        ]

    @pytest.mark.parametrize("batch_size", [None, 0, -5, "1000", 2.5, True])
    def test_e005_bad_batch_size(self, batch_size):
        resource_class = _batch_size_resource(batch_size)
        assert check_resource_class(resource_class) == [
            Error(
                f"tests.test_checks.BatchResource.Meta.batch_size is {batch_size!r}; "
                "it must be a positive integer.",
                hint=BATCH_HINT,
                obj=resource_class,
                id="admin_bulk_upsert.E005",
            )
        ]

    @pytest.mark.parametrize("batch_size", [1, 5000])
    def test_good_batch_size(self, batch_size):
        resource_class = _batch_size_resource(batch_size)

        assert check_resource_class(resource_class) == []
        assert resource_class().get_batch_size() == batch_size

    def test_e005_batch_size_inherited_from_a_parent_meta(self):
        child = type("ChildResource", (_batch_size_resource(0),), {"__module__": __name__})

        [message] = check_resource_class(child)
        assert (message.id, message.msg) == (
            "admin_bulk_upsert.E005",
            "tests.test_checks.ChildResource.Meta.batch_size is 0; it must be a positive integer.",
        )

    def test_no_batch_size_uses_the_setting(self):
        # DIE's options hold batch_size = 1000 for every resource; only a
        # declared one is checked.
        assert AccountResource._meta.batch_size == 1000
        assert check_resource_class(AccountResource) == []

    def test_e006_key_field_without_a_column(self):
        hint = (
            "Key on fields saved in the model's own table: a ForeignKey imported with "
            "ForeignKeyWidget is fine; computed, many-to-many and related lookups "
            "('a__b') are not."
        )
        name = "tests.test_checks.ComputedKeyResource.Meta"
        assert check_resource_class(ComputedKeyResource) == [
            Error(
                f"{name}.import_id_fields names 'account_name', which is not stored in a column "
                "of the model's table, so rows cannot be matched on it.",
                hint=hint,
                obj=ComputedKeyResource,
                id="admin_bulk_upsert.E006",
            ),
            Error(
                f"{name}.allowed_import_id_fields names 'label', which is not stored in a column "
                "of the model's table, so rows cannot be matched on it.",
                hint=hint,
                obj=ComputedKeyResource,
                id="admin_bulk_upsert.E006",
            ),
        ]

    def test_e009_key_field_not_allowed(self):
        resource_class = type(
            "NarrowResource",
            (BulkUpsertResource,),
            {
                "Meta": type(
                    "Meta",
                    (),
                    {
                        "model": Account,
                        "fields": ("number", "name"),
                        "import_id_fields": ("number",),
                        "allowed_import_id_fields": ("name",),
                    },
                ),
                "__module__": __name__,
            },
        )

        assert check_resource_class(resource_class) == [
            Error(
                "tests.test_checks.NarrowResource.Meta.import_id_fields names 'number', which "
                "is not in Meta.allowed_import_id_fields, so the default key cannot be chosen "
                "in the import form.",
                hint="Add 'number' to Meta.allowed_import_id_fields, or remove "
                "allowed_import_id_fields to allow every field stored in a column.",
                obj=resource_class,
                id="admin_bulk_upsert.E009",
            )
        ]
        # What the admin form offers: the default key is not among the choices.
        assert resource_class().get_allowed_import_id_fields() == ["name"]

    def test_w001_key_without_unique_constraint(self):
        assert check_resource_class(LooseTransactionResource, obj="the admin") == [
            Warning(
                "The import key of tests.test_checks.LooseTransactionResource "
                "(account, datetime, amount) has no unique constraint in the database table "
                "of testapp.LooseTransaction.",
                hint="Add a UniqueConstraint on these fields (unique=True for a single field) "
                "and a migration. Until then only the importer's per-model lock prevents "
                "duplicate rows, and nothing stops duplicates written by other code.",
                obj="the admin",
                id="admin_bulk_upsert.W001",
            )
        ]

    def test_w001_not_for_a_constraint_on_part_of_the_key(self):
        # Product.sku is unique: rows equal on (sku, code) are equal on sku.
        assert check_resource_class(SkuResource) == []

    def test_w001_for_a_key_unique_only_together_with_another_field(self):
        resource_class = type(
            "CodeResource",
            (BulkUpsertResource,),
            {
                "Meta": type(
                    "Meta",
                    (),
                    {"model": Product, "fields": ("code", "name"), "import_id_fields": ("code",)},
                ),
                "__module__": __name__,
            },
        )
        [message] = check_resource_class(resource_class)
        assert message.id == "admin_bulk_upsert.W001"


def _saving_resource(model=SavingProduct, **meta):
    attrs = {"model": model, "fields": ("code", "name"), "import_id_fields": ("code",), **meta}
    return type(
        "SavingResource",
        (BulkUpsertResource,),
        {"Meta": type("Meta", (), attrs), "__module__": __name__},
    )


W003_HINT = (
    "Imports of this model call save() per row (slower); if that save() does nothing a bulk "
    "write misses, decorate it with admin_bulk_upsert.bulk_safe_save; set "
    "Meta.bulk_writes = 'always' on the resource if its save() and signal receivers need not "
    "run for imported rows, or 'never' to keep save() per row and silence this warning."
)


def _on_signalled_product(sender, **kwargs):
    pass


class TestBulkWritesChecks:
    def test_w003_for_a_model_that_overrides_save(self):
        resource_class = _saving_resource()
        assert check_resource_class(resource_class, obj="the admin") == [
            Warning(
                "Imports with tests.test_checks.SavingResource write testapp.SavingProduct rows "
                "with save() per row: tests.testapp.models.SavingBase overrides save().",
                hint=W003_HINT,
                obj="the admin",
                id="admin_bulk_upsert.W003",
            )
        ]

    def test_i001_names_the_receivers(self):
        """Bulk writes with the signals sent per row stay fast: an information, not a warning."""
        resource_class = _saving_resource(SignalledProduct)
        assert check_resource_class(resource_class) == []
        post_save.connect(_on_signalled_product, sender=SignalledProduct)
        try:
            [message] = check_resource_class(resource_class)
        finally:
            post_save.disconnect(_on_signalled_product, sender=SignalledProduct)
        assert message.id == "admin_bulk_upsert.I001"
        assert message.level == checks.INFO
        assert message.msg == (
            "Imports with tests.test_checks.SavingResource write testapp.SignalledProduct rows "
            "with bulk writes, pre_save/post_save sent per row around them "
            "(receivers: tests.test_checks._on_signalled_product)."
        )
        assert "sees them a chunk at a time" in message.hint

    def test_w003_silent_for_a_pass_through_save(self):
        assert check_resource_class(_saving_resource(StampedProduct)) == []
        assert check_resource_class(_saving_resource(BulkSafeProduct)) == []

    @pytest.mark.parametrize("bulk_writes", ["always", "never"])
    def test_w003_silent_once_the_resource_chooses(self, bulk_writes):
        assert check_resource_class(_saving_resource(bulk_writes=bulk_writes)) == []

    def test_w003_silent_when_stock_imports_the_resource_anyway(self):
        assert check_resource_class(_saving_resource(use_bulk=True)) == []

    @pytest.mark.parametrize("bulk_writes", ["sometimes", None, True, "Always"])
    def test_e010_bad_bulk_writes(self, bulk_writes):
        resource_class = _saving_resource(SignalledProduct, bulk_writes=bulk_writes)
        assert check_resource_class(resource_class) == [
            Error(
                f"tests.test_checks.SavingResource.Meta.bulk_writes is {bulk_writes!r}; "
                "it must be one of 'auto', 'always', 'never'.",
                hint="Use 'auto' (the default: save() per row when the model's save() does "
                "real work, bulk writes with pre_save/post_save sent per row when it has "
                "receivers), 'always' (bulk writes, no signals) or 'never' (save() per row).",
                obj=resource_class,
                id="admin_bulk_upsert.E010",
            )
        ]


SETTINGS_HINT = "Fix the value, or remove the key to use the default"


class TestCheckSettings:
    def test_no_setting(self):
        assert check_settings() == []

    @override_settings(
        ADMIN_BULK_UPSERT={
            "BATCH_SIZE": 500,
            "MAX_UPLOAD_SIZE": 1024,
            "PREVIEW_ROWS": 0,
            "PREVIEW_ERRORS": 10,
            "STAGING_MAX_AGE": 60,
            "STAGING_DIR": Path("/tmp/staging"),
            "LOCK_TIMEOUT": 0,
        }
    )
    def test_valid_setting(self):
        assert check_settings() == []

    @override_settings(ADMIN_BULK_UPSERT={"STAGING_DIR": "/tmp/staging"})
    def test_staging_dir_as_str(self):
        assert check_settings() == []

    @override_settings(ADMIN_BULK_UPSERT=[("BATCH_SIZE", 500)])
    def test_e007_not_a_dict(self):
        assert check_settings() == [
            Error(
                "settings.ADMIN_BULK_UPSERT is a list; it must be a dict.",
                hint="Set ADMIN_BULK_UPSERT = {'BATCH_SIZE': 1000, ...} or remove it to use "
                "the defaults.",
                id="admin_bulk_upsert.E007",
            )
        ]

    @pytest.mark.parametrize(
        ("key", "value", "expected", "default"),
        [
            ("BATCH_SIZE", 0, "a positive integer", 1000),
            ("BATCH_SIZE", "1000", "a positive integer", 1000),
            ("BATCH_SIZE", True, "a positive integer", 1000),
            ("MAX_UPLOAD_SIZE", 10.5, "a positive integer", 50 * 1024 * 1024),
            ("STAGING_MAX_AGE", 0, "a positive integer", 3600),
            ("PREVIEW_ROWS", -1, "an integer, 0 or more", 100),
            ("PREVIEW_ERRORS", None, "an integer, 0 or more", 200),
            ("LOCK_TIMEOUT", "5", "an integer, 0 or more", 300),
            ("REQUEST_LOCK_TIMEOUT", -1, "an integer, 0 or more", 5),
            ("STAGING_DIR", 42, "a path (str or pathlib.Path) or None", None),
            ("BACKGROUND_IMPORTS", "yes", 'True, False or "auto"', "auto"),
            ("BACKGROUND_IMPORTS", None, 'True, False or "auto"', "auto"),
            ("HEARTBEAT_TIMEOUT", 0, "a positive integer", 60),
            ("JOB_MAX_AGE_DAYS", 0, "a positive integer", 30),
            ("UNDO_MAX_AGE_DAYS", 0, "a positive integer", 30),
            ("TASK_BACKEND", 3, "a string", "default"),
            ("RECORD_UNDO", "no", "True or False", True),
        ],
    )
    def test_e008_wrong_value(self, key, value, expected, default):
        with override_settings(ADMIN_BULK_UPSERT={key: value}):
            assert check_settings() == [
                Error(
                    f"settings.ADMIN_BULK_UPSERT[{key!r}] is {value!r}; it must be {expected}.",
                    hint=f"{SETTINGS_HINT} ({default!r}).",
                    id="admin_bulk_upsert.E008",
                )
            ]

    @override_settings(ADMIN_BULK_UPSERT={"BATCHSIZE": 500, "COLOUR": "blue"})
    def test_w002_unknown_keys(self):
        known = ", ".join(field.name for field in dataclasses.fields(Config))
        assert check_settings() == [
            Warning(
                "settings.ADMIN_BULK_UPSERT has the key 'BATCHSIZE', which admin_bulk_upsert "
                "ignores.",
                hint=f"Did you mean 'BATCH_SIZE'? Known keys: {known}.",
                id="admin_bulk_upsert.W002",
            ),
            Warning(
                "settings.ADMIN_BULK_UPSERT has the key 'COLOUR', which admin_bulk_upsert ignores.",
                hint=f"Known keys: {known}.",
                id="admin_bulk_upsert.W002",
            ),
        ]

    @override_settings(ADMIN_BULK_UPSERT={"BATCH_SIZE": -1})
    def test_registered_with_the_check_framework(self):
        # Only the project-wide messages (no obj): admin sites other tests left
        # alive may add per-admin ones.
        ids = [
            message.id
            for message in checks.run_checks()
            if message.id.startswith("admin_bulk_upsert.") and message.obj is None
        ]
        assert ids == ["admin_bulk_upsert.E008"]
