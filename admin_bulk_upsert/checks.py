"""System checks for misconfiguration (ids ``admin_bulk_upsert.E00x``)."""

from __future__ import annotations
