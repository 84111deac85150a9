"""
Upsampling by a transposed convolution, and its checkerboard
============================================================

A stride-2 transposed convolution places each input sample on every other output sample
and spreads it over the kernel's footprint. When the kernel size is not a multiple of
the stride, output samples receive different numbers of contributions: a constant input
comes out as a checkerboard. A kernel of 4 (a multiple of 2) covers every output evenly
away from the borders.
"""

import matplotlib.pyplot as plt
import numpy as np

import xconv

# %%
# A constant input makes the overlap count visible directly (left and middle).
flat = np.ones((1, 1, 8, 8), np.float32)
fig, axes = plt.subplots(1, 3, figsize=(12, 4.4), layout="constrained")
for ax, k in zip(axes[:2], (3, 4), strict=True):
    weight = np.ones((1, 1, k, k), np.float32)  # (C, F, kh, kw): the transposed layout
    up = xconv.conv_transpose(flat, weight, stride=2, padding="same")[0, 0]
    shown = ax.imshow(up, cmap="viridis")
    ax.set_title(f"kernel {k}x{k}, stride 2\nvalues {sorted({float(v) for v in np.unique(up)})}")
    fig.colorbar(shown, ax=ax, shrink=0.8)
# Right: on an image, the 4 x 4 bilinear kernel (the outer product of 1/4, 3/4, 3/4,
# 1/4) interpolates without a checkerboard.
yy, xx = np.mgrid[:32, :32]
image = (np.sin(xx / 4.0) * np.cos(yy / 5.0)).astype(np.float32)[None, None]
tent = np.array([0.25, 0.75, 0.75, 0.25], np.float32)
bilinear = np.outer(tent, tent)[None, None]
up = xconv.conv_transpose(image, bilinear, stride=2, padding="same")[0, 0]
axes[2].imshow(up, cmap="RdBu_r")
axes[2].set_title(f"bilinear 4x4, stride 2\n{image.shape[2:]} -> {up.shape}")
plt.show()

# %%
# The output size of `padding="same"` is `n * stride`, for any kernel:
print(xconv.conv_transpose(flat, np.ones((1, 1, 5, 5), np.float32), stride=2, padding="same").shape)
