"""An Inception module (GoogLeNet, Szegedy et al. 2014): four branches concatenated.

    1×1 conv (n1x1)
    1×1 reduce (n3x3red) → 3×3 conv, padding 1 (n3x3)
    1×1 reduce (n5x5red) → 5×5 conv, padding 2 (n5x5)
    3×3 max pool, stride 1, padding 1 → 1×1 projection (pool_proj)

Output depth n1x1 + n3x3 + n5x5 + pool_proj at the input's H×W. A conv with K filters
over C channels has K·C·F² weights (+ K biases) and K·C·F²·H·W multiply-adds. The naive
module (the paper's Figure 2a) has no reductions: the 3×3 and 5×5 convolutions see all
C channels, and the pool branch passes the C channels on, so its depth is
n1x1 + n3x3 + n5x5 + C. Counting is pure arithmetic; `compute` runs the module through
the same conv and pool kernels as the commands (ReLU after every conv, as GoogLeNet).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cnnrnn_cli.errors import InputError, ShapeError

COLUMNS = ("n1x1", "n3x3red", "n3x3", "n5x5red", "n5x5", "pool_proj")

# GoogLeNet, Table 1: input (C, H, W) and the six filter counts.
PRESETS = {
    "3a": ((192, 28, 28), (64, 96, 128, 16, 32, 32)),
    "3b": ((256, 28, 28), (128, 128, 192, 32, 96, 64)),
    "4a": ((480, 14, 14), (192, 96, 208, 16, 48, 64)),
    "4b": ((512, 14, 14), (160, 112, 224, 24, 64, 64)),
    "4c": ((512, 14, 14), (128, 128, 256, 24, 64, 64)),
    "4d": ((512, 14, 14), (112, 144, 288, 32, 64, 64)),
    "4e": ((528, 14, 14), (256, 160, 320, 32, 128, 128)),
    "5a": ((832, 7, 7), (256, 160, 320, 32, 128, 128)),
    "5b": ((832, 7, 7), (384, 192, 384, 48, 128, 128)),
}

# Weight names for --weights / --compute, one (K, C, F, F) array and one bias per conv.
CONV_NAMES = ("b1", "b2_reduce", "b2", "b3_reduce", "b3", "b4")


@dataclass
class Layer:
    """A conv or pool layer of a branch: kind, size F, in/out channels, padding."""

    name: str
    kind: str  # 'conv' or 'maxpool'
    size: int
    c_in: int
    c_out: int
    padding: int = 0
    weight_name: str = ""

    def params(self, bias: bool) -> int:
        if self.kind != "conv":
            return 0
        return self.c_out * self.c_in * self.size**2 + (self.c_out if bias else 0)

    def macs(self, h: int, w: int) -> int:
        return self.c_out * self.c_in * self.size**2 * h * w if self.kind == "conv" else 0


@dataclass
class Branch:
    name: str
    layers: list[Layer]
    output_shape: list[int]
    params: int
    macs: int


@dataclass
class InceptionResult:
    """Counts for the module and the naive module; `output` (C', H, W) with compute."""

    input_shape: list[int]
    filters: dict
    branches: list[Branch]
    naive: dict
    bias: bool = True
    output: object = None
    tensor: object = None
    preset: str | None = None
    branch_outputs: list = field(default_factory=list)
    seed: int | None = None  # the seed of what compute made at random
    generated: list = field(default_factory=list)  # 'tensor', 'b1_w', ...: made at random
    weights: dict = field(default_factory=dict)  # the weights compute used, given or made

    @property
    def output_shape(self) -> list[int]:
        return [sum(b.output_shape[0] for b in self.branches), *self.input_shape[1:]]

    @property
    def channels(self) -> list[dict]:
        """Which output channels come from which branch: [{branch, first, last}], 1-based
        and inclusive, in the order of the concatenation (they cover every channel once)."""
        out, first = [], 1
        for branch in self.branches:
            depth = branch.output_shape[0]
            out.append({"branch": branch.name, "first": first, "last": first + depth - 1})
            first += depth
        return out

    def branch_of(self, channel: int) -> str:
        """The branch that makes output channel `channel` (1-based)."""
        return next(c["branch"] for c in self.channels if c["first"] <= channel <= c["last"])

    @property
    def zero_channels(self) -> list[int]:
        """Output channels (1-based) that are 0 everywhere after compute: every value of
        that filter was ≤ 0 before its ReLU (a dead ReLU). [] before compute."""
        if self.output is None:
            return []
        import numpy as np

        flat = np.asarray(self.output).reshape(len(self.output), -1)
        return [int(c) + 1 for c in np.flatnonzero(~flat.any(axis=1))]

    @property
    def params(self) -> int:
        return sum(b.params for b in self.branches)

    @property
    def macs(self) -> int:
        return sum(b.macs for b in self.branches)


def module_layers(c: int, n: dict) -> list[tuple[str, list[Layer]]]:
    """The four branches as layer lists for an input with c channels."""
    return [
        ("1x1", [Layer("1×1 conv", "conv", 1, c, n["n1x1"], 0, "b1")]),
        (
            "3x3",
            [
                Layer("1×1 reduce", "conv", 1, c, n["n3x3red"], 0, "b2_reduce"),
                Layer("3×3 conv", "conv", 3, n["n3x3red"], n["n3x3"], 1, "b2"),
            ],
        ),
        (
            "5x5",
            [
                Layer("1×1 reduce", "conv", 1, c, n["n5x5red"], 0, "b3_reduce"),
                Layer("5×5 conv", "conv", 5, n["n5x5red"], n["n5x5"], 2, "b3"),
            ],
        ),
        (
            "pool",
            [
                Layer("3×3 max pool", "maxpool", 3, c, c, 1),
                Layer("1×1 proj", "conv", 1, c, n["pool_proj"], 0, "b4"),
            ],
        ),
    ]


def inception(shape=None, *, preset=None, bias=True, **filters) -> InceptionResult:
    """Shapes, parameters and MACs of the module for an input (C, H, W).

    filters: n1x1, n3x3red, n3x3, n5x5red, n5x5, pool_proj (a preset fills the missing
    ones and the input shape).
    """
    if preset is not None:
        if preset not in PRESETS:
            raise InputError("preset", f"expected one of {', '.join(PRESETS)}, got {preset!r}")
        base_shape, counts = PRESETS[preset]
        shape = shape if shape is not None else base_shape
        filters = {
            **dict(zip(COLUMNS, counts, strict=True)),
            **{k: v for k, v in filters.items() if v is not None},
        }
    if shape is None:
        raise InputError("shape", "missing: give CxHxW (or --preset)")
    shape = list(shape)
    if len(shape) != 3:
        raise ShapeError("shape", f"expected C×H×W, got {len(shape)} dimensions")
    for name in COLUMNS:
        value = filters.get(name)
        if value is None:
            raise InputError(
                name.replace("_", "-"),
                "missing: give every column of the GoogLeNet table (or --preset)",
            )
        if value < 1:
            raise InputError(name.replace("_", "-"), f"must be 1 or more, got {value}")
    c, h, w = shape
    n = {k: filters[k] for k in COLUMNS}
    branches = []
    for name, layers in module_layers(c, n):
        branches.append(
            Branch(
                name,
                layers,
                [layers[-1].c_out, h, w],
                sum(layer.params(bias) for layer in layers),
                sum(layer.macs(h, w) for layer in layers),
            )
        )
    naive_layers = [
        Layer("1×1 conv", "conv", 1, c, n["n1x1"]),
        Layer("3×3 conv", "conv", 3, c, n["n3x3"], 1),
        Layer("5×5 conv", "conv", 5, c, n["n5x5"], 2),
    ]
    naive = {
        "output_shape": [n["n1x1"] + n["n3x3"] + n["n5x5"] + c, h, w],
        "params": sum(layer.params(bias) for layer in naive_layers),
        "macs": sum(layer.macs(h, w) for layer in naive_layers),
    }
    return InceptionResult(shape, n, branches, naive, bias, preset=preset)


def check_compute_budget(result: InceptionResult) -> None:
    """Refuse, before anything is allocated, a module whose input, weights, branch
    outputs or concatenated output would not fit the budget (--max-elements)."""
    from cnnrnn_cli import budget

    c, h, w = result.input_shape
    budget.check_shape((c, h, w), "compute", "the input tensor")
    for branch in result.branches:
        for layer in branch.layers:
            if layer.kind != "maxpool":
                budget.check_shape(
                    (layer.c_out, layer.c_in, layer.size, layer.size),
                    "compute",
                    f"the weights of {branch.name}: {layer.name}",
                )
            budget.check_shape(
                (layer.c_out, h, w), "compute", f"the output of {branch.name}: {layer.name}"
            )
    budget.check_shape(result.output_shape, "compute", "the module's output")


def compute(result: InceptionResult, tensor, weights: dict | None = None, seed: int | None = None):
    """Run the module on `tensor` (C, H, W) with the given or random (He) weights.

    weights: '<conv>_w' (K, C, F, F) and '<conv>_b' (K,) for conv in CONV_NAMES.
    Returns (output (C', H, W), the four branch outputs, the weights used).
    """
    import numpy as np

    from cnnrnn_cli.core.conv import conv2d
    from cnnrnn_cli.core.pool import pool2d

    check_compute_budget(result)
    tensor = np.asarray(tensor, dtype=np.float64)
    if list(tensor.shape) != result.input_shape:
        raise ShapeError(
            "tensor",
            f"is {'×'.join(map(str, tensor.shape))} but the module "
            f"takes {'×'.join(map(str, result.input_shape))}",
        )
    rng = np.random.default_rng(seed)
    result.generated = [name for name in result.generated if name == "tensor"]
    used = dict(weights or {})
    unknown = sorted(set(used) - {f"{n}_{s}" for n in CONV_NAMES for s in "wb"})
    if unknown:
        raise InputError(
            "weights",
            f"unknown array(s) {', '.join(unknown)}; expected "
            "b1_w, b1_b, b2_reduce_w, ..., b4_w, b4_b",
        )
    outputs = []
    for branch in result.branches:
        x = tensor
        for layer in branch.layers:
            if layer.kind == "maxpool":
                x = pool2d(x, layer.size, 1, layer.padding, "max").output
                continue
            shape = (layer.c_out, layer.c_in, layer.size, layer.size)
            key = f"{layer.weight_name}_w"
            if key not in used:
                result.generated += [key, f"{layer.weight_name}_b"]
                used[key] = rng.standard_normal(shape) * np.sqrt(2 / (layer.c_in * layer.size**2))
                used[f"{layer.weight_name}_b"] = np.zeros(layer.c_out)
            w = np.asarray(used[key], dtype=np.float64).reshape(
                shape if np.size(used[key]) == np.prod(shape) else np.shape(used[key])
            )
            if w.shape != shape:
                raise ShapeError(
                    key,
                    f"is {'×'.join(map(str, w.shape))} but must be "
                    f"{'×'.join(map(str, shape))} for {branch.name}: "
                    f"{layer.name}",
                )
            b = used.get(f"{layer.weight_name}_b")
            x = np.maximum(conv2d(x, w, 1, layer.padding, bias=b).output, 0)  # ReLU
        outputs.append(x)
    result.weights = used
    return np.concatenate(outputs, axis=0), outputs, used
