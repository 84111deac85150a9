"""Shapes written on the command line: `3x224x224`, `3,224,224`, `?` or `None` if varying."""

from __future__ import annotations

import re

_UNKNOWN = {"?", "none", "varying"}
# sizes beyond this are no array anyone can make (an exabyte of float32)
LARGEST = 2**60


def parse_shape(text: str) -> tuple[int | None, ...]:
    """`'3x224x?'` -> `(3, 224, None)`; MATLAB's `[224 224 3]` too. Digits are ASCII.

    >>> parse_shape("1,28,28")
    (1, 28, 28)
    >>> parse_shape("[224 224 3]")
    (224, 224, 3)
    """
    body = text.strip().strip("()[]{}").strip()
    parts = [p.strip() for p in re.split(r"\s*[x×,]\s*|\s+", body)]
    if not parts or any(p == "" for p in parts):
        raise ValueError(f"shape {text!r}: write sizes as 3x224x224 or 3,224,224")
    shape: list[int | None] = []
    for part in parts:
        if part.lower() in _UNKNOWN:
            shape.append(None)
        elif re.fullmatch(r"[0-9]{1,19}", part) and 0 < int(part) <= LARGEST:
            shape.append(int(part))
        elif re.fullmatch(r"[0-9]+", part):
            raise ValueError(f"shape {text!r}: {part} is larger than any array ({LARGEST})")
        else:
            raise ValueError(f"shape {text!r}: {part!r} is not a positive size, '?' or 'None'")
    return tuple(shape)


def format_shape(shape) -> str:
    return "x".join("?" if s is None else str(s) for s in shape)
