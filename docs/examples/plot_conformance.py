"""
The conformance matrix as a heat map
====================================

``python -m conformance`` runs every case of the conformance suite through xconv on each
array library installed (NumPy, array-api-strict, PyTorch, JAX, Dask) and through
PyTorch, JAX, Keras 3, ONNX Runtime and SciPy, outputs and gradients, and checks the
reference pages' own numbers. This map reads its summary (``conformance/results.json``):
each cell counts the comparisons of one library and kind of result with one peer,
coloured by the share of them the peer could express at all, and says how many passed
and failed.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

root = Path.cwd()
while not (root / "conformance" / "results.json").exists():  # the repository's root
    root = root.parent
report = json.loads((root / "conformance" / "results.json").read_text())
peers = [peer for peer, version in report["peers"].items() if version is not None]
print(report["summary"], "in", report["seconds"], "s")

# %%
# Rows: the library xconv ran on and the case group (the dialect a case is written in,
# its outputs or its gradients); columns: the peers.
matrix = report["matrix_by_backend"]
rows = [row for row in matrix if row != "total"]
expressed = np.full((len(rows), len(peers)), np.nan)
fig, ax = plt.subplots(figsize=(10, 0.32 * len(rows) + 1.8), layout="constrained")
for i, row in enumerate(rows):
    for j, peer in enumerate(peers):
        cell = matrix[row].get(peer)
        if not cell:
            continue
        total = cell["passed"] + cell["failed"] + cell["unsupported"]
        expressed[i, j] = (cell["passed"] + cell["failed"]) / total
        text = f"{cell['passed']}/{cell['failed']}/{cell['unsupported']}"
        color = "firebrick" if cell["failed"] else "k"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color=color)
shown = ax.imshow(expressed, cmap="Greens", vmin=0, vmax=1.4, aspect="auto")
ax.set_xticks(range(len(peers)), peers)
ax.set_yticks(range(len(rows)), rows, fontsize=7)
for i, row in enumerate(rows[1:], start=1):  # a line between libraries
    if row.split(":")[0] != rows[i - 1].split(":")[0]:
        ax.axhline(i - 0.5, color="k", lw=1)
fig.colorbar(shown, ax=ax, label="share of the comparisons the peer can express")
ax.set_title("passed / failed / unsupported, per library and case group")
plt.show()
