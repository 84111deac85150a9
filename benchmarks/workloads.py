"""The benchmark workloads of issues 3 and 4, as data.

Every row is channel-first float32. `op` says which xconv function it times:
"forward" (`xconv.conv`), "transpose" (`xconv.conv_transpose`, weight `(C, F/g, *k)`),
"backward" (`xconv.conv_vjp`: input and weight gradients of the forward layer), or
"torch" / "jax": forward plus backward on that framework's own arrays (torch autograd;
`jax.vjp` under `jax.jit`), xconv on those arrays against the framework's convolution.
`target` names the speed target the row is held to (see `TARGETS`). A `prepared` forward
row times xconv through a plan (`xconv.plan`) called again with the same weight, which
keeps the weight in its algorithm's form (the FFT spectrum), as a layer does; the peers
run their usual forward call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Workload:
    name: str
    batch: int
    in_channels: int
    out_channels: int
    spatial: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...] | None = None  # None: 1 in every dimension
    padding: tuple[int, ...] | None = None  # symmetric padding (cropping for "transpose")
    dilation: tuple[int, ...] | None = None
    groups: int = 1
    op: str = "forward"
    target: str = "gemm"
    prepared: bool = False

    @property
    def rank(self) -> int:
        return len(self.spatial)

    def per_dim(self, field: str, default: int) -> tuple[int, ...]:
        value = getattr(self, field)
        return (default,) * self.rank if value is None else value

    @property
    def options(self) -> dict:
        """Keyword arguments shared by xconv's functions for this row."""
        return {
            "stride": self.per_dim("stride", 1),
            "padding": self.per_dim("padding", 0),
            "dilation": self.per_dim("dilation", 1),
            "groups": self.groups,
        }

    @property
    def x_shape(self) -> tuple[int, ...]:
        return (self.batch, self.in_channels, *self.spatial)

    @property
    def weight_shape(self) -> tuple[int, ...]:
        if self.op == "transpose":
            return (self.in_channels, self.out_channels // self.groups, *self.kernel)
        return (self.out_channels, self.in_channels // self.groups, *self.kernel)

    @property
    def out_spatial(self) -> tuple[int, ...]:
        s, p, d = (self.per_dim(f, v) for f, v in (("stride", 1), ("padding", 0), ("dilation", 1)))
        if self.op == "transpose":
            return tuple(
                (n - 1) * si - 2 * pi + (k - 1) * di + 1
                for n, k, si, pi, di in zip(self.spatial, self.kernel, s, p, d, strict=True)
            )
        return tuple(
            (n + 2 * pi - (k - 1) * di - 1) // si + 1
            for n, k, si, pi, di in zip(self.spatial, self.kernel, s, p, d, strict=True)
        )

    @property
    def out_shape(self) -> tuple[int, ...]:
        return (self.batch, self.out_channels, *self.out_spatial)

    @property
    def flops(self) -> int:
        """Multiply-adds times two of the forward layer (backward: both gradients)."""
        positions = math.prod(self.out_spatial if self.op != "transpose" else self.spatial)
        per_position = self.out_channels * self.in_channels // self.groups
        flops = 2 * self.batch * positions * per_position * math.prod(self.kernel)
        return {"backward": 2, "torch": 3, "jax": 3}.get(self.op, 1) * flops

    def describe(self) -> str:
        parts = [f"N{self.batch} C{self.in_channels} F{self.out_channels}"]
        parts.append("x".join(map(str, self.spatial)))
        parts.append("k" + "x".join(map(str, sorted(set(self.kernel)))))
        for field, letter, default in (
            ("stride", "s", 1),
            ("padding", "p", 0),
            ("dilation", "d", 1),
        ):
            values = set(self.per_dim(field, default))
            if values != {default}:
                parts.append(letter + "x".join(map(str, sorted(values))))
        if self.groups > 1:
            parts.append(f"g{self.groups}")
        if self.op != "forward":
            parts.append(self.op)
        if self.prepared:
            parts.append("prepared")
        return " ".join(parts)


@dataclass(frozen=True)
class Target:
    """xconv's time at most `max_ratio` times the peer's (the best of a peer family)."""

    peer: str
    max_ratio: float

    def describe(self) -> str:
        if self.max_ratio < 1:
            return f"{1 / self.max_ratio:.0f}x faster than {self.peer}"
        return f"<= {self.max_ratio:g}x {self.peer}"


TARGETS: dict[str, tuple[Target, ...]] = {
    "gemm": (Target("torch", 1.0),),
    "grouped": (Target("torch", 1.5),),
    "large": (Target("torch", 0.1), Target("scipy", 1.0)),
    "large-backward": (Target("torch", 0.1),),
    "torch-native": (Target("torch", 1.1),),
    "torch-large": (Target("torch", 0.1),),
    "jax-native": (Target("jax", 1.1),),
    "jax-large": (Target("jax", 0.1),),
    "multichannel": (Target("torch", 1 / 3),),
    "multichannel-prepared": (Target("torch", 0.2),),
}

# 1x1 layers are also held to a fraction of the equivalent numpy.matmul's throughput
MATMUL_EFFICIENCY_TARGET = 0.85


def _w(name, n, c, f, spatial, k, **options) -> Workload:
    rank = len(spatial)

    def dims(value):
        return None if value is None else (value,) * rank if isinstance(value, int) else value

    return Workload(
        name,
        n,
        c,
        f,
        tuple(spatial),
        dims(k),
        stride=dims(options.pop("s", None)),
        padding=dims(options.pop("p", None)),
        dilation=dims(options.pop("d", None)),
        **options,
    )


WORKLOADS: tuple[Workload, ...] = (
    _w("resnet3x3", 4, 64, 64, (56, 56), 3, p=1),
    _w("resnet1x1", 4, 256, 64, (56, 56), 1),
    _w("stem7x7s2", 4, 3, 64, (224, 224), 7, s=2, p=3),
    _w("s2_3x3", 4, 128, 128, (56, 56), 3, s=2, p=1),
    _w("depthwise3", 4, 256, 256, (56, 56), 3, p=1, groups=256, target="grouped"),
    _w("resnext_g32", 4, 128, 128, (28, 28), 3, p=1, groups=32, target="grouped"),
    _w("dilated_d2", 2, 256, 256, (32, 32), 3, p=2, d=2),
    _w("dw31", 2, 64, 64, (64, 64), 31, p=15, groups=64, target="large"),
    _w("blur25", 1, 1, 1, (2048, 2048), 25, p=12, target="large"),
    _w("fir1025", 1, 1, 1, (1_000_000,), 1025, target="large"),
    _w("conv3d", 1, 16, 16, (32, 32, 32), 3, p=1),
    _w("vol15", 1, 1, 1, (96, 96, 96), 15, p=7, target="large"),
    _w("wav1d", 4, 1, 512, (16000,), 10, s=5),
    # issue 17: large kernels over several channels, one-shot and with prepared weights
    _w("mc21", 1, 8, 8, (256, 256), 21, p=10, target="multichannel"),
    _w("mc21_prep", 1, 8, 8, (256, 256), 21, p=10, target="multichannel-prepared", prepared=True),
    _w("mc9_3d", 1, 4, 4, (48, 48, 48), 9, p=4, target="multichannel"),
    _w("mc9_3d_prep", 1, 4, 4, (48, 48, 48), 9, p=4, target="multichannel-prepared", prepared=True),
    # issue 4: rows whose xconv function may not exist yet are skipped
    _w("tconv4s2", 4, 64, 32, (28, 28), 4, s=2, p=1, op="transpose"),
    _w("resnet3x3_bwd", 4, 64, 64, (56, 56), 3, p=1, op="backward"),
    _w(
        "dw31_bwd", 2, 64, 64, (64, 64), 31, p=15, groups=64, op="backward", target="large-backward"
    ),
    # issue 12: forward + backward on the frameworks' own arrays
    _w("resnet3x3_torch", 4, 64, 64, (56, 56), 3, p=1, op="torch", target="torch-native"),
    _w("dw31_torch", 2, 64, 64, (64, 64), 31, p=15, groups=64, op="torch", target="torch-large"),
    _w("resnet3x3_jax", 4, 64, 64, (56, 56), 3, p=1, op="jax", target="jax-native"),
    _w("dw31_jax", 2, 64, 64, (64, 64), 31, p=15, groups=64, op="jax", target="jax-large"),
)

# workloads whose peer times are quoted in issues 3 and 4 (PyTorch 2.13, 2 cores, ms)
QUOTED_TORCH_MS = {
    "resnet3x3": 6.1,
    "resnet1x1": 1.7,
    "stem7x7s2": 6.6,
    "s2_3x3": 4.9,
    "depthwise3": 1.5,
    "resnext_g32": 0.43,
    "dilated_d2": 5.3,
    "dw31": 136,
    "blur25": 267,
    "fir1025": 326,
    "conv3d": 25,
    "vol15": 290,
    "wav1d": 2.1,
    "tconv4s2": 0.84,
}


def by_name(names) -> tuple[Workload, ...]:
    """The workloads called `names` (all of them for an empty selection)."""
    if not names:
        return WORKLOADS
    known = {w.name: w for w in WORKLOADS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(f"unknown workload(s) {unknown}; known: {sorted(known)}")
    return tuple(known[n] for n in names)
