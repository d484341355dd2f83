"""Values as the database returns them: what a later row of a repeated key starts from.

Stock saves each row and the next row of the same key reads the record back
with ``get()``, so ``skip_unchanged`` and the diff compare against the values
the database returned, not the ones the earlier row wrote. The planning
builds that later row from the earlier row's instance in memory, converted
here the way the database would convert it.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connections
from django.db.models import DateTimeField, DecimalField, Model
from django.utils import timezone

#: Backends whose decimal columns round a value half way between two places away
#: from zero (``1.505`` is stored as ``1.51`` in two places).
_ROUND_HALF_UP_VENDORS = frozenset({"postgresql", "mysql"})


@dataclasses.dataclass(frozen=True, slots=True)
class ReadBack:
    """How one database returns what it stored.

    ``zone``: the zone aware datetimes come back in (``None`` without
    ``USE_TZ``). Django's converters (SQLite, MySQL/MariaDB) and its psycopg
    loader (PostgreSQL) give the connection's zone: UTC unless the database's
    ``TIME_ZONE`` setting says otherwise.

    ``rounding``: how a decimal with more places than its column is rounded
    (``None``: half to even, as Django's SQLite converter quantizes).
    """

    zone: tzinfo | None = None
    rounding: str | None = None

    @classmethod
    def of(cls, using: str | None) -> ReadBack:
        if using is None:
            return cls()
        connection = connections[using]
        return cls(
            zone=connection.timezone if settings.USE_TZ else None,
            rounding=ROUND_HALF_UP if connection.vendor in _ROUND_HALF_UP_VENDORS else None,
        )


def as_stored(instance: Model, read_back: ReadBack) -> Model:
    """The instance with its values as the database would return them.

    Decimals come back at the column's places (``12.5`` as ``12.500`` from a
    column with three places). Aware datetimes come back in the database's
    zone: the same instant, but not always equal to it for Python, as no time
    of a zone's repeated hour (the autumn DST change) equals a time of another
    zone (PEP 495), so stock sees a row giving ``02:30`` in Paris on
    2024-10-27 as a change even when it repeats the earlier row.
    """
    zone = read_back.zone
    for field in instance._meta.concrete_fields:
        if zone is not None and isinstance(field, DateTimeField):
            value = field.value_from_object(instance)
            if isinstance(value, datetime):
                if timezone.is_naive(value):
                    # As DateTimeField.get_prep_value saves it (with a warning).
                    value = timezone.make_aware(value, timezone.get_default_timezone())
                setattr(instance, field.attname, value.astimezone(zone))
        elif isinstance(field, DecimalField):
            value = field.value_from_object(instance)
            if isinstance(value, Decimal) and value.is_finite():
                # With the column's precision, as Django's converters read it
                # back: a value too large raises InvalidOperation, the error
                # stock gets when it reads that record.
                places = Decimal(1).scaleb(-field.decimal_places)
                stored = value.quantize(places, rounding=read_back.rounding, context=field.context)
                setattr(instance, field.attname, stored)
    return instance
