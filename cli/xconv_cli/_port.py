"""Weights carried to another framework: `xconv translate --save-weights`.

Each target gets its weights in its own layout, under its own names, in a file it loads
directly: PyTorch a `state_dict` (`.pt`: `weight` `(F, C/g, *k)`, `bias` `(F,)`, what
the printed module's `conv.load_state_dict(torch.load(path))` takes); MATLAB `.mat` with
`Weights` (`h x w x C x F`, grouped `h x w x C/g x F/g x g`) and `Bias` (`1 x 1 x F`);
Keras `.npz` with `kernel` (`(*k, C/g, F)`) and `bias`, in `layer.set_weights` order;
Wolfram `.npz` or `.mat` with `Weights` (`F x C/g x *k`) and `Biases`. The layouts come
from the target dialect's own layer (`xconv.compat.translate`), never from a second table.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from ._errors import FileError

SUFFIXES = {"pytorch": (".pt", ".pth"), "matlab": (".mat",), "keras": (".npz",),
            "wolfram": (".npz", ".mat")}  # fmt: skip


def target_weights(obj, target: str) -> dict[str, np.ndarray]:
    """The weights of the xconv.compat layer `obj` as `target` names and lays them out."""
    if target == "pytorch":  # a module's layout is xconv's canonical one
        weight, bias = obj.canonical_weights()
        named = {"weight": weight, "bias": bias}
    else:
        from xconv.compat import translate

        other = translate(obj, target)
        if target == "matlab":
            named = {"Weights": other.Weights, "Bias": other.Bias}
        elif target == "wolfram":
            named = {"Weights": other.Weights, "Biases": other.Biases}
        else:
            names = ("depthwise_kernel" if "Depthwise" in type(other).__name__ else "kernel",
                     "bias")  # fmt: skip
            named = dict(zip(names, other.get_weights(), strict=False))
    return {k: np.asarray(v) for k, v in named.items() if v is not None and np.size(v)}


def save(path: Path, target: str, weights: dict[str, np.ndarray]) -> bytes:
    """The file's bytes for `target` (written atomically by the caller)."""
    if path.suffix.lower() not in SUFFIXES[target]:
        raise FileError(f"{path}: {target} weights go to {' or '.join(SUFFIXES[target])}")
    buffer = io.BytesIO()
    if path.suffix.lower() in (".pt", ".pth"):
        try:
            import torch
        except ImportError:
            raise FileError("saving a PyTorch state_dict needs torch installed") from None
        torch.save({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights.items()},
                   buffer)  # fmt: skip
    elif path.suffix.lower() == ".mat":
        from scipy.io import savemat

        savemat(buffer, weights)
    else:
        np.savez(buffer, **weights)
    return buffer.getvalue()
