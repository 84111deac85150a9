"""ONNX Runtime: a `Conv` or `ConvTranspose` node built with `onnx.helper`, run on the CPU.

Translation: `"valid"`, `"same"` and `"same_lower"` are the node's own `auto_pad` VALID,
SAME_UPPER and SAME_LOWER (transposed `"same"` is SAME_UPPER too) except where ONNX Runtime
departs from the ONNX definition (dilated SAME, transposed SAME with a kernel shorter
than the stride: see FINDINGS.md), which get explicit pads; other zero padding and
transposed cropping are the node's `pads`. Other padding modes put a `Pad` node in front
(`constant` with a value, `reflect`, `edge`, `wrap`); ONNX has no symmetric mode, so
symmetric padding is spelled with reversing `Slice` nodes and a `Concat`. ONNX convolves
channel-first only, so channel-last cases are compared in canonical layout; unbatched
input gets a batch axis of one. ONNX tensors are real and an inference session has no
gradients.
"""

from __future__ import annotations

import numpy as np

from .. import semantics
from ..cases import Arrays, Case
from ._common import activate, require

NAME = "onnxruntime"
OPSET = 21
_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge"}
_PAD_MODES["circular"] = "wrap"
_DTYPES = {"float16": 10, "float32": 1}  # onnx.TensorProto elem types


def version() -> str:
    import onnx
    import onnxruntime

    return f"{onnxruntime.__version__} (onnx {onnx.__version__}, opset {OPSET})"


def run(case: Case, arrays: Arrays) -> dict[str, np.ndarray]:
    import onnxruntime as ort

    require(not case.gradient, "an ONNX Runtime inference session computes no gradients")
    require(not case.dtype.startswith("complex"), "ONNX Conv has no complex tensors")
    require(
        case.dtype in _DTYPES,
        "ONNX Runtime's CPU provider implements Conv and ConvTranspose for float16 and "
        "float32 only (NOT_IMPLEMENTED for double)",
    )
    model = build_model(case, arrays)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    x = arrays.x if case.batched else arrays.x[None]
    (y,) = session.run(None, {"X": x})
    return {"output": activate(case, y if case.batched else y[0])}


def build_model(case: Case, arrays: Arrays):
    """The one-node model (plus padding nodes where the mode needs them)."""
    from onnx import helper, numpy_helper

    elem = _DTYPES[case.dtype]
    nodes, initializers = [], [numpy_helper.from_array(arrays.weight, "W")]
    inputs = ["P" if _needs_pad(case) else "X", "W"]
    if arrays.bias is not None:
        initializers.append(numpy_helper.from_array(arrays.bias, "B"))
        inputs.append("B")
    if _needs_pad(case):
        nodes += _pad_nodes(case, "X", "P", initializers)
    attributes = {
        "kernel_shape": list(case.kernel),
        "strides": list(case.per_dim("stride")),
        "dilations": list(case.per_dim("dilation")),
        "group": case.params["groups"],
    }
    attributes.update(_padding_attributes(case))
    op = "ConvTranspose" if case.transposed else "Conv"
    nodes.append(helper.make_node(op, inputs, ["Y"], **attributes))
    batch = case.input_shape[0] if case.batched else 1
    x_info = helper.make_tensor_value_info("X", elem, [batch, *case.input_shape[-case.rank - 1 :]])
    y_info = helper.make_tensor_value_info("Y", elem, None)
    graph = helper.make_graph(nodes, "xconv_conformance", [x_info], [y_info], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 10
    return model


def _needs_pad(case: Case) -> bool:
    return not case.transposed and not semantics.uses_constant_zero(case)


def _padding_attributes(case: Case) -> dict:
    padding = case.params["padding"]
    if _needs_pad(case):
        return {"pads": [0] * (2 * case.rank)}
    if case.transposed:
        output_padding = list(case.per_dim("output_padding"))
        crops = semantics.pads(case)
        if padding == "same" and not any(output_padding) and all(a >= 0 for _, a in crops):
            return {"auto_pad": "SAME_UPPER"}
        # A kernel shorter than the stride makes the "same" crop negative: ONNX pads
        # cannot be, and SAME_UPPER then stops at (n-1)*s + k (finding F1), so the
        # extension is spelled as output_padding, which ONNX fills with zeros. ONNX
        # Runtime also wants output_padding < stride: what is larger comes off the crop.
        stride = case.per_dim("stride")
        pads = [list(pair) for pair in crops]
        for i, s in enumerate(stride):
            if pads[i][1] < 0:
                output_padding[i] -= pads[i][1]
                pads[i][1] = 0
            if output_padding[i] >= s:
                fold = min(output_padding[i], pads[i][1])
                output_padding[i] -= fold
                pads[i][1] -= fold
        require(
            all(p < s for p, s in zip(output_padding, stride, strict=True)),
            "ONNX Runtime requires output_padding < stride (this case needs more zeros at "
            "the end than the stride and the cropping allow)",
        )
        crops = [tuple(pair) for pair in pads]
        out = {"output_padding": output_padding} if any(output_padding) else {}
        return {**out, "pads": [b for b, _ in crops] + [a for _, a in crops]}
    auto = {"valid": "VALID", "same": "SAME_UPPER", "same_lower": "SAME_LOWER"}
    dilated = set(case.per_dim("dilation")) != {1}
    if isinstance(padding, str) and padding in auto and (padding == "valid" or not dilated):
        return {"auto_pad": auto[padding]}
    # ONNX Runtime rejects dilation with SAME_UPPER / SAME_LOWER (finding F2): explicit pads
    pads = semantics.pads(case)
    return {"pads": [b for b, _ in pads] + [a for _, a in pads]}


def _pad_nodes(case: Case, source: str, target: str, initializers: list) -> list:
    from onnx import helper, numpy_helper

    pads = semantics.pads(case)
    mode, value = case.params["padding_mode"], case.params["padding_value"]
    if mode != "symmetric":
        widths = [0, 0, *(b for b, _ in pads), 0, 0, *(a for _, a in pads)]
        initializers.append(numpy_helper.from_array(np.array(widths, np.int64), "pads"))
        inputs = [source, "pads"]
        if mode == "constant":
            fill = np.array(value, dtype=case.dtype)
            initializers.append(numpy_helper.from_array(fill, "fill"))
            inputs.append("fill")
        return [helper.make_node("Pad", inputs, [target], mode=_PAD_MODES[mode])]
    nodes, current = [], source
    for i, ((before, after), n) in enumerate(zip(pads, case.spatial, strict=True)):
        axis = 2 + i
        parts = []
        if before:  # x[before-1 :: -1], the first `before` samples reversed
            parts.append(_reverse_slice(nodes, initializers, current, axis, before - 1, -n - 1))
        parts.append(current)
        if after:  # x[n-1 : n-1-after : -1], the last `after` samples reversed
            stop = n - 1 - after if n - 1 - after >= 0 else -n - 1
            parts.append(_reverse_slice(nodes, initializers, current, axis, n - 1, stop))
        name = target if i == case.rank - 1 else f"sym{i}"
        nodes.append(helper.make_node("Concat", parts, [name], axis=axis))
        current = name
    return nodes


def _reverse_slice(nodes, initializers, source: str, axis: int, start: int, stop: int) -> str:
    from onnx import helper, numpy_helper

    tag = f"rev{len(nodes)}"
    for suffix, value in (("s", start), ("e", stop), ("a", axis), ("t", -1)):
        initializers.append(numpy_helper.from_array(np.array([value], np.int64), tag + suffix))
    inputs = [source, tag + "s", tag + "e", tag + "a", tag + "t"]
    nodes.append(helper.make_node("Slice", inputs, [tag]))
    return tag
