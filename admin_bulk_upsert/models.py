"""The app's models live with what uses them; Django looks for them here."""

from .jobs.models import ImportJob
from .jobs.undo import UndoChunk

__all__ = ["ImportJob", "UndoChunk"]
