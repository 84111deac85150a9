"""
A large blur: the FFT path next to the direct path
==================================================

A direct convolution costs one multiply-add per output and kernel tap; the FFT path
costs a few transforms whatever the kernel's size. For a 41 x 41 Gaussian on a
1024 x 1024 image the planner picks the FFT; this example runs both paths, times them
and shows that they agree to float32 rounding.
"""

import time

import matplotlib.pyplot as plt
import numpy as np

import xconv

rng = np.random.default_rng(0)
n, k = 1024, 41
yy, xx = np.mgrid[:n, :n]
image = ((xx // 64 + yy // 64) % 2).astype(np.float32)  # a checkerboard
image += np.float32(0.3) * rng.standard_normal((n, n), dtype=np.float32)
t = np.arange(k) - k // 2
gauss = np.exp(-(t**2) / (2 * 6.0**2))
kernel = np.outer(gauss, gauss).astype(np.float32)
kernel /= kernel.sum()
x, w = image[None, None], kernel[None, None]

plan = xconv.plan(x.shape, w.shape, dtype="float32", padding="same")
print(plan)


def timed(algorithm: str) -> tuple[np.ndarray, float]:
    """The blur by `algorithm`, and its best time of three runs."""
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        y = xconv.conv(x, w, padding="same", padding_mode="reflect", algorithm=algorithm)
        best = min(best, time.perf_counter() - start)
    return y[0, 0], best


(fft, fft_s), (direct, direct_s) = timed("fft"), timed("direct")
difference = np.abs(fft - direct)

# %%
# The two results, their difference (float32 rounding, relative to the values near 1)
# and the times.
fig, axes = plt.subplots(1, 4, figsize=(13, 3.6), layout="constrained")
axes[0].imshow(image, cmap="gray")
axes[0].set_title("input")
axes[1].imshow(fft, cmap="gray")
axes[1].set_title(f"FFT path, {k}x{k} Gaussian")
shown = axes[2].imshow(difference, cmap="magma")
axes[2].set_title(f"|FFT - direct|, max {difference.max():.1e}")
fig.colorbar(shown, ax=axes[2], shrink=0.8)
for ax in axes[:3]:
    ax.set_axis_off()
axes[3].bar(["fft", "direct"], [fft_s * 1e3, direct_s * 1e3], color=["#4c72b0", "#dd8452"])
axes[3].set_ylabel("ms (best of 3)")
axes[3].set_title(f"FFT {direct_s / fft_s:.0f}x faster")
plt.show()
