"""Prepared weights: a weight in the form an algorithm computes with, kept between calls.

The FFT path multiplies by the weight's spectrum, whose transforms can cost as much as
the input's (a multi-channel kernel: one transform per input and output channel pair).
A plan (`xconv.plan`) or a dialect layer calls the same weight again and again, so it
keeps a `PreparedWeights`: each form is remembered with a copy of the weight it was made
from, and reused only while the weight passed in is equal to that copy (same shape,
dtype and values). One comparison costs far less than one transform, and it sees every
change, including one made in place, so nothing has to be invalidated by hand.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

# forms kept per holder: a layer called on a few input shapes keeps each one's form
MAX_FORMS = 4


class PreparedWeights:
    """The forms algorithms made of one holder's weights, most recent last. Safe to share
    between threads (a layer called from several): the worst case makes a form twice."""

    def __init__(self) -> None:
        self._forms: OrderedDict[Hashable, tuple[object, object]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._forms)

    def form(self, xp, key: Hashable, weight, make: Callable[[object], object]):
        """`make(weight)`, or the form made for `key` from an equal weight before."""
        kept = self._forms.get(key)
        if kept is not None and _equal(xp, kept[0], weight):
            with self._lock:
                if key in self._forms:  # the most recently used last
                    self._forms.move_to_end(key)
            return kept[1]
        made = make(weight)
        copy = xp.asarray(weight, copy=True)
        with self._lock:
            self._forms.pop(key, None)
            self._forms[key] = (copy, made)  # the most recent last
            while len(self._forms) > MAX_FORMS:
                self._forms.popitem(last=False)
        return made

    def clear(self) -> None:
        with self._lock:
            self._forms.clear()


def _equal(xp, kept, weight) -> bool:
    """Same shape, dtype and values (NaN never equals: such a weight is remade)."""
    if tuple(kept.shape) != tuple(weight.shape) or kept.dtype != weight.dtype:
        return False
    return bool(xp.all(kept == weight))
