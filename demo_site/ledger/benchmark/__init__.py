"""The ``benchmark`` command's parts: contenders, measuring, reporting.

Kept apart from the command so that the command only parses arguments and
prints progress, and so that each part can be read on its own.
"""
