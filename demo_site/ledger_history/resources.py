"""The plugin's and stock DIE's resources of the history shape and its twin."""

from __future__ import annotations

from ledger.resources import item_resources

from ledger_history.models import HistoryItem, PlainHistoryItem

HistoryItemResource, StockHistoryItemResource = item_resources(HistoryItem)
PlainHistoryItemResource, _ = item_resources(PlainHistoryItem)
