"""Models the tests import into.

``Transaction`` is the case the project was born from: a natural key of a
foreign key (given by account number), a datetime and a decimal, backed by a
unique constraint. ``LooseTransaction`` has the same key without any database
constraint, so nothing but the importer stops duplicates. ``Product`` has a
string key, for the collation cases (MariaDB treats "ABC", "abc" and "ABC "
as equal) and a second unique field that is not the key. The ``Fidelity...``
models hold cases where stock DIE's behaviour must be matched: a many-to-many
column, a ``full_clean`` with the signature of older Django versions.
``SavingProduct`` overrides ``save()`` (through an abstract parent) and
``SignalledProduct`` is the model the tests connect ``pre_save``/``post_save``
receivers to: imports of both must call ``save()``.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.text import slugify
from model_utils import FieldTracker
from model_utils.models import TimeStampedModel
from simple_history.models import HistoricalRecords

from admin_bulk_upsert import bulk_safe_save


class Account(models.Model):
    number = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=True)

    def __str__(self):
        return self.number


class Transaction(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    datetime = models.DateTimeField()
    amount = models.DecimalField(max_digits=12, decimal_places=3)
    description = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "datetime", "amount"], name="testapp_transaction_key"
            )
        ]

    def __str__(self):
        return f"{self.account_id} {self.datetime} {self.amount}"


class LooseTransaction(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE)
    datetime = models.DateTimeField()
    amount = models.DecimalField(max_digits=12, decimal_places=3)
    description = models.CharField(max_length=40, blank=True)

    def __str__(self):
        return f"{self.account_id} {self.datetime} {self.amount}"


class Product(models.Model):
    code = models.CharField(max_length=20)
    sku = models.CharField(max_length=20, unique=True, null=True, blank=True)
    name = models.CharField(max_length=40, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    released = models.DateField(null=True, blank=True)
    stock = models.IntegerField(default=0)

    def __str__(self):
        return self.code


class ProductNote(models.Model):
    """A row that keeps its product from being deleted (a revert must not delete it)."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT)
    text = models.CharField(max_length=40, blank=True)

    def __str__(self):
        return self.text


class FidelityTag(models.Model):
    name = models.CharField(max_length=20, unique=True)

    def __str__(self):
        return self.name


class FidelityArticle(models.Model):
    """A many-to-many column (``tags``), given by tag ids or by name."""

    code = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=40, blank=True)
    tags = models.ManyToManyField(FidelityTag, blank=True)

    def __str__(self):
        return self.code


class FidelityOldCleanNote(models.Model):
    """A model whose ``full_clean`` keeps the signature older Django versions had."""

    code = models.CharField(max_length=20)
    text = models.CharField(max_length=40, blank=True)

    def __str__(self):
        return self.code

    def full_clean(self, exclude=None, validate_unique=True):
        super().full_clean(exclude=exclude, validate_unique=validate_unique)
        if self.text == "bad":
            raise ValidationError({"text": "This text is not allowed."})


class SavingBase(models.Model):
    """A ``save()`` like many apps have, on an abstract parent: it fills the slug once (on
    the first save) and the total on every save, and refuses a product named "explode"."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.name == "explode":
            raise ValueError(f"{self.code} cannot be saved: it would explode")
        if not self.slug:
            self.slug = slugify(self.name)
        self.total = self.quantity * self.unit_price
        super().save(*args, **kwargs)


class SavingProduct(SavingBase):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=40, blank=True)
    quantity = models.IntegerField(default=0)
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    slug = models.SlugField(max_length=40, blank=True)

    def __str__(self):
        return self.code


class SignalledProduct(models.Model):
    """No ``save()`` of its own: the tests connect ``pre_save``/``post_save`` receivers."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=40, blank=True)

    def __str__(self):
        return self.code


class StampedProduct(TimeStampedModel):
    """django-model-utils' ``created``/``modified`` and its pass-through ``save()``: bulk."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=40, blank=True)

    def __str__(self):
        return self.code


class StampedTwin(models.Model):
    """``StampedProduct``'s columns without django-model-utils: the benchmark's plain twin."""

    created = models.DateTimeField(null=True)
    modified = models.DateTimeField(null=True)
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=40, blank=True)

    def __str__(self):
        return self.code


class BulkSafeProduct(models.Model):
    """A ``save()`` its project declares bulk-safe: it only passes ``update_fields`` on."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=40, blank=True)

    def __str__(self):
        return self.code

    @bulk_safe_save
    def save(self, *args, **kwargs):
        if kwargs.get("update_fields"):
            kwargs["update_fields"] = {*kwargs["update_fields"], "name"}
        super().save(*args, **kwargs)


class HistoryProduct(models.Model):
    """django-simple-history's ``HistoricalRecords``: its ``post_save`` receiver is written
    a chunk at a time (``admin_bulk_upsert.integrations.simple_history``)."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=40, blank=True)
    history = HistoricalRecords()

    def __str__(self):
        return self.code


class StampedHistoryProduct(TimeStampedModel):
    """``TimeStampedModel`` and ``HistoricalRecords`` together; ``StampedTwin`` is its plain
    twin in the benchmark."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=40, blank=True)
    history = HistoricalRecords()

    def __str__(self):
        return self.code


class TrackedProduct(models.Model):
    """django-model-utils' ``FieldTracker`` patches ``save_base``: ``save()`` per row."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=40, blank=True)
    tracker = FieldTracker()

    def __str__(self):
        return self.code


# --- the differential suite's wide models ----------------------------------------------
#
# One nullable column of each type DIE has a widget for, an optional foreign key given
# by natural key and a many-to-many column, so that any column (or several) can be the
# key and blank keys can be stored and looked up. ``WideSavedRecord`` and
# ``WideSignalledRecord`` leave a trace of every ``save()``/signal in their own row, so
# that the table shows whether the import went through them.


class Tag(models.Model):
    name = models.CharField(max_length=20, unique=True)

    class Meta:
        # The diff lists a record's tags as the database returns them: without an order,
        # SQL gives none, and MariaDB returned the same links in another order after
        # stock's run than after ours (red,green / green,red).
        ordering = ["name"]

    def __str__(self):
        return self.name


class WideBase(models.Model):
    # Nullable text on purpose: NULL and "" are different keys, as stock looks them up.
    label = models.CharField(max_length=20, null=True, blank=True)  # noqa: DJ001
    #: Not ``blank``: DIE's widget then keeps a blank cell as None instead of "".
    code = models.CharField(max_length=20, null=True)  # noqa: DJ001
    ratio = models.FloatField(null=True, blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    flag = models.BooleanField(null=True, blank=True)
    stamp = models.DateTimeField(null=True, blank=True)
    rank = models.SmallIntegerField(null=True, blank=True)
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL)
    tags = models.ManyToManyField(Tag, blank=True)
    #: Written by ``save()`` or the signal receivers only, never by the file.
    trace = models.CharField(max_length=200, blank=True, default="")

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.label} {self.ratio} {self.price}"


class WideRecord(WideBase):
    pass


class WideSavedRecord(WideBase):
    """A ``save()`` that changes a column and counts itself in ``trace``."""

    def save(self, *args, **kwargs):
        if self.label is not None:
            self.label = self.label.strip()
        self.trace = f"{self.trace}s" if self.pk else "S"
        super().save(*args, **kwargs)


class WideSignalledRecord(WideBase):
    """Receivers of ``pre_save`` (changes a column) and ``post_save`` (writes the row
    again with ``created``), connected below."""


def _wide_pre_save(sender, instance, **kwargs):
    if instance.label is not None:
        instance.label = instance.label.upper()


def _wide_post_save(sender, instance, created, **kwargs):
    mark = "C" if created else "u"
    sender._base_manager.filter(pk=instance.pk).update(trace=f"{instance.trace}{mark}")


models.signals.pre_save.connect(_wide_pre_save, sender=WideSignalledRecord)
models.signals.post_save.connect(_wide_post_save, sender=WideSignalledRecord)


# --- many-to-many columns written per chunk (issue 22) ----------------------------------


class M2MLabel(models.Model):
    """A label whose name need not be unique: a cell naming two labels links both."""

    name = models.CharField(max_length=20)

    class Meta:
        # The diff lists a record's labels in this order (SQL gives none without one).
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class M2MPost(models.Model):
    """A ``labels`` column given by label pk or by name."""

    code = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=40, blank=True)
    labels = models.ManyToManyField(M2MLabel, blank=True)

    def __str__(self):
        return self.code


class M2MPlainPost(models.Model):
    """``M2MPost`` without its many-to-many field: the benchmark's plain twin."""

    code = models.CharField(max_length=20, unique=True)
    title = models.CharField(max_length=40, blank=True)

    def __str__(self):
        return self.code
