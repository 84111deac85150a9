"""The command line's own error: a file that cannot be read or written as an array."""

from __future__ import annotations


class FileError(ValueError):
    """A file that cannot be read or written as an array."""
