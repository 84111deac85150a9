"""
The benchmark results as a chart
================================

``python -m benchmarks`` times xconv against PyTorch, JAX and SciPy in one process and
writes ``benchmarks/results.json``. This chart reads that file: for each workload, xconv's
time divided by each peer's (below 1, xconv is faster), on a log scale. The
:doc:`../benchmarks` page has the tables, the machine and the history.
"""

import json
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

root = Path.cwd()
while not (root / "benchmarks" / "results.json").exists():  # the repository's root
    root = root.parent
report = json.loads((root / "benchmarks" / "results.json").read_text())
rows = [row for row in report["rows"] if not row.get("skipped")]
peers = [p for p in ("torch", "jax", "scipy") if any(p in r["ratio"] for r in rows)]
print(report["machine"].get("cpu", report["machine"]), len(rows), "workloads")

# %%
# One group of bars per workload, one bar per peer that ran it.
fig, ax = plt.subplots(figsize=(8, 0.34 * len(rows) + 1.5), layout="constrained")
height = 0.8 / len(peers)
colors = {"torch": "#ee4c2c", "jax": "#4285f4", "scipy": "#8caae6"}
positions = np.arange(len(rows))
for i, peer in enumerate(peers):
    ratios = [row["ratio"].get(peer, np.nan) for row in rows]
    ax.barh(positions + i * height, ratios, height, label=peer, color=colors[peer], left=0)
ax.set_xscale("log")
ax.axvline(1.0, color="k", lw=1)
ax.set_yticks(positions + height * (len(peers) - 1) / 2)
ax.set_yticklabels([f"{row['name']} ({row['algorithm']})" for row in rows], fontsize=8)
ax.invert_yaxis()
ax.set_xlabel("xconv time / peer time (log scale; left of the line: xconv is faster)")
ax.legend(loc="lower right")
ax.set_title("xconv against its peers, float32, CPU")
plt.show()
