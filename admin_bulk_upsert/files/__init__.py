"""Bytes in, rows out: format detection, encodings and spreadsheet reading."""
