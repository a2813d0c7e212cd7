"""The computations as a library: one function per command, taking the command's options
as snake_case keywords (`global_pool` for --global, `no_bias` for --no-bias) and returning
a result whose attributes carry the names of the command's JSON `result` fields.

    import cnnrnn_cli as cr
    cr.conv2d(image, kernel, stride=2, padding="same").output
    cr.bptt(xs, wx=wx, wh=wh, y=y, lr=0.1).updated["wh"]

Arrays given directly win over `weights` (a dict, as in --weights), which win over a
random case (`random`, with `seed`). Every result shows its working when displayed in
Jupyter (or printed with Rich), through the same renderer as `-f rich`.
"""

from __future__ import annotations

from cnnrnn_cli.display import shown, shows
from cnnrnn_cli.errors import InputError
from cnnrnn_cli.vocabulary import GRU_GATES, LSTM_GATES


def as_image(arr, name: str):
    """An (H, W) or (C, H, W) float64 array (a scalar or a flat list is one row)."""
    from cnnrnn_cli.core.shapes import as_image as run

    return run(arr, name)


def output_cell(at: tuple, shape: tuple, name: str = "at") -> tuple:
    """`at` (0-based (i, j) or (k, i, j)) as (k, i, j) inside an output of `shape`."""
    from cnnrnn_cli.core.shapes import output_cell as run

    return run(at, shape, name)


def chosen_seed(seed: int | None) -> int:
    """`seed`, or one chosen now: a random case always knows its seed (kept in `.seed`,
    printed, and in JSON `params.seed`), so any run can be repeated."""
    if seed is not None:
        return seed
    import secrets

    return secrets.randbits(32)


def merge_arrays(
    given: dict, allowed, *, weights: dict | None = None, base: dict | None = None
) -> dict:
    """`base` (an example or random case), then `weights`, then the arrays given (not
    None): each overriding the one before. Unknown names in `weights` are an error."""
    merged = dict(base or {})
    if weights:
        unknown = sorted(set(weights) - set(allowed))
        if unknown:
            raise InputError(
                "weights",
                f"unknown array name(s) {', '.join(unknown)}; "
                f"expected names among {', '.join(allowed)}",
            )
        merged.update(weights)
    merged.update({k: v for k, v in given.items() if v is not None})
    return merged


def require(arrays: dict, names) -> None:
    for name in names:
        if name not in arrays:
            raise InputError(name, f"missing: give --{name} (or --weights, --random, --example)")


def _shape(random, count: int, name: str = "random") -> list[int]:
    """`random` as a tuple of `count` sizes ('50,4,8', [50, 4, 8])."""
    if isinstance(random, str):
        from cnnrnn_cli.io.spec import parse_ints

        return parse_ints(random, name, count)
    sizes = [int(v) for v in random]
    if len(sizes) != count:
        raise InputError(name, f"expected {count} sizes, got {len(sizes)}")
    return sizes


@shows("cnnrnn_cli.explain.outsize")
def output_size(
    input,
    kernel=None,
    stride=1,
    padding=0,
    dilation=1,
    channels=None,
    ceil=False,
    transposed=False,
    output_padding=0,
    same=False,
    layers=None,
    model=None,
):
    """`outsize`: `.output`, `.exact` (and `.padding`); with `layers` (the --layers text)
    or `model` (a name of `outsize --model`), a network summary: `.layers` (one record per
    spec layer), `.totals` (params, buffers, macs, flops, activations)."""
    from cnnrnn_cli.core import sizes

    if model is not None:
        from cnnrnn_cli.core.models import MODELS

        if layers is not None:
            raise InputError("model", "give --model or --layers, not both")
        layers = model_spec(model)
        if input is None:
            input = MODELS[model][0]
    if isinstance(input, str):  # text such as "3x224x224": the core takes numbers
        from cnnrnn_cli.io.spec import parse_dims

        input = parse_dims(input, "input")
    if layers is not None:
        from cnnrnn_cli.core.network import summarize
        from cnnrnn_cli.io.netspec import parse_network

        shape = list(input) if isinstance(input, (list, tuple)) else [input]
        shape = [sizes._whole(v, "input") for v in shape]
        nodes = parse_network(layers) if isinstance(layers, str) else layers
        return summarize(shape, nodes)
    if same:
        if padding not in (0, "same"):
            raise InputError("same", "solves for the padding; give no padding with it")
        padding = "same"
    return sizes.output_size(
        input, kernel, stride, padding, dilation, channels, ceil, transposed, output_padding
    )


def model_spec(name: str) -> str:
    """The `--layers` spec of a model of `outsize --model` (lenet5, alexnet, vgg16,
    resnet18, resnet50, googlenet, mobilenet_v2), as stored in the package."""
    from cnnrnn_cli.core.models import spec_text

    return spec_text(name)


def model_input(name: str) -> list[int]:
    """The default input of a model of `outsize --model` (C, H, W)."""
    from cnnrnn_cli.core.models import MODELS

    model_spec(name)  # an unknown name is refused there
    return list(MODELS[name][0])


def model_source(name: str) -> str:
    """What a model's spec follows (torchvision's definition, d2l's, the paper's)."""
    from cnnrnn_cli.core.models import MODELS

    model_spec(name)
    return MODELS[name][1]


def network_spec(layers=None, model=None) -> str:
    """A network (a --layers text or a model name) written as a --layers spec that
    `output_size(..., layers=...)` reads back: one layer a line, each ending in ';'."""
    from cnnrnn_cli.io.netspec import format_network, parse_network

    text = model_spec(model) if model is not None else layers
    return format_network(parse_network(text))


@shows("cnnrnn_cli.explain.conv")
def conv2d(image, kernel, stride=1, padding=0, dilation=1, bias=None, pad_mode="zeros", flip=False):
    """`conv`: `.output`, (H', W') or (K, H', W')."""
    from cnnrnn_cli.core.conv import conv2d as run

    return run(image, kernel, stride, padding, dilation, bias, pad_mode, flip)


@shows("cnnrnn_cli.explain.conv")
def convolution(
    image,
    kernel,
    stride=1,
    padding=0,
    dilation=1,
    bias=None,
    pad_mode="zeros",
    flip=False,
    groups=1,
    transposed=False,
    output_padding=0,
    grad=None,
):
    """`conv` with every option: `.output`; with `grad` (G, shaped like the output) also
    `.grad_input` (∂L/∂x), `.grad_kernel` (∂L/∂W) and `.grad_bias` (∂L/∂b).

    groups: PyTorch's rule, weights K×(C/G)×F×F (transposed: C×(K/G)×F×F). transposed:
    ConvTranspose2d, weights C×K×F×F, with output_padding; its result also has
    `.contributions(k, y, x)` (the scatter view of one output cell) and
    `.zero_insertion()` (the direct-convolution view and whether it agrees).
    """
    if transposed:
        from cnnrnn_cli.core.transposed import conv_transpose2d

        return conv_transpose2d(
            image,
            kernel,
            stride,
            padding,
            output_padding,
            dilation,
            groups,
            bias,
            pad_mode,
            flip,
            grad,
        )
    if output_padding not in (0, (0, 0), [0, 0]):
        raise InputError("output-padding", "applies to a transposed convolution only")
    from cnnrnn_cli.core.conv import conv2d as run

    result = run(image, kernel, stride, padding, dilation, bias, pad_mode, flip, groups=groups)
    if grad is not None:
        from cnnrnn_cli.core.conv_grad import conv2d_backward

        conv2d_backward(result, grad)
    return result


def conv_backward_facts(result, k=0, c=0, u=0, v=0):
    """What an explanation of a convolution's backward pass shows (`result` from
    `convolution(..., grad=G)`), 0-based indices:

    `.weight`: ∂L/∂W[k, c, u, v] as its sum over windows (`.windows`, `.grad`, `.value`);
    `.as_transposed`: ∂L/∂x as the transposed convolution of G (`.result`, `.padding`,
    `.output_padding`, `.folded`, `.agrees`), None if no output_padding expresses it;
    `.full`: at stride 1, the full convolution of G with the flipped kernel
    (`.padded_grad`, `.kernel`, `.output`, `.agrees`), else None.

    For a transposed result (whose ∂L/∂x is the ordinary, strided convolution of G with
    W), `.weight` is ∂L/∂W[c, k, u, v] (input channel c, output k of its group):
    Σ x[c] · the gradient under tap (u, v); `.as_transposed` and `.full` are None.
    """
    from types import SimpleNamespace

    from cnnrnn_cli.core import conv_grad, transposed

    if result.grad is None:
        raise InputError("grad", "give an upstream gradient (grad=) for the backward pass")
    if getattr(result, "transposed", False):
        return SimpleNamespace(
            weight=transposed.weight_terms(result, c, k, u, v), as_transposed=None, full=None
        )
    return SimpleNamespace(
        weight=conv_grad.weight_terms(result, k, c, u, v),
        as_transposed=transposed.grad_as_transposed(result),
        full=conv_grad.full_convolution(result),
    )


@shows("cnnrnn_cli.explain.pool")
def pool2d(
    input,
    size=2,
    stride=None,
    padding=0,
    mode="max",
    ceil=False,
    count_include_pad=True,
    global_pool=False,
    grad=None,
):
    """`pool`: `.output`, and `.grad_input` when `grad` is given."""
    from cnnrnn_cli.core.pool import pool2d as run

    return run(input, size, stride, padding, mode, ceil, count_include_pad, global_pool, grad)


@shows("cnnrnn_cli.explain.resblock")
def resblock(
    a0=None,
    w1=None,
    b1=None,
    w2=None,
    b2=None,
    shortcut=None,
    activation="relu",
    weights=None,
    random=False,
    size=4,
    seed=None,
    depth=None,
):
    """`resblock`: `.skip` and `.plain` (each `.z1 .a1 .z2 .a2 .jacobian`), and
    `.grad_norms` with `depth`; `.seed` of a random case (chosen when not given)."""
    from cnnrnn_cli.core import resblock as core

    if random:
        seed = chosen_seed(seed)
    given = dict(a0=a0, w1=w1, b1=b1, w2=w2, b2=b2, shortcut=shortcut)
    arrays = merge_arrays(
        given, given, weights=weights, base=core.random_case(size, seed) if random else None
    )
    require(arrays, ("a0", "w1"))
    return core.resblock(
        activation=activation, depth=depth, random_depth=bool(random), seed=seed, **arrays
    )


@shows("cnnrnn_cli.explain.inception")
def inception(
    shape=None,
    n1x1=None,
    n3x3red=None,
    n3x3=None,
    n5x5red=None,
    n5x5=None,
    pool_proj=None,
    preset=None,
    no_bias=False,
    compute=False,
    tensor=None,
    weights=None,
    seed=None,
):
    """`inception`: `.output_shape`, `.params`, `.macs`, `.branches`, `.naive`, and
    `.output` with `compute` (on `tensor`, or a random one from `seed`)."""
    from cnnrnn_cli.core import inception as core

    if isinstance(shape, str):
        from cnnrnn_cli.io.spec import parse_dims

        shape = parse_dims(shape, "shape")
    result = core.inception(
        shape,
        preset=preset,
        bias=not no_bias,
        n1x1=n1x1,
        n3x3red=n3x3red,
        n3x3=n3x3,
        n5x5red=n5x5red,
        n5x5=n5x5,
        pool_proj=pool_proj,
    )
    if compute:
        run_module(result, tensor, weights, seed)
    return result


def run_module(result, tensor=None, weights=None, seed=None):
    """Run a counted module (`inception(...)`) on `tensor` (C, H, W), or a random one from
    `seed` (chosen when not given); fills `.tensor`, `.output`, `.branch_outputs`, `.seed`
    and `.generated` (the names of what was made at random)."""
    import numpy as np

    from cnnrnn_cli.core import inception as core

    core.check_compute_budget(result)
    seed = chosen_seed(seed)
    result.seed, result.generated = seed, []
    if tensor is None:
        tensor = np.random.default_rng(seed).standard_normal(result.input_shape)
        result.generated.append("tensor")
    result.tensor = tensor
    result.output, result.branch_outputs, _ = core.compute(result, tensor, weights, seed)
    return result


BPTT_ARRAYS = ("xs", "wx", "wh", "b", "h0", "wy", "by", "y", "targets")


@shows("cnnrnn_cli.explain.bptt")
def bptt(
    xs=None,
    wx=None,
    wh=None,
    b=None,
    h0=None,
    wy=None,
    by=None,
    y=None,
    targets=None,
    activation="tanh",
    tol=None,
    lr=None,
    weights=None,
    random=None,
    seed=None,
    scale=1.0,
    check=False,
    *,
    cell="rnn",
    compare=False,
    truncate=None,
    clip=None,
    reset_after=True,
    z_keeps="old",
    torch_weights=None,
    c0=None,
    forget_bias=None,
    **gates,
):
    """`bptt`: `.h`, `.y_hat`, `.loss`, `.grads`, `.jacobian_norms`, `.eigenvalues`,
    `.spectral_radius`, `.singular_max`, `.diagonalizable`, `.regime`, `.grad_norms`,
    `.input_grad_norms` (and `.updated` with `lr`, `.check_error` with `check`). `random`:
    (T, D, H) or 'T,D,H'; its `.seed` is chosen when not given. tol: |ρ − 1| for the
    rnn's regime (default 1e-9), how near 0 or 1 a gate is for gated cells (default 0.05).

    cell 'gru' or 'lstm' (gates: gru-step's or lstm-step's weights, `torch_weights` a
    PyTorch cell's arrays), `truncate` K, `clip` θ, or `compare` (rnn, gru and lstm on the
    same inputs) give a `core.gated_bptt.CellResult` (`.grads`, `.grad_norms`,
    `.input_grad_norms`, `.grad_norm`, `.clipped`, ...) or a `Comparison` (`.results`).
    """
    gates = {k: v for k, v in gates.items() if v is not None}
    options = dict(
        cell=cell,
        truncate=truncate,
        clip=clip,
        reset_after=reset_after,
        z_keeps=z_keeps,
        torch_weights=torch_weights,
        c0=c0,
        forget_bias=forget_bias,
        gates=gates,
    )
    if compare or cell != "rnn" or truncate is not None or clip is not None:
        tol = 0.05 if tol is None else tol
        given = dict(xs=xs, wx=wx, wh=wh, b=b, h0=h0, wy=wy, by=by, y=y, targets=targets)
        return _gated_bptt(
            given, activation, tol, lr, weights, random, seed, scale, check, compare, options
        )
    for name, value in (("torch-weights", torch_weights), ("c0", c0), ("forget-bias", forget_bias)):
        if value is not None:
            raise InputError(name, "goes with --cell gru or lstm (or --compare)")
    if gates:
        name = sorted(gates)[0]
        owner = "gru" if name in GRU_GATES else "lstm"
        raise InputError(name, f"is a weight of the {owner}'s gates: it goes with --cell {owner}")
    from cnnrnn_cli.core import bptt as core

    tol = 1e-9 if tol is None else tol
    base = None
    if random is not None:
        seed = chosen_seed(seed)
        base = core.random_case(*_shape(random, 3), seed, scale)
        if targets is not None or (weights and "targets" in weights):
            base.pop("y")  # many-to-many: the targets replace the random y
    given = dict(xs=xs, wx=wx, wh=wh, b=b, h0=h0, wy=wy, by=by, y=y, targets=targets)
    arrays = merge_arrays(given, BPTT_ARRAYS, weights=weights, base=base)
    require(arrays, ("xs", "wx", "wh"))
    result = core.bptt(activation=activation, lr=lr, tol=tol, check=check, **arrays)
    result.seed = seed if random is not None else None
    return result


SHARED_ARRAYS = ("xs", "h0", "wy", "by", "y", "targets")


def _gated_bptt(given, activation, tol, lr, weights, random, seed, scale, check, compare, o):
    """`bptt` through one cell (`o["cell"]`), or the three compared."""
    from cnnrnn_cli.core import gated_bptt as core
    from cnnrnn_cli.core import gru, lstm

    cell, gates = o["cell"], o["gates"]
    if cell not in core.CELLS:
        raise InputError("cell", f"expected one of {', '.join(core.CELLS)}, got {cell!r}")
    cells = core.CELLS if compare else (cell,)
    if compare and cell != "rnn":
        raise InputError("cell", "--compare runs every cell; leave --cell out")
    for name, given_value in (("lr", lr), ("clip", o["clip"]), ("check", check or None)):
        if compare and given_value is not None:
            raise InputError(
                name,
                "goes with one --cell: --compare shows each cell's ‖∂L/∂h_t‖ and ‖∂L/∂x_t‖, "
                "not the parameters' gradients",
            )
    if not compare and cell != "rnn":
        if activation != "tanh":
            raise InputError("activation", "applies to --cell rnn only (the gates fix theirs)")
        if scale != 1.0:
            raise InputError("scale", "applies to --cell rnn only (gated cells take U(±1/√H))")
    if o["c0"] is not None and "lstm" not in cells:
        raise InputError("c0", "only an LSTM has a cell state (--cell lstm)")
    if o["forget_bias"] is not None and random is None:
        raise InputError("forget-bias", "goes with --random (it shifts the random gate bias)")
    if o["torch_weights"] is not None and cell == "rnn":
        raise InputError("torch-weights", "goes with --cell gru or lstm")
    allowed = SHARED_ARRAYS + ("c0",) + tuple(n for c in cells for n in core.PARAMS[c])
    foreign = [k for k in core.RNN_PARAMS if given.get(k) is not None and k not in allowed]
    if foreign:
        raise InputError(foreign[0], f"is a weight of --cell rnn, not of {cell}")
    stray = sorted(set(gates) - set(allowed))
    if stray:
        owner = "gru" if stray[0] in GRU_GATES else "lstm"
        raise InputError(stray[0], f"is a weight of the {owner}, not of the {cell}")
    shape = None
    if random is not None:
        seed = chosen_seed(seed)
        shape = _shape(random, 3)
        core.check_work(*shape, o["truncate"], check, "random")
    cases = {}
    for name in cells:
        base = {}
        if random is not None:
            base = core.random_cell(name, *shape, seed, scale)
            if given.get("targets") is not None or (weights and "targets" in weights):
                base.pop("y")
            if o["forget_bias"] is not None and name != "rnn":
                key = "bz" if name == "gru" else "bf"
                sign = -1.0 if name == "gru" and o["z_keeps"] == "new" else 1.0
                base[key] = base[key] + sign * o["forget_bias"]
        if o["torch_weights"] is not None and name != "rnn":
            base.update((gru if name == "gru" else lstm).from_torch(o["torch_weights"]))
        own = dict(given, c0=o["c0"], **gates)
        arrays = merge_arrays(own, allowed, weights=weights, base=base)
        keep = SHARED_ARRAYS + core.PARAMS[name] + (("c0",) if name == "lstm" else ())
        arrays = {k: v for k, v in arrays.items() if k in keep}
        require(arrays, ("xs",))
        cases[name] = arrays
    run = dict(
        activation=activation,
        reset_after=o["reset_after"],
        z_keeps=o["z_keeps"],
        truncate=o["truncate"],
        clip=o["clip"],
        lr=lr,
        tol=tol,
        check=check,
    )
    if compare:
        result = core.compare(cases, **run)
        result.tol = tol
    else:
        arrays = cases[cell]
        result = core.bptt(cell, arrays.pop("xs"), **run, **arrays)
    result.seed = seed if random is not None else None
    return shown(result, "cnnrnn_cli.explain.gated_bptt")


GRU_ARRAYS = ("x", "h", "xs", "wxz", "whz", "bz", "wxr", "whr", "br", "wxh", "whh", "bh", "bhh")


@shows("cnnrnn_cli.explain.gru")
def gru_step(
    x=None,
    h=None,
    *,
    xs=None,
    reset_after=True,
    z_keeps="old",
    tol=0.05,
    torch_weights=None,
    weights=None,
    random=None,
    seed=None,
    **gates,
):
    """`gru-step`: `.z`, `.r`, `.h_tilde`, `.h` (vectors, or T×H with `xs`).

    gates: wxz, whz, bz, wxr, whr, br, wxh, whh, bh, bhh. torch_weights: a dict of a
    PyTorch GRUCell's weight_ih, weight_hh, bias_ih, bias_hh. random: (D, H) or 'D,H'; its
    `.seed` is chosen when not given.
    """
    from cnnrnn_cli.core import gru as core

    base = {}
    if random is not None:
        seed = chosen_seed(seed)
        base = core.random_weights(*_shape(random, 2), seed)
    if torch_weights is not None:
        base.update(core.from_torch(torch_weights))
    given = dict(x=x, h=h, xs=xs, **gates)
    arrays = merge_arrays(given, GRU_ARRAYS + tuple(gates), weights=weights, base=base)
    if "x" in arrays and "xs" in arrays:
        arrays.pop("xs" if x is not None else "x")
    result = core.gru_step(reset_after=reset_after, z_keeps=z_keeps, tol=tol, **arrays)
    result.seed = seed if random is not None else None
    return result


LSTM_ARRAYS = ("x", "h", "c", "xs", *LSTM_GATES)


@shows("cnnrnn_cli.explain.lstm")
def lstm_step(
    x=None,
    h=None,
    c=None,
    *,
    xs=None,
    tol=0.05,
    torch_weights=None,
    weights=None,
    random=None,
    seed=None,
    **gates,
):
    """`lstm-step`: `.i`, `.f`, `.g`, `.o`, `.c`, `.h` (vectors, or T×H with `xs`).

    gates: wxi, whi, bi, wxf, whf, bf, wxg, whg, bg, wxo, who, bo. torch_weights: a dict
    of a PyTorch LSTMCell's weight_ih, weight_hh, bias_ih, bias_hh (gates stacked i, f, g,
    o). random: (D, H) or 'D,H', with `seed` (chosen when not given, kept in `.seed`).
    """
    from cnnrnn_cli.core import lstm as core

    base = {}
    if random is not None:
        seed = chosen_seed(seed)
        base = core.random_weights(*_shape(random, 2), seed)
    if torch_weights is not None:
        base.update(core.from_torch(torch_weights))
    given = dict(x=x, h=h, c=c, xs=xs, **gates)
    arrays = merge_arrays(given, LSTM_ARRAYS + tuple(gates), weights=weights, base=base)
    if "x" in arrays and "xs" in arrays:
        arrays.pop("xs" if x is not None else "x")
    return core.lstm_step(
        tol=tol,
        seed=seed if random is not None else None,
        torch=torch_weights is not None,
        **arrays,
    )
