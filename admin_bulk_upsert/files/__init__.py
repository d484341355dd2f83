"""Bytes in, rows out: reading uploaded files, whole or as a stream."""
