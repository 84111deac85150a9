"""ONNX Runtime's compiled convolution kernels (MLAS, optional): the GEMM-bound layers.

xconv's own GEMM engine multiplies with OpenBLAS from Python, one strided copy and one
call at a time; ONNX Runtime's `Conv` and `ConvTranspose` run im2col and a packed GEMM in
one compiled pass (and, with the weight known when the session is built, the blocked
NCHWc kernels with the weight reordered once). Two kinds of session:

- one-shot calls: the weight is a graph input, so one session serves every weight (and
  every input shape) of a layer's attributes; sessions are kept per attributes and
  thread count (`SESSIONS` of them, least recently used dropped). A call whose weight
  equals the previous call's (an inference loop) runs a prepacked session instead, built
  on that second call: each node keeps a copy of its last weight to compare
  (`REPEATS` nodes, weights up to `REPEAT_BYTES`). A 2-D depthwise layer is prepacked
  on its first call: its blocked kernel ran 2-9x faster than the weight-input one, and a
  session takes under a millisecond to build.
- prepared weights (a plan from `xconv.plan`, a dialect layer): the weight is an
  initializer, prepacked when the session is built; the session is kept among the
  holder's `PreparedWeights` with a copy of the weight, and rebuilt when the weight
  changes, as the FFT path keeps a spectrum.

ONNX Runtime's CPU kernels take float32 (and float16, which xconv computes in float32):
other dtypes stay on xconv's own routes. Sessions run on `workers()` threads (one in a
Dask task: `xconv.thread_limit`), and their threads stop spinning when a call returns,
so that they take no core from the BLAS or NumPy work that follows.

Installed by `pip install "xconv[cpu]"` (onnxruntime, and onnx to write the graphs);
`XCONV_ONNXRUNTIME=0` switches the route off (read once, at the first plan).
"""

from __future__ import annotations

import functools
import importlib.util
import os
from dataclasses import dataclass

import numpy as np

from ..._recent import Recent
from ._threads import workers

OPSET = 17
SESSIONS = 64  # one-shot sessions kept (a few KB each, plus ONNX Runtime's thread pools)
REPEATS = 8  # nodes whose last weight is kept, with its prepacked session once repeated
REPEAT_BYTES = 16 * 2**20  # larger weights are not copied to be compared
MISSING = 'algorithm="onnxruntime" needs ONNX Runtime: pip install "xconv[cpu]"'


@functools.cache
def available() -> bool:
    """Whether onnxruntime and onnx are installed (imported only when a session is first
    built) and the route is not switched off by `XCONV_ONNXRUNTIME=0`."""
    if os.environ.get("XCONV_ONNXRUNTIME", "").strip() == "0":
        return False
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


@dataclass(frozen=True)
class Node:
    """One ONNX `Conv` or `ConvTranspose` node's attributes (ONNX's own conventions:
    `pads` lists every axis' start, then every axis' end)."""

    op: str  # "Conv" or "ConvTranspose"
    kernel_shape: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads: tuple[int, ...]
    group: int

    @classmethod
    def conv(cls, spec, padding=None) -> Node:
        """The `Conv` of correlation `spec` with `(before, after)` zero `padding` pairs."""
        pairs = padding if padding is not None else ((0, 0),) * spec.rank
        pads = tuple(b for b, _ in pairs) + tuple(a for _, a in pairs)
        return cls("Conv", spec.kernel_size, spec.stride, spec.dilation, pads, spec.groups)

    def attributes(self) -> dict:
        return {
            "kernel_shape": list(self.kernel_shape),
            "strides": list(self.strides),
            "dilations": list(self.dilations),
            "pads": list(self.pads),
            "group": self.group,
        }


def run(
    node: Node, x: np.ndarray, weight: np.ndarray, prepared=None, prepack: bool = False
) -> np.ndarray:
    """`node` applied to float32 `x` with `weight`: with `prepared` (a `PreparedWeights`)
    by a session that holds the weight prepacked; else by a one-shot session, or by a
    prepacked one where the same weight came with the previous call of this node (or
    with `prepack`, at once: where prepacking pays on the first call)."""
    threads = workers()
    x = np.ascontiguousarray(x)
    if prepared is not None:
        session = prepared.form(
            np, ("onnxruntime", node, threads), weight, lambda w: _session(node, threads, w)
        )
        return session.run(None, {"x": x})[0]
    session = _repeated(node, threads, weight, prepack)
    if session is not None:
        return session.run(None, {"x": x})[0]
    session = _one_shot(node, threads)
    return session.run(None, {"x": x, "w": np.ascontiguousarray(weight)})[0]


_kept = Recent(SESSIONS)  # one-shot sessions by (node, threads)
_seen = Recent(REPEATS)  # the last weight of a node's one-shot calls, by (node, threads)


def _one_shot(node: Node, threads: int):
    """The kept session of `node` on `threads` with the weight as an input."""
    session = _kept.get((node, threads))
    if session is None:
        session = _session(node, threads)  # built outside the lock: 1-6 ms
        _kept.put((node, threads), session)
    return session


class _Seen:
    """The last weight of a node's one-shot call, and its prepacked session once the same
    weight came twice in a row (an inference loop, a layer called again)."""

    def __init__(self, weight: np.ndarray) -> None:
        self.weight = np.array(weight, copy=True)
        self.session = None


def _repeated(node: Node, threads: int, weight: np.ndarray, at_once: bool = False):
    """The prepacked session of `node` when `weight` equals the one its previous call had
    (comparing costs a pass over the small weight, and sees changes made in place),
    else None, remembering this weight (`at_once`: its session, built now). Weights over
    `REPEAT_BYTES` are not kept."""
    if weight.nbytes > REPEAT_BYTES:
        return None
    seen = _seen.get((node, threads))
    same = seen is not None and seen.weight.shape == weight.shape
    if same and np.array_equal(seen.weight, weight):
        if seen.session is None:
            seen.session = _session(node, threads, seen.weight)
        return seen.session
    seen = _Seen(weight)
    if at_once:
        seen.session = _session(node, threads, seen.weight)
    _seen.put((node, threads), seen)
    return seen.session


def forget_sessions() -> None:
    """Drop every kept one-shot session and every remembered weight."""
    _kept.clear()
    _seen.clear()


def _session(node: Node, threads: int, weight: np.ndarray | None = None):
    """An InferenceSession of the one-node graph `y = node(x, w)` (float32, any shape);
    with `weight`, `w` is an initializer holding a copy of it."""
    if not available():
        raise ImportError(MISSING)
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, None)]
    initializers = []
    if weight is None:
        inputs.append(helper.make_tensor_value_info("w", TensorProto.FLOAT, None))
    else:
        initializers.append(numpy_helper.from_array(np.asarray(weight, np.float32), "w"))
    graph = helper.make_graph(
        [helper.make_node(node.op, ["x", "w"], ["y"], **node.attributes())],
        "xconv",
        inputs,
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = min(model.ir_version, onnx.IR_VERSION, 8)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3  # errors only
    # threads spin between the parallel sections of a run (a sleeping pool woke per
    # section: ConvTranspose 2.85 ms against 2.3 spinning), and sleep as soon as the run
    # returns: the BLAS, NumPy or other libraries' work after a call needs the cores
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    options.add_session_config_entry("session.force_spinning_stop", "1")
    return onnxruntime.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )


__all__ = ["MISSING", "Node", "available", "forget_sessions", "run"]
