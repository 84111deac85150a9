"""Dialect cases: layer text through `xconv.compat.parse`, run as that dialect's layer."""

from __future__ import annotations

import numpy as np

from .cases import Arrays, Case
from .subject import NotAvailable


def parser():
    """`xconv.compat.parse`, or NotAvailable while the adapters are not in this checkout."""
    try:
        from xconv.compat import parse
    except ImportError as error:
        raise NotAvailable(f"xconv.compat.parse is not available ({error})") from None
    return parse


def run(case: Case, arrays: Arrays) -> dict[str, np.ndarray]:
    raise NotAvailable("dialect layers are not wired in yet")
