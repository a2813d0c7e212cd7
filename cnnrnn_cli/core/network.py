"""A network summary: shapes, parameters, buffers, MACs, activations and receptive fields
through a tree of layers with residual and concatenated branches. Pure integer arithmetic
(and fractions for the jump of a transposed layer), no NumPy: `outsize` must start fast.

Counts, for an input with C channels and a layer with c outputs and g groups:

    conv    c·(C/g)·Fh·Fw weights (+ c biases),  MACs c·(C/g)·Fh·Fw·H'·W'
    convT   C·(c/g)·Fh·Fw weights (+ c biases),  MACs C·(c/g)·Fh·Fw·H·W
    linear  n·F weights (+ n biases),            MACs n·F (×T on a T×D sequence)
    bn      2C parameters (γ, β), 2C buffers (running mean and variance), no MACs
    rnn/gru/lstm  g·(H(D+H) + 2H) parameters per direction, g = 1, 3, 4;
            MACs T·g·H(D+H) per direction (weights only)

Receptive field r, jump j and start u (Araujo, Norris and Sim, Distill 2019), per axis,
from r = j = 1, u = 0 at the input: u ← u − P_lo·j, r ← r + d(k−1)·j, j ← j·s. Ints,
and fractions only when a transposed layer or an adaptive pool divides the jump.
"""

from __future__ import annotations

from cnnrnn_cli.core.sizes import (
    AXES,
    VALUE_MAX,
    _check_pool_padding,
    conv_dim,
    pair,
    size_warnings,
    transposed_dim,
)
from cnnrnn_cli.errors import InputError, ShapeError, shape_str

CONV_KINDS = ("conv", "convT")
POOL_KINDS = ("maxpool", "avgpool")
RECURRENT = {"rnn": 1, "gru": 3, "lstm": 4}  # gates g
ELEMENTWISE = ("bn", "relu", "act", "dropout")
LEAF_KINDS = (
    "conv",
    "convT",
    "maxpool",
    "avgpool",
    "adaptiveavgpool",
    "flatten",
    "linear",
    "bn",
    "relu",
    "act",
    "dropout",
    "rnn",
    "gru",
    "lstm",
)
BLOCK_KINDS = ("res", "cat")
# Bounds on a spec, so that a typo or a hostile spec is refused rather than worked on.
MAX_NODES = 20_000
MAX_DEPTH = 16


class Op:
    """One layer of a spec. `values`: the keys given (k, s, p, d, c, g, ceil, op, bias, o,
    n, h, bidirectional, f, p_drop), already numbers; `item`: its ;-item label ('4.1.2')."""

    __slots__ = ("kind", "values", "text", "item")

    def __init__(self, kind: str, values: dict, text: str = "", item: str = ""):
        self.kind, self.values, self.text, self.item = kind, values, text, item

    def get(self, key, default=None):
        return self.values.get(key, default)

    def __eq__(self, other) -> bool:
        return isinstance(other, Op) and (self.kind, self.values) == (other.kind, other.values)

    __hash__ = None

    def __repr__(self) -> str:
        return f"Op({self.kind!r}, {self.values!r})"


class Block:
    """`res( MAIN )`, `res( MAIN | SHORTCUT )` or `cat( B1 | B2 | … )`: paths of nodes."""

    __slots__ = ("kind", "paths", "item")

    def __init__(self, kind: str, paths: list, item: str = ""):
        self.kind, self.paths, self.item = kind, paths, item

    @property
    def text(self) -> str:
        if self.kind == "res":
            return "res (projection)" if len(self.paths) == 2 else "res (identity)"
        return f"cat ({len(self.paths)} paths)"

    def __eq__(self, other) -> bool:
        return isinstance(other, Block) and (self.kind, self.paths) == (other.kind, other.paths)

    __hash__ = None

    def __repr__(self) -> str:
        return f"Block({self.kind!r}, {self.paths!r})"


class Flow:
    """What flows between layers: an image (C×H×W, H×W or N; `channels` None when there is
    no channel axis), a flat vector (F) or a sequence (T×D), with its receptive field."""

    __slots__ = ("mode", "channels", "spatial", "rf", "jump", "start")

    def __init__(self, mode, channels, spatial, rf=None, jump=None, start=None):
        self.mode, self.channels, self.spatial = mode, channels, list(spatial)
        self.rf, self.jump, self.start = rf, jump, start

    @property
    def shape(self) -> list[int]:
        if self.mode == "image":
            return ([self.channels] if self.channels is not None else []) + self.spatial
        return list(self.spatial)

    def copy(self) -> Flow:
        return Flow(self.mode, self.channels, self.spatial, self.rf, self.jump, self.start)


class Record:
    """One spec layer's row: its output shape, costs and geometry (per axis, or None)."""

    __slots__ = (
        "kind",
        "spec",
        "item",
        "depth",
        "shape",
        "params",
        "buffers",
        "macs",
        "rf",
        "jump",
        "start",
        "exact",
        "inputs",
        "dims",
        "children",
        "_geometry",
    )

    def __init__(self, kind, spec, item, depth, flow: Flow, params, buffers, macs, exact=True):
        self.kind, self.spec, self.item, self.depth = kind, spec, item, depth
        self.shape = flow.shape
        self.params, self.buffers, self.macs = params, buffers, macs
        self.rf, self.jump, self.start = flow.rf, flow.jump, flow.start
        self.exact = exact
        self.inputs = None  # a linear layer's in-features
        self.dims = []
        self.children = 0  # records inside a block (they come before it)
        self._geometry = None  # (receptive_field, jumps, rf_start), made when first asked

    def geometry(self) -> tuple:
        """(receptive_field, jumps, rf_start) as printed: ints, or floats where a
        transposed layer made a fraction; each None when the field is unknown."""
        if self._geometry is None:
            if self.rf is None:
                self._geometry = (None, None, None)
            else:
                self._geometry = (
                    [_num(x) for x in self.rf],
                    [_num(x) for x in self.jump],
                    [_num(x + 1) for x in self.start],
                )
        return self._geometry

    @property
    def flops(self):
        return None if self.macs is None else 2 * self.macs

    @property
    def activations(self) -> int:
        return _prod(self.shape)

    @property
    def receptive_field(self):
        return self.geometry()[0]

    @property
    def jumps(self):
        return self.geometry()[1]

    @property
    def rf_start(self):
        """1-based, unclamped: Araujo's u₀ + 1 (0 or less lies in the padding)."""
        return self.geometry()[2]

    def as_dict(self) -> dict:
        out = {
            "kind": self.kind,
            "spec": self.spec,
            "item": self.item,
            "depth": self.depth,
            "shape": self.shape,
            "params": self.params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "activations": self.activations,
            "receptive_field": _squash(self.receptive_field),
            "jump": _squash(self.jumps),
            "rf_start": _squash(self.rf_start),
            "exact": self.exact,
        }
        if self.kind == "linear":
            out["in"] = self.inputs
        return out


class Network:
    """The records of a spec, in the order written (a block's record after its children)."""

    def __init__(self, input: list[int], records: list[Record], output: list[int], warnings):
        self.input, self.records, self.warnings = input, records, warnings
        self.output_shape = output
        self.fold = None  # the rich view's --depth

    @property
    def output(self):
        return self.output_shape

    @property
    def exact(self) -> bool:
        return all(r.exact for r in self.records)

    def total(self, attr: str):
        values = [getattr(r, attr) for r in self.records]
        return None if any(v is None for v in values) else sum(values)

    @property
    def params(self):
        return self.total("params")

    @property
    def buffers(self):
        return self.total("buffers")

    @property
    def macs(self):
        return self.total("macs")

    @property
    def flops(self):
        macs = self.macs
        return None if macs is None else 2 * macs

    @property
    def activations(self) -> int:
        return sum(r.activations for r in self.records)

    @property
    def totals(self) -> dict:
        return {
            "params": self.params,
            "buffers": self.buffers,
            "macs": self.macs,
            "flops": self.flops,
            "activations": self.activations,
        }

    @property
    def layers(self) -> list[dict]:
        return [r.as_dict() for r in self.records]


def _squash(values):
    """[3, 3] -> 3: one number when every axis agrees; None stays None."""
    if values is None:
        return None
    return values[0] if len(set(values)) == 1 else values


def _num(x):
    if type(x) is int:
        return x
    return int(x) if x.denominator == 1 else float(x)


def _prod(values) -> int:
    out = 1
    for v in values:
        out *= v
    return out


def first_leaf(nodes):
    for node in nodes:
        if isinstance(node, Op):
            return node
        for path in node.paths:
            leaf = first_leaf(path)
            if leaf is not None:
                return leaf
    return None


def summarize(input_shape: list[int], nodes: list) -> Network:
    """Every record of the spec `nodes` (Op and Block trees) for an input N, HxW or CxHxW
    (a HxW input is T×D when the first layer is recurrent)."""
    shape = list(input_shape)
    leaf = first_leaf(nodes)
    if leaf is not None and leaf.kind in RECURRENT:
        if len(shape) != 2:
            raise ShapeError(
                f"layers: layer {leaf.item} ({leaf.text})",
                f"a recurrent layer reads a T×D input, got {shape_str(shape)}",
            )
        flow = Flow("seq", None, shape)
    else:
        if len(shape) > 3:
            raise InputError("input", f"expected N, HxW or CxHxW, got {len(shape)} dimensions")
        spatial = shape[-2:] if len(shape) >= 2 else shape
        one = [1] * len(spatial)
        flow = Flow(
            "image", shape[0] if len(shape) == 3 else None, spatial, one, list(one), [0] * len(one)
        )
    run = _Run()
    out = run.path(nodes, flow, 0)
    for r in run.records:
        for name in ("params", "buffers", "macs"):
            _bounded(f"layers: layer {r.item}", name, getattr(r, name))
    net = Network(shape, run.records, out.shape, run.warnings)
    for name, value in net.totals.items():
        _bounded("layers: totals", name, value)
    return net


_COUNTED = {
    "params": "parameter count",
    "buffers": "buffer count",
    "macs": "MAC count",
    "flops": "FLOP count",
    "activations": "activation count",
}


def _bounded(where: str, what: str, value) -> None:
    if value is not None and value > VALUE_MAX:
        raise InputError(
            where,
            f"the {_COUNTED[what]} leaves the int64 range (more than 2⁶³−1); no framework "
            "could build this network",
        )


class _Run:
    def __init__(self):
        self.records: list[Record] = []
        self.warnings: list[str] = []

    def path(self, nodes, flow: Flow, depth: int) -> Flow:
        for node in nodes:
            flow = (
                self.block(node, flow, depth)
                if isinstance(node, Block)
                else (self.leaf(node, flow, depth))
            )
        return flow

    # --- branches -------------------------------------------------------------------

    def block(self, block: Block, flow: Flow, depth: int) -> Flow:
        where = f"layers: layer {block.item} ({block.kind})"
        first = len(self.records)
        outs = [self.path(p, flow.copy(), depth + 1) if p else flow.copy() for p in block.paths]
        if block.kind == "res":
            main = outs[0]
            other = outs[1] if len(outs) == 2 else flow
            name = "shortcut" if len(outs) == 2 else "identity (its input)"
            if main.mode != other.mode or main.shape != other.shape:
                raise ShapeError(
                    where,
                    f"the main path gives {_shown(main)} but the {name} is {_shown(other)}; "
                    "res( ) adds the two, so their shapes must be equal",
                )
            out = main.copy()
            paths = [main, other]
        else:
            out = self._cat(where, outs)
            paths = outs
        out.rf, out.jump, out.start = self._merge(where, paths)
        rec = Record(block.kind, block.text, block.item, depth, out, 0, 0, 0)
        rec.children = len(self.records) - first
        self.records.append(rec)
        return out

    def _cat(self, where: str, outs: list[Flow]) -> Flow:
        base = outs[0]
        for i, other in enumerate(outs[1:], start=2):
            same_mode = other.mode == base.mode
            if base.mode == "image":
                fits = same_mode and other.spatial == base.spatial
                fits = fits and (other.channels is None) == (base.channels is None)
                axis = "channels"
            else:
                fits = same_mode and other.spatial[:-1] == base.spatial[:-1]
                axis = "features"
            if not fits:
                raise ShapeError(
                    where,
                    f"path 1 gives {_shown(base)} but path {i} gives {_shown(other)}; cat( ) "
                    f"joins {axis}, so the other sizes must be equal",
                )
        out = base.copy()
        if base.mode == "image":
            if base.channels is None:
                raise ShapeError(
                    where,
                    f"the paths give {_shown(base)}, with no channel axis to join; "
                    "give the input as CxHxW",
                )
            out.channels = sum(o.channels for o in outs)
        else:
            out.spatial = out.spatial[:-1] + [sum(o.spatial[-1] for o in outs)]
        return out

    def _merge(self, where: str, paths: list[Flow]):
        """The union of the paths' fields: smallest start, furthest end (the largest field
        when the paths are centred); the first path's jump, with a warning if they differ."""
        if any(p.rf is None for p in paths):
            return None, None, None
        rank = len(paths[0].rf)
        jump = list(paths[0].jump)
        if any(p.jump != jump for p in paths):
            shown = ", ".join(_geom_text(p.jump) for p in paths)
            self.warnings.append(
                f"{where}: the paths' jumps differ ({shown}); the receptive field assumes "
                "the first path's"
            )
        start = [min(p.start[i] for p in paths) for i in range(rank)]
        end = [max(p.start[i] + p.rf[i] for p in paths) for i in range(rank)]
        return [end[i] - start[i] for i in range(rank)], jump, start

    # --- layers ---------------------------------------------------------------------

    def leaf(self, op: Op, flow: Flow, depth: int) -> Flow:
        where = f"layers: layer {op.item} ({op.text or op.kind})"
        try:
            if op.kind in CONV_KINDS or op.kind in POOL_KINDS:
                rec, flow = self._window(op, flow, depth, where)
            elif op.kind == "adaptiveavgpool":
                rec, flow = self._adaptive(op, flow, depth, where)
            elif op.kind == "flatten":
                flow = Flow("flat", None, [_prod(flow.shape)])
                _check_sizes(where, flow.spatial)
                rec = Record(op.kind, op.text, op.item, depth, flow, 0, 0, 0)
            elif op.kind == "linear":
                rec, flow = self._linear(op, flow, depth, where)
            elif op.kind in RECURRENT:
                rec, flow = self._recurrent(op, flow, depth, where)
            else:
                rec, flow = self._elementwise(op, flow, depth, where)
        except (InputError, ShapeError) as err:
            if err.source.startswith("layers: "):
                raise
            raise type(err)(f"{where}: {err.source}", err.message) from None
        self.records.append(rec)
        return flow

    def _elementwise(self, op: Op, flow: Flow, depth: int, where: str):
        params = buffers = 0
        if op.kind == "bn":
            if flow.mode == "seq":
                raise ShapeError(
                    where,
                    f"a batch norm on the {_shown(flow)} sequence is ambiguous (PyTorch's "
                    "BatchNorm1d would read T as the channels)",
                )
            c = flow.channels if flow.mode == "image" else flow.spatial[0]
            params = buffers = None if c is None else 2 * c
        return Record(op.kind, op.text, op.item, depth, flow, params, buffers, 0), flow

    def _window(self, op: Op, flow: Flow, depth: int, where: str):
        if flow.mode != "image":
            raise ShapeError(
                where, f"a {op.kind} layer needs an image (CxHxW, HxW or N), got {_shown(flow)}"
            )
        spatial = flow.spatial
        rank = len(spatial)
        k = pair(op.get("k"), rank, "kernel")
        s = pair(op.get("s", op.get("k") if op.kind in POOL_KINDS else 1), rank, "stride")
        d = pair(op.get("d", 1), rank, "dilation")
        p = pair(op.get("p", 0), rank, "padding")
        if op.kind == "convT":
            opad = pair(op.get("op", 0), rank, "op")
            dims = [
                transposed_dim(n, k[i], s[i], p[i], d[i], opad[i]) for i, n in enumerate(spatial)
            ]
        else:
            if op.kind in POOL_KINDS:
                _check_pool_padding(k, p, d, op.kind)
            dims = [
                conv_dim(
                    n,
                    k[i],
                    s[i],
                    p[i],
                    d[i],
                    ceil=op.get("ceil", False),
                    axis=AXES[i] if rank == 2 else "",
                )
                for i, n in enumerate(spatial)
            ]
        out_spatial = [dim.out for dim in dims]
        _check_sizes(where, out_spatial)
        C = flow.channels
        params = macs = 0
        out_c = C
        if op.kind in CONV_KINDS:
            c, g = op.get("c"), op.get("g", 1)
            out_c = c if c is not None else C
            for name, value in (("input channels", C), ("output channels", out_c)):
                if value is not None and value % g:
                    raise ShapeError(where, f"{name} {value} are not divisible by the groups g={g}")
            if C is None or out_c is None:
                params = macs = None
            else:
                if op.kind == "conv":
                    weights = out_c * (C // g) * _prod(k)
                    macs = weights * _prod(out_spatial)
                else:
                    weights = C * (out_c // g) * _prod(k)
                    macs = weights * _prod(spatial)
                params = weights + (out_c if op.get("bias", True) else 0)
        out = Flow("image", out_c, out_spatial)
        if flow.rf is not None:
            rf, jump, start = list(flow.rf), list(flow.jump), list(flow.start)
            for i in range(rank):
                if op.kind == "convT":
                    # the equivalent direct convolution over the zero-inserted input, whose
                    # pixels are j/s apart, padded d(k−1) − P_lo
                    jump[i] = _ratio(jump[i], s[i])
                    start[i] -= (d[i] * (k[i] - 1) - dims[i].p_lo) * jump[i]
                    rf[i] += d[i] * (k[i] - 1) * flow.jump[i]
                else:
                    start[i] -= dims[i].p_lo * jump[i]
                    rf[i] += d[i] * (k[i] - 1) * jump[i]
                    jump[i] *= s[i]
            _check_geometry(where, rf, jump, start)
            out.rf, out.jump, out.start = rf, jump, start
        if rank == 2 and dims[0] == dims[1] and not dims[0].same_note:
            notes = [f"height and width: {n}" for n in size_warnings(dims[:1], 1)]
        else:
            notes = size_warnings(dims, rank)
        self.warnings += [f"{where}: {note}" for note in notes]
        rec = Record(
            op.kind, op.text, op.item, depth, out, params, 0, macs, all(x.exact for x in dims)
        )
        rec.dims = dims
        return rec, out

    def _adaptive(self, op: Op, flow: Flow, depth: int, where: str):
        """PyTorch's windows: output i pools [⌊iN/o⌋, ⌈(i+1)N/o⌉)."""
        if flow.mode != "image":
            raise ShapeError(
                where, f"an adaptive pool needs an image (CxHxW, HxW or N), got {_shown(flow)}"
            )
        rank = len(flow.spatial)
        o = pair(op.get("o"), rank, "o")
        out = Flow("image", flow.channels, list(o))
        exact = all(n % m == 0 for n, m in zip(flow.spatial, o, strict=True))
        if not exact:
            self.warnings.append(
                f"{where}: {shape_str(flow.spatial)} does not divide into "
                f"{shape_str(list(o))} equal windows; the windows overlap or differ in size, "
                "and the receptive field is that of output (1,1)"
            )
        if flow.rf is not None:
            rf, jump = list(flow.rf), list(flow.jump)
            for i, (n, m) in enumerate(zip(flow.spatial, o, strict=True)):
                window = -(-n // m)  # output 0's window: [0, ⌈N/o⌉)
                rf[i] += (window - 1) * jump[i]
                jump[i] = _ratio(jump[i] * n, m)
            _check_geometry(where, rf, jump, flow.start)
            out.rf, out.jump, out.start = rf, jump, list(flow.start)
        return Record(op.kind, op.text, op.item, depth, out, 0, 0, 0, exact), out

    def _linear(self, op: Op, flow: Flow, depth: int, where: str):
        n, bias = op.get("n"), op.get("bias", True)
        if flow.mode == "image" and (flow.channels is not None or len(flow.spatial) > 1):
            raise ShapeError(
                where,
                f"a linear layer needs a flat input, got the {_shown(flow)} image; "
                "put flatten before it",
            )
        features = flow.spatial[-1]
        steps = flow.spatial[0] if flow.mode == "seq" else 1
        out = Flow("seq" if flow.mode == "seq" else "flat", None, flow.spatial[:-1] + [n])
        weights = n * features
        rec = Record(
            op.kind, op.text, op.item, depth, out, weights + (n if bias else 0), 0, weights * steps
        )
        rec.inputs = features
        return rec, out

    def _recurrent(self, op: Op, flow: Flow, depth: int, where: str):
        if flow.mode != "seq":
            raise ShapeError(
                where,
                f"a recurrent layer reads a T×D sequence, got {_shown(flow)}; it must come "
                "first (on a TxD input) or after another recurrent layer",
            )
        T, D = flow.spatial
        H, g = op.get("h"), RECURRENT[op.kind]
        dirs = 2 if op.get("bidirectional", False) else 1
        per = g * H * (D + H) + (2 * g * H if op.get("bias", True) else 0)
        out = Flow("seq", None, [T, dirs * H])
        rec = Record(
            op.kind, op.text, op.item, depth, out, dirs * per, 0, dirs * T * g * H * (D + H)
        )
        return rec, out


def _ratio(a, b: int):
    """a/b exactly: an int when b divides a, else a Fraction (imported only then: the
    geometry of most networks is whole numbers, and `fractions` costs start-up time)."""
    if isinstance(a, int) and a % b == 0:
        return a // b
    from fractions import Fraction

    return Fraction(a) / b


def _shown(flow: Flow) -> str:
    shape = shape_str(flow.shape)
    if flow.mode == "flat":
        return f"{shape} (flat)"
    if flow.mode == "seq":
        return f"{shape} (T×D)"
    return shape


def _geom_text(values) -> str:
    if len(set(values)) == 1:
        values = values[:1]
    return "×".join(f"{_num(v):g}" for v in values)


def _check_sizes(where: str, values) -> None:
    for x in values:
        if x > VALUE_MAX:
            raise InputError(
                where,
                "the output size leaves the int64 range (more than 2⁶³−1); no framework "
                "could build this network",
            )


def _check_geometry(where: str, rf, jump, start) -> None:
    values = rf + jump + start
    if all(type(x) is int for x in values) and max(map(abs, values)) <= VALUE_MAX:
        return  # whole numbers within range: the usual layer (a fraction has a denominator)
    for what, values in (("receptive field", rf), ("jump", jump), ("field's start", start)):
        for x in values:
            if abs(x) > VALUE_MAX or x.denominator > VALUE_MAX:
                raise InputError(
                    where,
                    f"the {what} leaves the int64 range (more than 2⁶³−1, or finer than "
                    "1/2⁶³); no framework could build this network",
                )
