"""The app's models live with what uses them; Django looks for them here."""

from .column_mapping.models import RememberedMapping
from .jobs.models import ImportJob
from .jobs.undo import UndoChunk

__all__ = ["ImportJob", "RememberedMapping", "UndoChunk"]
