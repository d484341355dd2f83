"""Bytes in, rows out: format detection, encodings, spreadsheets, and reading as a stream."""
