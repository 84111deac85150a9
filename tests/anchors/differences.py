"""The cases of the anchors' own suites where xconv deliberately differs, each with why.

A failing case of an anchor's suite must match one of these patterns (a regular
expression searched in its pytest node id); any other failure fails xconv's tests.
"""

from __future__ import annotations

DIFFERENCES: dict[str, list[tuple[str, str]]] = {
    "scipy.signal": [],
    "scipy.ndimage": [],
    "dask_image": [],
}
