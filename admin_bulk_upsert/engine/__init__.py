"""The stages of one import, chunk by chunk: no files, no jobs, no admin.

:class:`~admin_bulk_upsert.resources.BulkUpsertResource` is the engine's public
face; the modules here are the package's own and may change between releases.
"""
