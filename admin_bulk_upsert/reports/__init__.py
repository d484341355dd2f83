"""What an import tells its user, built the same way for the admin, the jobs and the command line.

The preview's summary and shown rows (:mod:`.preview`), the admin's log entries
(:mod:`.log_entries`), the failed-rows report of ``bulk_import``
(:mod:`.failed_rows`), a row's errors as the preview words them
(:mod:`.row_errors`) and the file column an error belongs to
(:mod:`.error_columns`). These read the engine's row results; they import
nothing of the admin or the jobs.
"""
