"""PyTorch: `torch.nn.functional.conv*d` / `conv_transpose*d`, autograd for the VJPs.

Translation: `padding="valid"`, `"same"` at stride 1 and symmetric zero pads go to
PyTorch's own `padding`; anything else is padded first with `F.pad` (constant, reflect,
replicate, circular) or, for `symmetric`, mirrored with `torch.flip` and `torch.cat`.
Transposed cropping uses PyTorch's symmetric `padding` and slices off the rest. PyTorch
convolves channel-first only, so channel-last cases are compared in canonical layout.
Complex autograd returns conjugated (Wirtinger) gradients; the VJP undoes that.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import semantics
from ..cases import Arrays, Case
from ._common import activate, require

NAME = "torch"
_TORCH_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "replicate"}
_TORCH_MODES["circular"] = "circular"


def version() -> str:
    import torch

    return torch.__version__


def run(case: Case, arrays: Arrays) -> dict[str, np.ndarray]:
    import torch

    require(case.rank <= 3, "torch.nn.functional has conv1d/2d/3d only")
    tensors = [torch.from_numpy(np.ascontiguousarray(a)) for a in (arrays.x, arrays.weight)]
    bias = None if arrays.bias is None else torch.from_numpy(arrays.bias)
    forward = _transposed if case.transposed else _forward
    if not case.gradient:
        with torch.no_grad():
            y = forward(case, tensors[0], tensors[1], bias)
        return {"output": activate(case, y.numpy())}
    leaves = [t.clone().requires_grad_(True) for t in tensors]
    if bias is not None:
        leaves.append(bias.clone().requires_grad_(True))
    y = forward(case, leaves[0], leaves[1], leaves[2] if bias is not None else None)
    grad = torch.from_numpy(arrays.grad_output)
    complex_ = y.is_complex()
    y.backward(grad.conj() if complex_ else grad)  # d/d(conj z) convention -> plain VJP
    names = ("grad_input", "grad_weight", "grad_bias")
    return {
        name: (leaf.grad.conj() if complex_ else leaf.grad).resolve_conj().numpy()
        for name, leaf in zip(names, leaves, strict=False)
    }


def _forward(case: Case, x, weight, bias):
    import torch.nn.functional as F

    conv = getattr(F, f"conv{case.rank}d")
    params = case.params
    stride, dilation = case.per_dim("stride"), case.per_dim("dilation")
    pads = semantics.pads(case)
    padding = params["padding"]
    zero = semantics.uses_constant_zero(case)
    if zero and padding == "valid":
        arg = "valid"
    elif zero and padding == "same" and set(stride) == {1}:
        arg = "same"  # PyTorch's own 'same' (stride 1 only); odd extra at the end
    elif zero and all(b == a for b, a in pads):
        arg = tuple(b for b, _ in pads)
    else:
        x = _pad(case, x, pads)
        arg = 0
    with warnings.catch_warnings():  # 'same' with even kernels: PyTorch warns of a copy
        warnings.simplefilter("ignore", UserWarning)
        return conv(x, weight, bias, stride, arg, dilation, params["groups"])


def _pad(case: Case, x, pads):
    import torch
    import torch.nn.functional as F

    mode, value = case.params["padding_mode"], case.params["padding_value"]
    if mode == "symmetric":  # no F.pad mode: mirror with the edge, axis by axis
        for i, (before, after) in enumerate(pads):
            axis = x.ndim - case.rank + i
            parts = [x]
            if before:
                parts.insert(0, torch.flip(x.narrow(axis, 0, before), [axis]))
            if after:
                parts.append(torch.flip(x.narrow(axis, x.shape[axis] - after, after), [axis]))
            x = torch.cat(parts, axis)
        return x
    flat = tuple(p for pair in reversed(pads) for p in pair)  # last axis first
    if mode == "constant":
        return F.pad(x, flat, mode="constant", value=value)
    return F.pad(x, flat, mode=_TORCH_MODES[mode])


def _transposed(case: Case, x, weight, bias):
    import torch.nn.functional as F

    conv = getattr(F, f"conv_transpose{case.rank}d")
    crops = semantics.pads(case)
    native = tuple(max(min(b, a), 0) for b, a in crops)
    y = conv(
        x,
        weight,
        None,
        case.per_dim("stride"),
        native,
        case.per_dim("output_padding"),
        case.params["groups"],
        case.per_dim("dilation"),
    )
    for i, ((before, after), p) in enumerate(zip(crops, native, strict=True)):
        axis = y.ndim - case.rank + i
        if after < 0:  # "same" with a kernel shorter than the stride: extend with zeros
            y = F.pad(y, _widths(y.ndim - axis, -after))
            after = 0
        y = y.narrow(axis, before - p, y.shape[axis] - (before - p) - (after - p))
    if bias is not None:
        y = y + bias.reshape((-1,) + (1,) * case.rank)
    return y


def _widths(trailing: int, extra: int) -> tuple[int, ...]:
    """`F.pad` widths adding `extra` at the end of the axis `trailing` from the last."""
    return (0, 0) * (trailing - 1) + (0, extra)


# -- code as `xconv translate` prints it ----------------------------------------------------


def run_code(code: str, case: Case, arrays: Arrays, channels_last: bool) -> dict[str, np.ndarray]:
    """Run PyTorch code that `xconv translate` printed for a layer: its module gets the
    case's weights, its `layer(x)` the case's input (channel-last where the layer keeps
    its channels last), and autograd gives the gradients of a gradient case.

    The code is the user's to read and run: it is executed as printed, up to its last
    line (`y = layer(x)`), which is called here instead.
    """
    import torch

    body, _, last = code.rstrip().rpartition("\n")
    if last.strip() != "y = layer(x)":
        raise ValueError(f"printed code should end with 'y = layer(x)', got {last!r}")
    namespace: dict = {}
    exec(compile(body, "<xconv translate --to pytorch>", "exec"), namespace)
    module = namespace["conv"].to(torch.from_numpy(arrays.weight).dtype)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(arrays.weight))
        if arrays.bias is not None:
            module.bias.copy_(torch.from_numpy(arrays.bias))

    def presented(array):
        return torch.from_numpy(np.moveaxis(array, 1 if case.batched else 0, -1).copy()
                                if channels_last else array.copy())  # fmt: skip

    def canonical_(tensor):
        array = tensor.detach().numpy()
        return np.moveaxis(array, -1, 1 if case.batched else 0) if channels_last else array

    x = presented(arrays.x).requires_grad_(case.gradient)
    y = namespace["layer"](x)
    if not case.gradient:
        return {"output": activate(case, canonical_(y))}
    y.backward(presented(arrays.grad_output))
    out = {"grad_input": canonical_(x.grad), "grad_weight": module.weight.grad.numpy()}
    if arrays.bias is not None:
        out["grad_bias"] = module.bias.grad.numpy()
    return out
