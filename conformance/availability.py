"""`NotAvailable`: the part of xconv a case needs is not in this checkout (yet)."""

from __future__ import annotations


class NotAvailable(Exception):
    """The part of xconv this case needs is not in this checkout (yet)."""
