"""
The conformance matrix as a heat map
====================================

``python -m conformance`` runs every case of the conformance suite through xconv and
through PyTorch, JAX, Keras 3, ONNX Runtime and SciPy, and checks the reference pages'
own numbers. This map reads its JSON report (``conformance/results.json``): each cell
counts the comparisons of one kind of case with one peer, coloured by how many of them
the peer could express at all, and says how many passed and failed.
"""

import json
from collections import Counter
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
# Rows: the dialect a case is written in, then the operation; columns: the peers.
counts = Counter()
for result in report["results"]:
    for row in (result["dialect"], result["op"]):
        counts[row, result["peer"], result["status"]] += 1
rows = ["canonical", "wolfram", "matlab", "keras", "conv", "conv_transpose", "conv_vjp",
        "conv_transpose_vjp"]  # fmt: skip
expressed = np.full((len(rows), len(peers)), np.nan)
fig, ax = plt.subplots(figsize=(9, 5.5), layout="constrained")
for i, row in enumerate(rows):
    for j, peer in enumerate(peers):
        passed, failed, unsupported = (counts[row, peer, s] for s in
                                       ("pass", "fail", "unsupported"))  # fmt: skip
        total = passed + failed + unsupported
        if total:
            expressed[i, j] = (passed + failed) / total
            color = "firebrick" if failed else "k"
            ax.text(j, i, f"{passed}/{failed}/{unsupported}", ha="center", va="center",
                    fontsize=8, color=color)  # fmt: skip
shown = ax.imshow(expressed, cmap="Greens", vmin=0, vmax=1.4, aspect="auto")
ax.set_xticks(range(len(peers)), peers)
ax.set_yticks(range(len(rows)), rows)
ax.axhline(3.5, color="k", lw=1)
fig.colorbar(shown, ax=ax, label="share of the comparisons the peer can express")
ax.set_title("passed / failed / unsupported, per dialect (top) and operation (bottom)")
plt.show()
