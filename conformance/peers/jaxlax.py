"""JAX: `lax.conv_general_dilated` and `lax.conv_transpose`, `jax.vjp` for the VJPs.

Translation: `"valid"`, `"same"` and `"same_lower"` go to lax's own `VALID`, `SAME` and
`SAME_LOWER`; other zero padding to explicit pairs; other padding modes through `jnp.pad`
(`reflect`, `symmetric`, `edge`, `wrap`, constant with a value). Channel-last cases run
channel-last through the dimension numbers. Ungrouped transposed cases use
`lax.conv_transpose` (kernel transposed; explicit pads on the dilated input); grouped use
`conv_general_dilated` with `lhs_dilation` and the flipped, regrouped kernel, since
`conv_transpose` has no groups. 64-bit cases run inside `jax.enable_x64()`.
"""

from __future__ import annotations

import numpy as np

from .. import semantics
from ..cases import Arrays, Case
from ._common import activate, enable_x64, spatial_letters

NAME = "jax"
_JNP_MODES = {"reflect": "reflect", "symmetric": "symmetric", "replicate": "edge"}
_JNP_MODES["circular"] = "wrap"


def version() -> str:
    import jax

    return jax.__version__


def run(case: Case, arrays: Arrays) -> dict[str, np.ndarray]:
    with enable_x64(case.dtype in ("float64", "complex128")):
        return _run(case, arrays)


def _run(case: Case, arrays: Arrays) -> dict[str, np.ndarray]:
    import jax
    import jax.numpy as jnp

    last = case.params["channels_last"]

    def to_layout(a):
        a = a if case.batched else a[None]
        return jnp.moveaxis(a, 1, -1) if last else a

    def from_layout(a):
        a = jnp.moveaxis(a, -1, 1) if last else a
        return a if case.batched else a[0]

    @jax.jit
    def f(x, weight, bias):
        x = to_layout(x)
        y = _transposed(case, x, weight) if case.transposed else _forward(case, x, weight)
        y = from_layout(y)
        if bias is not None:
            y = y + jnp.reshape(bias, (-1,) + (1,) * case.rank)
        return y

    operands = [jnp.asarray(arrays.x), jnp.asarray(arrays.weight)]
    bias = None if arrays.bias is None else jnp.asarray(arrays.bias)
    if not case.gradient:
        return {"output": activate(case, np.asarray(f(*operands, bias)))}
    if bias is None:
        y, pullback = jax.vjp(lambda x, w: f(x, w, None), *operands)
    else:
        y, pullback = jax.vjp(f, *operands, bias)
    grads = pullback(jnp.asarray(arrays.grad_output, dtype=y.dtype))
    names = ("grad_input", "grad_weight", "grad_bias")
    return {name: np.asarray(g) for name, g in zip(names, grads, strict=False)}


def _specs(case: Case) -> tuple[str, str, str]:
    letters = spatial_letters(case.rank)
    data = f"N{letters}C" if case.params["channels_last"] else f"NC{letters}"
    return data, f"OI{letters}", data


def _forward(case: Case, x, weight):
    import jax.numpy as jnp
    from jax import lax

    params = case.params
    padding = params["padding"]
    pads = semantics.pads(case)
    if not semantics.uses_constant_zero(case):
        offset = 1 if params["channels_last"] else 2
        widths = [(0, 0)] * x.ndim
        widths[offset : offset + case.rank] = pads
        mode = params["padding_mode"]
        if mode == "constant":
            x = jnp.pad(x, widths, constant_values=params["padding_value"])
        else:
            x = jnp.pad(x, widths, mode=_JNP_MODES[mode])
        arg = "VALID"
    elif padding in ("valid", "same", "same_lower"):
        arg = padding.upper()
    else:
        arg = pads
    return lax.conv_general_dilated(
        x,
        weight,
        case.per_dim("stride"),
        arg,
        rhs_dilation=case.per_dim("dilation"),
        dimension_numbers=_specs(case),
        feature_group_count=params["groups"],
        precision=lax.Precision.HIGHEST,
    )


def _transposed(case: Case, x, weight):
    import jax.numpy as jnp
    from jax import lax

    stride, dilation = case.per_dim("stride"), case.per_dim("dilation")
    output_padding = case.per_dim("output_padding")
    groups = case.params["groups"]
    crops = semantics.pads(case)
    if groups == 1:
        short = any(e < s for e, s in zip(semantics.extents(case), stride, strict=True))
        native = case.params["padding"] == "same" or (
            case.params["padding"] == "valid" and not short
        )
        if native and not any(output_padding):
            # lax's own SAME / VALID; its VALID appends s - e zeros after a kernel shorter
            # than the stride (TensorFlow's convention, finding F4), so not then
            arg = case.params["padding"].upper()
        else:  # explicit pairs pad the stride-dilated input: e - 1 - crop, plus output_padding
            extents = semantics.extents(case)
            arg = [
                (e - 1 - b, e - 1 - a + p)
                for e, (b, a), p in zip(extents, crops, output_padding, strict=True)
            ]
        return lax.conv_transpose(
            x,
            weight,
            stride,
            arg,
            rhs_dilation=dilation,
            dimension_numbers=_specs(case),
            transpose_kernel=True,
            precision=lax.Precision.HIGHEST,
        )
    # grouped: (C, F/g, *k) -> (F, C/g, *k), spatially flipped, then a dilated-input conv
    channels, per_group = weight.shape[:2]
    kernel = weight.shape[2:]
    w = jnp.reshape(weight, (groups, channels // groups, per_group, *kernel))
    w = jnp.swapaxes(w, 1, 2).reshape((groups * per_group, channels // groups, *kernel))
    w = jnp.flip(w, axis=tuple(range(2, 2 + case.rank)))
    extents = semantics.extents(case)
    pads = [
        (e - 1 - b, e - 1 - a + p)
        for e, (b, a), p in zip(extents, crops, output_padding, strict=True)
    ]
    return lax.conv_general_dilated(
        x,
        w,
        (1,) * case.rank,
        pads,
        lhs_dilation=stride,
        rhs_dilation=dilation,
        dimension_numbers=_specs(case),
        feature_group_count=groups,
        precision=lax.Precision.HIGHEST,
    )
