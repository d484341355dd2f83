"""Differential tests: every import runs once with stock DIE row by row and once with
``BulkUpsertResource``, from the same starting rows, and the outcomes must be equal.

Stock DIE's ``ModelResource`` is the oracle: whatever it does with a file, on the
database at hand, is by definition the right answer, including its error messages.
"""
