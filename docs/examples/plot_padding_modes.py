"""
The five padding modes on one image
===================================

A convolution near an edge reads samples that are not there; the padding mode decides
what it reads instead. Padding an image with a 1 x 1 identity kernel shows the extension
itself, and a wide blur shows what each extension does to a result near the border.
The names are xconv's; the user guide's cross-walk has every framework's names for them.
"""

import matplotlib.pyplot as plt
import numpy as np

import xconv

# %%
# A small test image: a bright disc and a bar, off-centre so that the left and
# right edges differ.
n = 48
yy, xx = np.mgrid[:n, :n]
image = ((xx - 14) ** 2 + (yy - 30) ** 2 < 90).astype(np.float32)
image[6:12, 8:44] = 0.6
image += np.float32(0.15) * xx / n

# %%
# Top row: an identity kernel with 16 samples of padding on every side returns the padded
# image (the dashed square is the original).
modes = ["constant", "reflect", "symmetric", "replicate", "circular"]
identity = np.ones((1, 1, 1, 1), np.float32)
fig, axes = plt.subplots(2, 5, figsize=(12, 5.4), layout="constrained")
for ax, mode in zip(axes[0], modes, strict=True):
    padded = xconv.conv(image[None], identity, padding=16, padding_mode=mode)[0]
    ax.imshow(padded, cmap="magma", vmin=0, vmax=1.2)
    ax.add_patch(plt.Rectangle((15.5, 15.5), n, n, fill=False, ls="--", color="w"))
    ax.set_title(mode)
    ax.set_axis_off()
# Bottom row: a 15 x 15 box blur with `padding="same"`: the interior is the same in every
# mode, the border band shows what was read past the edge.
box = np.full((1, 1, 15, 15), 1 / 225, np.float32)
for ax, mode in zip(axes[1], modes, strict=True):
    blurred = xconv.conv(image[None], box, padding="same", padding_mode=mode)[0]
    ax.imshow(blurred, cmap="magma", vmin=0, vmax=1.2)
    ax.set_axis_off()
fig.suptitle("top: the image padded by 16 samples; bottom: a 15 x 15 blur, 'same'")
plt.show()

# %%
# The interiors agree to rounding; only the border band, 7 samples wide, differs.
results = {
    mode: xconv.conv(image[None], box, padding="same", padding_mode=mode)[0] for mode in modes
}
inner = (slice(7, -7), slice(7, -7))
print({m: float(np.abs(r[inner] - results["constant"][inner]).max()) for m, r in results.items()})
