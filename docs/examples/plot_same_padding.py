"""
Where ``same`` puts the extra sample
====================================

``padding="same"`` asks for ``ceil(n / stride)`` outputs; when the padding that takes
is odd, one side gets the extra sample. The frameworks disagree on which side, and
PyTorch refuses ``same`` at strides above 1. This diagram is drawn from computed
outputs, not by hand: each layer convolves the signal ``2**0, 2**1, ..., 2**(n-1)`` with
a kernel of ones, so every output is a sum of distinct powers of two whose bits name
exactly the input samples its window covered; the first and last windows then say how
much padding each framework added before and after.
"""

import matplotlib.pyplot as plt
import numpy as np

import xconv
from xconv.compat import keras, matlab, pytorch, wolfram

n, k = 10, 4
signal = 2.0 ** np.arange(n)


def covered(total: float) -> list[int]:
    """The input positions whose powers of two sum to `total`."""
    bits = round(total)
    return [p for p in range(n) if bits >> p & 1]


def padding_from(outputs: np.ndarray, stride: int) -> tuple[int, int]:
    """(before, after) from the windows of the first and last outputs."""
    first, last = covered(outputs[0]), covered(outputs[-1])
    before = k - len(first) if first[0] == 0 else -first[0]
    after = last[0] + k - n  # the last window starts inside the signal
    return before, after


def layers(stride: int) -> dict:
    """Each framework's `same` layer of k ones at this stride, as a function of the signal."""
    ones = np.ones(k)
    return {
        "xconv 'same'": lambda x: xconv.conv(x[None, None], ones[None, None], stride=stride,
                                             padding="same"),
        "xconv 'same_lower'\n(ONNX SAME_LOWER)": lambda x: xconv.conv(
            x[None, None], ones[None, None], stride=stride, padding="same_lower"),
        "Keras / TensorFlow\npadding='same'": lambda x: keras.Conv1D(
            1, k, strides=stride, padding="same", kernel_initializer="ones",
            dtype="float64")(x[None, :, None]),
        "MATLAB\n'Padding','same'": lambda x: matlab.convolution1dLayer(
            k, 1, Stride=stride, Padding="same", Weights=np.ones((k, 1, 1)),
            Bias=np.zeros((1, 1)))(x[:, None, None]),
        'Wolfram\nPaddingSize -> "Same"': lambda x: wolfram.ConvolutionLayer(
            1, [k], Stride=stride, PaddingSize="Same", Weights=np.ones((1, 1, k)),
            Biases=np.zeros(1), Input=[1, n])(x[None]),
        "PyTorch\npadding='same'": lambda x: torch_same(x, stride),
    }  # fmt: skip


def torch_same(x, stride):
    layer = pytorch.Conv1d(1, 1, k, stride=stride, padding="same", bias=False)
    layer.set_weights(np.ones((1, 1, k)))
    return layer(x[None, None])


strides = (1, 2, 3)
names = list(layers(1))
fig, axes = plt.subplots(len(names), len(strides), figsize=(12, 8.5), layout="constrained")
for column, stride in enumerate(strides):
    for row, (name, layer) in enumerate(layers(stride).items()):
        ax = axes[row, column]
        ax.set_xlim(-4.5, n + 3.5)
        ax.set_ylim(-0.2, 1.2)
        ax.set_axis_off()
        if column == 0:
            ax.text(-5, 0.5, name, ha="right", va="center", fontsize=9)
        if row == 0:
            ax.set_title(f"stride {stride}: {-(-n // stride)} outputs")
        try:
            outputs = np.asarray(layer(signal), dtype=np.float64).ravel()
        except ValueError as error:
            ax.text(n / 2, 0.5, f"refused: {str(error)[:48]}...", ha="center", va="center",
                    fontsize=8, color="firebrick")  # fmt: skip
            continue
        before, after = padding_from(outputs, stride)
        for position in range(-before, n + after):
            inside = 0 <= position < n
            ax.add_patch(plt.Rectangle((position, 0.3), 0.9, 0.6, ec="k", lw=0.5,
                                       fc="#9ecae1" if inside else "#f0b27a"))  # fmt: skip
        ax.text(n + after + 0.2, 0.6, f"{before} + {after}", va="center", fontsize=9)
fig.suptitle(f"n = {n} samples (blue), kernel {k}: padding before + after (orange)")
plt.show()

# %%
# The same numbers as a table: xconv's ``same`` agrees with Keras, MATLAB and Wolfram
# (as xconv chooses where Wolfram's page is silent), ``same_lower`` with ONNX's
# ``SAME_LOWER``.
for stride in strides:
    row = {}
    for name, layer in layers(stride).items():
        try:
            row[name.split("\n")[0]] = padding_from(np.asarray(layer(signal)).ravel(), stride)
        except ValueError:
            row[name.split("\n")[0]] = "refused"
    print(f"stride {stride}: {row}")
