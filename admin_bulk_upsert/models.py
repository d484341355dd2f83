"""The app's models live with what uses them; Django looks for them here."""

from .jobs.models import ImportJob

__all__ = ["ImportJob"]
