"""A small bounded store of recent values by key, shared by xconv's caches (the checked
calls of repeated operations, ONNX Runtime's sessions and kept weights)."""

from __future__ import annotations

import threading
from collections import OrderedDict


class Recent:
    """At most `size` values by key, the least recently used dropped; safe to share
    between threads (two threads missing one key both compute its value, and the later
    one is kept)."""

    def __init__(self, size: int) -> None:
        self._values: OrderedDict = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self):
        return iter(list(self._values))

    def values(self) -> list:
        return list(self._values.values())

    def get(self, key):
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self._size:
                self._values.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
