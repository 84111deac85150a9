"""Keras 3 (jax backend): `Conv*D`, `DepthwiseConv*D` and `Conv*DTranspose` layers.

Keras dialect cases build the real layer from the case's own text (read with `ast`, so
Keras itself decides what the text means). Other cases build a layer from the canonical
parameters. Either way the layer's initializers return the case's weights (kernels
`(*k, C/g, F)`, depthwise `(*k, C, multiplier)`, transposed `(*k, F, C)`). Translation:
`"valid"`, `"same"` and Conv1D `"causal"` are the layer's own padding; other zero
padding is a `ZeroPadding*D` layer in front; other padding modes are `keras.ops.pad`
(`reflect`, `symmetric`, `edge`, `wrap`, constant with a value). Transposed cropping is
a `"valid"` layer (with `output_padding`) followed by `Cropping*D`. VJPs differentiate
`layer.stateless_call` with `jax.vjp`. Keras cannot express: stride > 1 with dilation > 1
outside DepthwiseConv (documented ValueError), grouped transposed layers, output_padding
>= stride, and complex dtypes. Unbatched cases get a batch axis of one.
"""

from __future__ import annotations

import ast
import os

import numpy as np

from .. import semantics
from ..cases import Arrays, Case, canonical, present
from ..dialects import keras_weights, keras_weights_to_canonical
from ._common import Unsupported, activate, enable_x64, require

NAME = "keras"
TEXT_DIALECT = "keras"  # builds Keras dialect cases from their own text
_OPS_MODES = {"reflect": "reflect", "symmetric": "symmetric", "replicate": "edge"}
_OPS_MODES["circular"] = "wrap"


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    if keras.backend.backend() != "jax":
        raise Unsupported(f"keras runs on the {keras.backend.backend()} backend, not jax")
    return keras


def version() -> str:
    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    return keras.__version__


def run(case: Case, arrays: Arrays) -> dict[str, np.ndarray]:
    keras = _keras()

    require(not case.dtype.startswith("complex"), "Keras layers are real-valued")
    require(case.rank <= 3, "Keras has Conv1D/2D/3D only")
    with enable_x64(case.dtype == "float64"):
        if case.dialect == "keras":
            return _run_text(keras, case, arrays)
        return _run(keras, case, arrays)


def _run_text(keras, case: Case, arrays: Arrays) -> dict[str, np.ndarray]:
    """A Keras case: the real layer built from the case's own text (read with `ast`)."""
    import jax
    import jax.numpy as jnp

    call = ast.parse(case.layer.strip(), mode="eval").body
    if not isinstance(call, ast.Call):
        raise ValueError(f"not a layer call: {case.layer!r}")
    name = call.func.attr if isinstance(call.func, ast.Attribute) else call.func.id
    args = [ast.literal_eval(a) for a in call.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    kernel = keras_weights(case, arrays.weight).astype(case.dtype)
    kind = "depthwise_initializer" if name.startswith("Depthwise") else "kernel_initializer"
    kwargs[kind] = _Given(kernel)
    if arrays.bias is not None:
        kwargs["bias_initializer"] = _Given(arrays.bias.astype(case.dtype))
    layer = getattr(keras.layers, name)(*args, dtype=case.dtype, **kwargs)
    x = present(case, arrays.x)
    layer.build(x.shape)
    variables = [jnp.asarray(v.value) for v in layer.trainable_variables]
    f = jax.jit(lambda x, *v: layer.stateless_call(list(v), [], x)[0])
    if not case.gradient:
        return {"output": activate(case, canonical(case, np.asarray(f(x, *variables))))}
    y, pullback = jax.vjp(f, jnp.asarray(x), *variables)
    grads = pullback(jnp.asarray(present(case, arrays.grad_output), dtype=y.dtype))
    out = {
        "grad_input": canonical(case, np.asarray(grads[0])),
        "grad_weight": keras_weights_to_canonical(case, np.asarray(grads[1])),
    }
    if arrays.bias is not None:
        out["grad_bias"] = np.asarray(grads[2])
    return out


def _run(keras, case: Case, arrays: Arrays) -> dict[str, np.ndarray]:
    import jax
    import jax.numpy as jnp

    last = case.params["channels_last"]
    kernel = keras_kernel(case, arrays.weight).astype(case.dtype)
    bias = None if arrays.bias is None else arrays.bias.astype(case.dtype)
    layer, before, after = _build(keras, case, kernel, bias)
    layer.build(_presented_shape(case, padded=before is not None))

    def present(x):
        x = x if case.batched else x[None]
        return jnp.moveaxis(x, 1, -1) if last else x

    def restore(y):
        y = jnp.moveaxis(y, -1, 1) if last else y
        return y if case.batched else y[0]

    @jax.jit
    def f(x, *variables):
        x = present(x)
        if before is not None:
            x = before(x)
        y, _ = layer.stateless_call(list(variables), [], x)
        if after is not None:
            y = after(y)
        return restore(y)

    variables = [jnp.asarray(v.value) for v in layer.trainable_variables]
    x = jnp.asarray(arrays.x)
    if not case.gradient:
        return {"output": np.asarray(f(x, *variables))}
    y, pullback = jax.vjp(f, x, *variables)
    grads = pullback(jnp.asarray(arrays.grad_output, dtype=y.dtype))
    out = {
        "grad_input": np.asarray(grads[0]),
        "grad_weight": keras_weights_to_canonical(case, np.asarray(grads[1]), _depthwise(case)),
    }
    if case.bias:
        out["grad_bias"] = np.asarray(grads[2])
    return out


def _presented_shape(case: Case, padded: bool = False) -> tuple[int, ...]:
    shape = case.input_shape if case.batched else (1, *case.input_shape)
    if padded:
        grown = [n + b + a for n, (b, a) in zip(case.spatial, semantics.pads(case), strict=True)]
        shape = (*shape[:2], *grown)
    if case.params["channels_last"]:
        shape = (shape[0], *shape[2:], shape[1])
    return shape


def _depthwise(case: Case) -> bool:
    groups = case.params["groups"]
    return (
        not case.transposed
        and groups > 1
        and groups == case.in_channels
        and case.rank <= 2
        and case.params["padding"] != "causal"
    )


class _Given:
    """A Keras initializer returning the case's own array (no random draw, no compile)."""

    def __init__(self, value: np.ndarray) -> None:
        self.value = value

    def __call__(self, shape, dtype=None):
        if tuple(shape) != self.value.shape:
            raise ValueError(f"Keras asked for shape {tuple(shape)}, case has {self.value.shape}")
        return self.value


def _common(case: Case) -> dict:
    return {
        "strides": case.per_dim("stride"),
        "dilation_rate": case.per_dim("dilation"),
        "data_format": "channels_last" if case.params["channels_last"] else "channels_first",
        "use_bias": case.bias,
        "activation": case.activation,
        "dtype": case.dtype,
    }


def _build(keras, case: Case, kernel: np.ndarray, bias: np.ndarray | None):
    """`(layer, padding before it or None, cropping after it or None)`."""
    stride, dilation = case.per_dim("stride"), case.per_dim("dilation")
    require(  # DepthwiseConv*D alone accepts both (checked against Keras 3.15)
        _depthwise(case) or not (max(stride) > 1 and max(dilation) > 1),
        "Keras raises ValueError for strides > 1 together with dilation_rate > 1",
    )
    given = {"bias_initializer": _Given(bias)} if bias is not None else {}
    if case.transposed:
        return _build_transposed(keras, case, kernel_initializer=_Given(kernel), **given)
    if _depthwise(case):
        return _build_forward(keras, case, depthwise_initializer=_Given(kernel), **given)
    return _build_forward(keras, case, kernel_initializer=_Given(kernel), **given)


def _build_forward(keras, case: Case, **initializers):
    rank, layers = case.rank, keras.layers
    padding = case.params["padding"]
    before = None
    if not semantics.uses_constant_zero(case):
        before = _ops_pad(keras, case)
        arg = "valid"
    elif padding in ("valid", "same") or (padding == "causal" and rank == 1):
        arg = padding
    else:
        pads = semantics.pads(case)
        arg = "valid"
        last = case.params["channels_last"]
        if rank == 1 and not last:  # ZeroPadding1D pads axis 1 (channel-last) only
            before = _ops_pad(keras, case)
        elif rank == 1:
            before = layers.ZeroPadding1D(pads[0], dtype=case.dtype)
        else:
            before = getattr(layers, f"ZeroPadding{rank}D")(
                pads, data_format=_common(case)["data_format"], dtype=case.dtype
            )
    if _depthwise(case):
        multiplier = case.out_channels // case.in_channels
        layer = getattr(layers, f"DepthwiseConv{rank}D")(
            case.kernel, padding=arg, depth_multiplier=multiplier, **_common(case),
            **initializers,
        )  # fmt: skip
        return layer, before, None
    layer = getattr(layers, f"Conv{rank}D")(
        case.out_channels, case.kernel, padding=arg, groups=case.params["groups"],
        **_common(case), **initializers,
    )  # fmt: skip
    return layer, before, None


def _build_transposed(keras, case: Case, **initializers):
    rank, layers = case.rank, keras.layers
    require(case.params["groups"] == 1, "Keras Conv*DTranspose has no groups")
    stride = case.per_dim("stride")
    output_padding = case.per_dim("output_padding")
    require(
        all(p < s for p, s in zip(output_padding, stride, strict=True)),
        "Keras requires output_padding < strides",
    )
    crops = semantics.pads(case)
    after = None
    short = any(e < s for e, s in zip(semantics.extents(case), stride, strict=True))
    padding = case.params["padding"]
    if (padding == "same" or (padding == "valid" and not short)) and not any(output_padding):
        arg, keras_padding = padding, None
    else:
        require(all(a >= 0 for _, a in crops), "a negative crop with output_padding")
        # an explicit output_padding (even 0) stops Keras' 'valid' from appending s - e
        # zeros after a kernel shorter than the stride (finding F4)
        arg, keras_padding = "valid", output_padding
        if any(c != (0, 0) for c in crops):
            last = case.params["channels_last"]
            if rank == 1 and not last:  # Cropping1D crops axis 1 (channel-last) only
                after = _slice_crop(crops[0])
            elif rank == 1:
                after = layers.Cropping1D(crops[0], dtype=case.dtype)
            else:
                after = getattr(layers, f"Cropping{rank}D")(
                    crops, data_format=_common(case)["data_format"], dtype=case.dtype
                )
    layer = getattr(layers, f"Conv{rank}DTranspose")(
        case.out_channels, case.kernel, padding=arg, output_padding=keras_padding,
        **_common(case), **initializers,
    )  # fmt: skip
    return layer, None, after


def _ops_pad(keras, case: Case):
    """A callable padding the presented input with `keras.ops.pad`."""
    pads = [tuple(p) for p in semantics.pads(case)]
    widths = [(0, 0)] + ([*pads, (0, 0)] if case.params["channels_last"] else [(0, 0), *pads])
    mode, value = case.params["padding_mode"], case.params["padding_value"]
    if mode == "constant":
        return lambda x: keras.ops.pad(x, widths, constant_values=value)
    return lambda x: keras.ops.pad(x, widths, mode=_OPS_MODES[mode])


def _slice_crop(crop: tuple[int, int]):
    before, after = crop
    return lambda y: y[:, :, before : y.shape[2] - after]


def keras_kernel(case: Case, weight: np.ndarray) -> np.ndarray:
    """Canonical weight -> the kernel layout of the Keras layer this peer builds."""
    return keras_weights(case, weight, _depthwise(case))
