"""`xconv check`: one layer, run in xconv and in every framework installed, one verdict each.

The layer runs in xconv on data in its dialect's order; its spec, canonical weights and
the same data in canonical order make a conformance `Case`, and each peer computes it as
the conformance suite's peers do:

- PyTorch: the code `xconv translate --to pytorch` prints for the layer, executed as
  printed, with the layer's weights;
- Keras 3: the layer's own text for a Keras layer, else its translation into Keras
  (`xconv.compat.translate`), built by Keras itself from the text;
- JAX: `lax.conv_general_dilated` / `lax.conv_transpose` with the spec's parameters;
- ONNX Runtime: a one-node `Conv` / `ConvTranspose` model;
- SciPy: `ndimage.correlate` / `signal.correlate`, for one-channel layers.

With `gradients=True` the input, weight and bias gradients of a seeded output gradient are
compared too: xconv's VJP against PyTorch's autograd through the printed code, `jax.vjp`
and Keras' gradients of its own layer (the convolution's: a Keras layer's activation
stays out of them, and Keras builds the layer from the spec without it). Each row is a
claim a user can rerun: the framework, how the layer was expressed there, the largest
absolute and relative differences, and whether they are within float rounding of the
layer's sums (`conformance.runner.tolerance`); a framework that cannot express the layer
says why.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np

from . import semantics
from .cases import Arrays, Case
from .peers import Unsupported, load_peer, peer_status
from .runner import compare

# the frameworks a check compares with, in the order of the table
FRAMEWORKS = ("pytorch", "keras", "jax", "onnxruntime", "scipy")
_PEER = {"pytorch": "torch", "keras": "keras", "jax": "jax", "onnxruntime": "onnxruntime",
         "scipy": "scipy"}  # fmt: skip
_EXPRESSED = {
    "jax": "lax.conv_general_dilated / lax.conv_transpose (explicit padding, jnp.pad)",
    "onnxruntime": "one-node ONNX Conv/ConvTranspose model (Pad node for modes)",
    "scipy": "scipy.ndimage.correlate / scipy.signal.correlate",
}


@dataclass
class Row:
    """One framework's verdict on one quantity (the output, or the gradients)."""

    framework: str
    quantity: str  # "output" or "gradients"
    status: str  # "agrees", "differs", "cannot express", "not installed", "failed"
    expressed: str = ""
    max_abs_diff: float | None = None
    max_rel_diff: float | None = None
    tolerance: float | None = None
    reason: str = ""

    @property
    def disagrees(self) -> bool:
        return self.status in ("differs", "failed")


def canonical_data(layer, array) -> np.ndarray:
    """Data in the layer's dialect order (as the layer takes it) as batched `(N, C, *S)`:
    MATLAB's `S..S x C [x N]`, Keras' and Wolfram's channels-last forms, unbatched data."""
    spec, array = layer.spec, np.asarray(array)
    rank = spec.rank
    if layer.dialect == "matlab":
        while array.ndim < rank + 2:  # a trailing channel or batch of one
            array = array[..., None]
        return array.transpose(rank + 1, rank, *range(rank))
    if array.ndim == rank + 1:
        array = array[None]
    return np.moveaxis(array, -1, 1) if spec.channels_last else array


def case_for(layer, x: np.ndarray, dtype: str, text: str | None = None) -> tuple[Case, Arrays]:
    """The conformance case `layer` computes on canonical `x`, with its own weights."""
    spec = layer.spec
    weight, bias = (None if a is None else np.asarray(a).astype(dtype)
                    for a in layer.canonical_weights())  # fmt: skip
    padding = spec.padding
    if not isinstance(padding, str):
        padding = [list(pair) for pair in padding]
    params = {
        "stride": list(spec.stride), "padding": padding, "dilation": list(spec.dilation),
        "groups": spec.groups, "padding_mode": spec.padding_mode,
        "padding_value": spec.padding_value, "channels_last": False,
        "output_padding": list(spec.output_padding),
    }  # fmt: skip
    activation = getattr(getattr(layer, "activation", None), "__name__", None)
    case = Case(
        id="xconv-check",
        dialect="canonical",
        op="conv_transpose" if spec.transposed else "conv",
        input_shape=tuple(x.shape),
        weight_shape=tuple(weight.shape),
        params=params,
        dtype=dtype,
        bias=bias is not None,
        activation=None if activation in (None, "linear") else activation,
        layer=text,
    )
    return case, Arrays(x.astype(dtype), weight, bias)


def check_layer(layer, x, *, gradients: bool = False, seed: int = 0, text: str | None = None):
    """The rows of `xconv check` for `layer` (a prepared dialect layer with its weights) on
    `x` (data in the dialect's order); `text`: the layer as the user wrote it."""
    y = np.asarray(layer(x))
    canonical_x = canonical_data(layer, x)
    case, arrays = case_for(layer, canonical_x, str(y.dtype), text)
    ours = {"output": canonical_data(layer, y)}
    rows = [_row(name, "output", case, arrays, ours, layer) for name in FRAMEWORKS]
    if not gradients:
        return rows
    # the convolution's gradients: a Keras activation stays out of them
    gradient_case = dataclasses.replace(case, op=f"{case.op}_vjp", activation=None)
    grad = np.random.default_rng(seed + 1).standard_normal(semantics.output_shape(gradient_case))
    grad_arrays = dataclasses.replace(arrays, grad_output=grad.astype(case.dtype))
    ours = _xconv_gradients(layer, grad_arrays)
    rows += [_row(name, "gradients", gradient_case, grad_arrays, ours, layer)
             for name in FRAMEWORKS]  # fmt: skip
    return rows


def _xconv_gradients(layer, arrays: Arrays) -> dict[str, np.ndarray]:
    import xconv

    spec = dataclasses.replace(layer.spec, channels_last=False)
    vjp = xconv.conv_transpose_vjp if spec.transposed else xconv.conv_vjp
    grad_input, grad_weight, grad_bias = vjp(arrays.grad_output, arrays.x, arrays.weight,
                                             spec=spec)  # fmt: skip
    out = {"grad_input": np.asarray(grad_input), "grad_weight": np.asarray(grad_weight)}
    if arrays.bias is not None:
        out["grad_bias"] = np.asarray(grad_bias)
    return out


def _row(framework: str, quantity: str, case: Case, arrays: Arrays, ours: dict, layer) -> Row:
    peer = _PEER[framework]
    version, why = peer_status(peer)  # (None, why) when the framework does not import
    if version is None:
        return Row(framework, quantity, "not installed", reason=why)
    try:
        expressed, theirs = _run(framework, case, arrays, layer)
    except Unsupported as reason:
        return Row(framework, quantity, "cannot express", reason=str(reason))
    except Exception as error:  # the framework failing is a verdict, not a crash
        return Row(framework, quantity, "failed", reason=f"{type(error).__name__}: {error}")
    return _compared(framework, quantity, expressed, case, ours, theirs)


def _run(framework: str, case: Case, arrays: Arrays, layer) -> tuple[str, dict]:
    """`(how the layer was expressed, the framework's results)`."""
    if framework == "pytorch":
        from xconv.compat.text import pytorch_text

        code, notes = pytorch_text(layer, case.spatial)
        expressed = _pytorch_summary(code)
        if notes:
            expressed += f" ({'; '.join(notes)})"
        result = load_peer("torch").run_code(code, case, arrays, layer.spec.channels_last)
        return expressed, result
    if framework == "keras":
        return _keras(case, arrays, layer)
    return _EXPRESSED[framework], load_peer(_PEER[framework]).run(case, arrays)


def _pytorch_summary(code: str) -> str:
    """The printed code's steps on one line: its padding and layout lines, its module."""
    lines = [line.strip() for line in code.splitlines()]
    module = next(line.split(" = ", 1)[1] for line in lines if line.startswith("conv = "))
    body = lines[lines.index("def layer(x):") + 1 : lines.index("return y")]
    steps = [line.split(" = ", 1)[1] for line in body if line.startswith(("x = ", "y = y"))]
    before = [step for step in steps if step.startswith(("F.pad", "pad_symmetric", "x."))]
    after = [step for step in steps if step not in before]
    return "; ".join([*before, module, *after]) + " (xconv translate's code, run as printed)"


def _keras(case: Case, arrays: Arrays, layer) -> tuple[str, dict]:
    """Keras 3 building the layer from text: the user's own for a Keras layer, else its
    translation."""
    from xconv.compat import TranslationError, translate
    from xconv.compat.text import keras_text

    activation = getattr(getattr(layer, "activation", None), "__name__", "linear")
    if case.gradient and activation != "linear":  # the convolution's gradients only
        expressed = f"keras.layers Conv layer of the spec, without its {activation}"
        return expressed, load_peer("keras").run(case, arrays)
    if layer.dialect == "keras":
        keras_layer, text = layer, case.layer or keras_text(layer)
    else:
        try:
            with warnings.catch_warnings():  # what did not carry over is not the convolution
                warnings.simplefilter("ignore")
                keras_layer = translate(layer, "keras")
        except TranslationError as error:
            raise Unsupported(str(error)) from None
        text = keras_text(keras_layer)
    channels_last = keras_layer.spec.channels_last
    keras_case = dataclasses.replace(
        case, dialect="keras", layer=text, params={**case.params, "channels_last": channels_last}
    )
    return text, load_peer("keras").run(keras_case, arrays)


def _compared(framework, quantity, expressed, case: Case, ours: dict, theirs: dict) -> Row:
    """The suite's own comparison (`conformance.runner.compare`), and the relative size
    of the largest difference."""
    status, largest, tol, reason = compare(case, ours, theirs)
    verdict = "agrees" if status == "pass" else "differs"
    return Row(framework, quantity, verdict, expressed, largest, _relative(ours, theirs), tol,
               reason)  # fmt: skip


def _relative(ours: dict, theirs: dict) -> float | None:
    """The largest `|xconv - framework| / max |framework|` over the compared arrays."""
    worst = None
    for key, mine in ours.items():
        other = theirs.get(key)
        if other is None or np.shape(other) != np.shape(mine) or not np.size(other):
            continue
        difference = np.max(np.abs(np.asarray(mine, np.complex128) - other))
        scale = np.max(np.abs(other))
        ratio = float(difference / scale) if scale else float(difference)
        worst = ratio if worst is None else max(worst, ratio)
    return worst
