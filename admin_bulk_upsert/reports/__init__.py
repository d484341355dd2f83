"""What an import tells its user, built the same way for the admin, the jobs and the command line.

The preview's summary and shown rows (:mod:`.preview`), the admin's log entries
(:mod:`.log_entries`), the failed-rows report of ``bulk_import``
(:mod:`.failed_rows`), a row's errors as every page and report words them
(:mod:`.row_errors`: a widget's failure in :mod:`.cell_messages`, a database's
refusal in :mod:`.db_refusals`, the file column an error belongs to in
:mod:`.error_columns`), and the CSV writer every report goes through, which
keeps a spreadsheet from running a cell as a formula (:mod:`.spreadsheet_safe`).
These read the engine's row results; they import nothing of the admin or the
jobs.
"""
