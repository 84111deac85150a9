"""Documented disagreements between frameworks, each re-checked by a small probe.

Where a framework's own convention departs from the canonical semantics (or from its own
specification), its peer module spells the case out explicitly so that the comparison is
fair, and the disagreement is recorded here instead of being hidden: every run re-checks
each finding with the framework's native call and reports `present` or `resolved` (or
`not run` when the framework is not installed). See FINDINGS.md for the write-up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Finding:
    id: str
    title: str
    peers: tuple[str, ...]
    case: str  # the smallest case showing it, in words
    probe: Callable[[], tuple[bool, str]]  # -> (still present, what was observed)


def _onnx_model(op: str, kernel: np.ndarray, attributes: dict, n: int):
    from onnx import helper, numpy_helper

    node = helper.make_node(op, ["X", "W"], ["Y"], kernel_shape=[kernel.size], **attributes)
    graph = helper.make_graph(
        [node],
        "probe",
        [helper.make_tensor_value_info("X", 1, [1, 1, n])],
        [helper.make_tensor_value_info("Y", 1, None)],
        [numpy_helper.from_array(kernel.reshape(1, 1, -1), "W")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    return model


def _ort(model, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return session.run(None, {"X": x})[0].ravel()


def _xconv_transpose_same(x: np.ndarray, kernel: np.ndarray, stride: int) -> np.ndarray:
    import xconv

    return np.asarray(
        xconv.conv_transpose(x, kernel.reshape(1, 1, -1), stride=stride, padding="same")
    ).ravel()


_X5 = np.arange(1, 6, dtype=np.float32).reshape(1, 1, 5)


def _probe_ort_transpose_short_kernel() -> tuple[bool, str]:
    kernel = np.array([1.0, 2.0], np.float32)
    model = _onnx_model("ConvTranspose", kernel, {"strides": [3], "auto_pad": "SAME_UPPER"}, 5)
    got = _ort(model, _X5)
    want = _xconv_transpose_same(_X5, kernel, 3)
    return got.shape != want.shape, f"ONNX Runtime {got.size} outputs, xconv/Keras/JAX {want.size}"


def _probe_ort_dilated_same() -> tuple[bool, str]:
    kernel = np.array([1.0, 2.0, 3.0], np.float32)
    attributes = {"strides": [1], "dilations": [2], "auto_pad": "SAME_UPPER"}
    try:
        _ort(_onnx_model("Conv", kernel, attributes, 5), _X5)
    except Exception as error:
        return True, str(error).split("Status Message:")[-1].strip()
    return False, "ONNX Runtime now accepts dilation with SAME_UPPER"


def _probe_onnx_reference_transpose_short_kernel() -> tuple[bool, str]:
    from onnx.reference import ReferenceEvaluator

    kernel = np.array([1.0], np.float32)
    model = _onnx_model("ConvTranspose", kernel, {"strides": [3], "auto_pad": "SAME_UPPER"}, 5)
    got = ReferenceEvaluator(model).run(None, {"X": _X5})[0].ravel()
    want = _xconv_transpose_same(_X5, kernel, 3)
    differs = got.shape != want.shape or not np.array_equal(got, want)
    return differs, f"onnx.reference {got.tolist()}, xconv/Keras/JAX {want.tolist()}"


def _probe_tf_valid_transpose_short_kernel() -> tuple[bool, str]:
    import os

    import jax.numpy as jnp
    from jax import lax

    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    x = _X5.transpose(0, 2, 1)  # (N, W, C) for lax's and Keras' defaults
    kernel = np.ones((1, 1, 1), np.float32)  # k = 1, stride 3
    jax_out = lax.conv_transpose(jnp.asarray(x), jnp.asarray(kernel), (3,), "VALID")
    layer = keras.layers.Conv1DTranspose(1, 1, strides=3, use_bias=False)
    layer.build((1, 5, 1))
    layer.set_weights([kernel])
    keras_out = np.asarray(layer(x))
    want = (5 - 1) * 3 + 1  # PyTorch, ONNX and xconv "valid"
    sizes = (jax_out.shape[1], keras_out.shape[1])
    return sizes != (want, want), f"JAX {sizes[0]}, Keras {sizes[1]}, PyTorch/ONNX/xconv {want}"


FINDINGS = (
    Finding(
        "F1",
        "ONNX Runtime ConvTranspose auto_pad=SAME_UPPER/SAME_LOWER with a dilated kernel "
        "shorter than the stride returns (n-1)*s + k outputs instead of n*s",
        ("onnxruntime",),
        "conv_transpose, n=5, k=2, stride 3, padding 'same': 14 outputs instead of 15",
        _probe_ort_transpose_short_kernel,
    ),
    Finding(
        "F2",
        "ONNX Runtime Conv rejects dilation > 1 with auto_pad SAME_UPPER/SAME_LOWER "
        "(INVALID_ARGUMENT), which the ONNX operator definition allows",
        ("onnxruntime",),
        "conv, n=5, k=3, dilation 2, padding 'same'",
        _probe_ort_dilated_same,
    ),
    Finding(
        "F3",
        "The ONNX reference implementation (onnx.reference) extends a transposed SAME_UPPER "
        "output on both sides when the kernel is shorter than the stride; Keras, JAX and "
        "xconv extend at the end only",
        ("onnx",),
        "conv_transpose, n=5, k=1, stride 3, padding 'same'",
        _probe_onnx_reference_transpose_short_kernel,
    ),
)


FINDINGS = (
    *FINDINGS,
    Finding(
        "F4",
        "JAX lax.conv_transpose(padding='VALID') and Keras Conv*DTranspose(padding='valid') "
        "return n*s + max(k - s, 0) outputs (TensorFlow's convention): a kernel shorter than "
        "the stride is followed by s - k zeros that PyTorch, ONNX and xconv 'valid' omit",
        ("jax", "keras"),
        "conv_transpose, n=5, k=1, stride 3, padding 'valid': 15 outputs instead of 13",
        _probe_tf_valid_transpose_short_kernel,
    ),
)


def check(selected_peers: list[str] | None = None) -> list[dict]:
    """Re-run every probe whose frameworks were selected; one dict per finding."""
    out = []
    for finding in FINDINGS:
        record = {"id": finding.id, "title": finding.title, "peers": list(finding.peers)}
        record["case"] = finding.case
        wanted = selected_peers is None or any(
            p in selected_peers or (p == "onnx" and "onnxruntime" in selected_peers)
            for p in finding.peers
        )
        if not wanted:
            continue
        try:
            present, observed = finding.probe()
            record.update(status="present" if present else "resolved", observed=observed)
        except ImportError as error:
            record.update(status="not run", observed=str(error))
        out.append(record)
    return out
