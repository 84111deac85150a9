"""
Larger than memory: a chunked Dask array, block by block
========================================================

On a Dask array ``xconv.conv`` returns a lazy array with the input's chunks: each output
block is one task that reads its chunk plus the kernel's halo from the few input blocks
it touches. Nothing runs until a block is asked for, so an image far larger than memory
can be processed a block at a time, here on a small image so that the page builds
quickly; the same code runs on a terabyte-sized Zarr store or on a cluster.
"""

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np

import xconv

# %%
# A 2048 x 2048 image in 512 x 512 chunks (4 x 4 blocks), blurred lazily with a
# 15 x 15 box and replicate padding.
image = da.random.default_rng(0).random((2048, 2048), dtype=np.float32, chunks=512)
box = np.full((1, 1, 15, 15), 1 / 225, np.float32)
blurred = xconv.conv(image[None], box, padding="same", padding_mode="replicate")[0]
print(type(blurred).__name__, blurred.chunks == image.chunks, blurred.npartitions, "blocks")

# %%
# Asking for one corner computes only the blocks that cover it; the rest of the graph
# never runs. A whole-array result agrees with NumPy's in-memory call.
with dask.config.set(scheduler="threads"):
    corner = blurred[:700, :700].compute()
    whole = blurred.compute()
reference = xconv.conv(image.compute()[None], box, padding="same", padding_mode="replicate")[0]
print(corner.shape, float(np.abs(whole - reference).max()))

# %%
# The blocks of the result, with the region each one reads (chunk plus a 7-sample halo)
# drawn for one block.
fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), layout="constrained")
axes[0].imshow(whole, cmap="gray")
for edge in np.cumsum(blurred.chunks[0])[:-1]:
    axes[0].axhline(edge - 0.5, color="tab:orange", lw=1)
    axes[0].axvline(edge - 0.5, color="tab:orange", lw=1)
axes[0].add_patch(plt.Rectangle((512 - 7.5, 512 - 7.5), 512 + 14, 512 + 14, fill=False,
                                color="tab:red", lw=2, ls="--"))  # fmt: skip
axes[0].set_title("output blocks (orange); one block's input read (red)")
axes[1].imshow(corner, cmap="gray")
axes[1].set_title("blurred[:700, :700], computed from 4 blocks")
for ax in axes:
    ax.set_axis_off()
plt.show()
