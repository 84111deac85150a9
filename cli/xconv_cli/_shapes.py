"""Shapes written on the command line: `3x224x224`, `3,224,224`, `?` or `None` if varying."""

from __future__ import annotations

import re

_UNKNOWN = {"?", "none", "varying"}


def parse_shape(text: str) -> tuple[int | None, ...]:
    """`'3x224x?'` -> `(3, 224, None)`.

    >>> parse_shape("1,28,28")
    (1, 28, 28)
    """
    parts = [p.strip() for p in re.split(r"[x×,]", text.strip().strip("()[]{}"))]
    if not parts or any(p == "" for p in parts):
        raise ValueError(f"shape {text!r}: write sizes as 3x224x224 or 3,224,224")
    shape: list[int | None] = []
    for part in parts:
        if part.lower() in _UNKNOWN:
            shape.append(None)
        elif part.isdigit() and int(part) > 0:
            shape.append(int(part))
        else:
            raise ValueError(f"shape {text!r}: {part!r} is not a positive size, '?' or 'None'")
    return tuple(shape)


def format_shape(shape) -> str:
    return "x".join("?" if s is None else str(s) for s in shape)
