"""The code under test: xconv, called as the case says, on one array library's arrays.

A canonical case calls `xconv.<op>` with its parameters; a dialect case runs the dialect's
layer (`conformance.dialects`). The operands are moved to the library first
(`conformance.libraries`) and the results come back as NumPy arrays in canonical layout.

A gradient case derived from a forward case (`Case.of`) is the gradient of that layer:
on PyTorch and JAX arrays it is autograd through `xconv.conv` / `conv_transpose`
(`torch.autograd`, `jax.vjp`), elsewhere xconv's VJP functions; a dialect case
differentiates the convolution the dialect's text means to xconv (the layer's own
`ConvSpec`: its padding mode, its cropping rule).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import libraries
from .availability import NotAvailable
from .cases import Arrays, Case, canonical, present
from .peers._common import activate

__all__ = ["NotAvailable", "check_available", "keywords", "run", "run_canonical"]


def _function(name: str):
    import xconv

    function = getattr(xconv, name, None)
    if function is None:
        raise NotAvailable(f"xconv.{name} is not available")
    return function


def check_available(case: Case) -> None:
    """Raise NotAvailable if this checkout of xconv cannot run `case`."""
    _function(case.op)
    if case.dialect != "canonical":
        from . import dialects

        dialects.parser()


def run(case: Case, arrays: Arrays, library: str = "numpy") -> dict[str, np.ndarray]:
    """xconv's result for the case on `library`'s arrays, in canonical layout."""
    with libraries.scope(library, case.dtype):
        if case.gradient and (case.of or case.dialect != "canonical"):
            return _layer_gradients(case, arrays, library)
        if case.dialect != "canonical":
            from . import dialects

            return dialects.run(case, arrays, library)
        return run_canonical(case, arrays, library)


def keywords(case: Case) -> dict:
    """The case's parameters as xconv keyword arguments for its operation."""
    params = dict(case.params)
    for name in ("stride", "dilation", "output_padding"):
        if isinstance(params[name], list):
            params[name] = tuple(params[name])
    if isinstance(params["padding"], list):
        params["padding"] = tuple(tuple(p) if isinstance(p, list) else p for p in params["padding"])
    if case.transposed:
        del params["padding_mode"], params["padding_value"]
    else:
        del params["output_padding"]
    params["algorithm"] = case.algorithm
    return params


def run_canonical(case: Case, arrays: Arrays, library: str = "numpy") -> dict[str, np.ndarray]:
    """Call `xconv.<op>` with the case's canonical parameters (`libraries.compiled`)."""
    function = _function(case.op)
    moved = _moved(case, arrays, library)
    options = keywords(case)
    if not case.gradient:
        y = libraries.compiled(library, lambda x, w, b: function(x, w, b, **options))(
            moved.x, moved.weight, moved.bias
        )
        return {"output": activate(case, canonical(case, libraries.to_numpy(y)))}
    grads = libraries.compiled(library, lambda g, x, w: function(g, x, w, **options))(
        moved.grad_output, moved.x, moved.weight
    )
    return _gradients(case, grads)


def _moved(case: Case, arrays: Arrays, library: str) -> Arrays:
    """The operands in `library`, the data presented as the case presents them."""
    grad = None if arrays.grad_output is None else present(case, arrays.grad_output)
    return Arrays(
        libraries.to_library(library, present(case, arrays.x)),
        libraries.to_library(library, arrays.weight, data=False),
        libraries.to_library(library, arrays.bias, data=False),
        libraries.to_library(library, grad),
    )


def _gradients(case: Case, grads) -> dict[str, np.ndarray]:
    grad_input, grad_weight, grad_bias = (
        None if g is None else libraries.to_numpy(g) for g in grads
    )
    out = {"grad_input": canonical(case, grad_input), "grad_weight": grad_weight}
    if case.bias:
        out["grad_bias"] = grad_bias
    return out


# -- the gradients of a layer -----------------------------------------------------------------


def _layer_gradients(case: Case, arrays: Arrays, library: str) -> dict[str, np.ndarray]:
    """The input, weight and bias gradients of the case's layer (see the module text)."""
    spec, case = _differentiated(case, arrays)
    moved = _moved(case, arrays, library)
    if library == "torch":
        return _gradients(case, _torch_autograd(case, spec, moved))
    if library == "jax":
        return _gradients(case, _jax_vjp(case, spec, moved))
    import xconv

    vjp = xconv.conv_transpose_vjp if case.transposed else xconv.conv_vjp
    grads = vjp(moved.grad_output, moved.x, moved.weight, spec=spec, algorithm=case.algorithm)
    return _gradients(case, grads)


def _differentiated(case: Case, arrays: Arrays):
    """`(spec, case)`: the ConvSpec to differentiate, and the case with the data layout
    that spec reads (a dialect layer's spec on canonical, channel-first data)."""
    import xconv

    if case.dialect == "canonical":
        options = {k: v for k, v in keywords(case).items() if k != "algorithm"}
        shape = case.weight_shape
        return xconv.ConvSpec.from_weight_shape(shape, transposed=case.transposed, **options), case
    from . import dialects

    spec = dialects.layer(case, arrays).spec
    channel_first = {**case.params, "channels_last": False}
    return dataclasses.replace(spec, channels_last=False), dataclasses.replace(
        case, params=channel_first
    )


def _torch_autograd(case: Case, spec, moved: Arrays):
    import xconv

    operation = xconv.conv_transpose if case.transposed else xconv.conv
    leaves = [a.clone().requires_grad_(True) for a in (moved.x, moved.weight)]
    bias = None if moved.bias is None else moved.bias.clone().requires_grad_(True)
    y = operation(leaves[0], leaves[1], bias, spec=spec, algorithm=case.algorithm)
    complex_ = y.is_complex()
    grad = moved.grad_output
    y.backward(grad.conj() if complex_ else grad)  # d/d(conj z) convention -> plain VJP

    def plain(leaf):
        if leaf is None:
            return None
        return (leaf.grad.conj() if complex_ else leaf.grad).resolve_conj()

    return plain(leaves[0]), plain(leaves[1]), plain(bias)


def _jax_vjp(case: Case, spec, moved: Arrays):
    import jax

    import xconv

    operation = xconv.conv_transpose if case.transposed else xconv.conv

    def layer(x, weight, *bias):
        return operation(x, weight, bias[0] if bias else None, spec=spec, algorithm=case.algorithm)

    @jax.jit
    def gradients(grad_output, *operands):
        return jax.vjp(layer, *operands)[1](grad_output)

    operands = [moved.x, moved.weight] + ([moved.bias] if moved.bias is not None else [])
    grads = gradients(moved.grad_output, *operands)
    return grads[0], grads[1], grads[2] if len(grads) > 2 else None
