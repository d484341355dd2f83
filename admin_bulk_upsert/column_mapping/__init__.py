"""Column mapping: a file whose headers are not the resource's column names, imported anyway.

Real exports rarely match a resource's columns: the header is "SKU" for the
column ``sku``, the field's verbose name ("Unit price"), or the file carries
columns nobody imports. Here each file header is matched to a resource field
(:mod:`.matching`, by name, verbose name, declared alias and what the same user
chose before, :mod:`.remembered`), the user's choice is checked
(:mod:`.validation`: key columns mapped, no field mapped twice) and turned into
the header renames the readers apply (:func:`.validation.column_renames`,
applied by :mod:`..files.renaming`), so that the engine sees the column names
it always sees.

A mapping is a plain dict ``{file header: field name}``, ``""`` for an ignored
column: it is JSON, so it travels in a staging token, on an import job and in
``bulk_import --map-file``.
"""
