"""`outsize --layers` as a network summary: every layer kind against a count written here,
branches and their errors, receptive fields against a brute-force walk over the input
pixels, the spec grammar (hypothesis), and the classic models against torch's numbers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnnrnn_cli import api as cr
from cnnrnn_cli.core.network import Block, Op, summarize
from cnnrnn_cli.errors import InputError, ShapeError
from cnnrnn_cli.io.netspec import format_network, parse_network
from conftest import assert_error

FIXTURES = Path(__file__).resolve().parent / "fixtures"
LENET = (
    "conv k=5 p=2 c=6; act; avgpool k=2; conv k=5 c=16; act; avgpool k=2; flatten; "
    "linear n=120; linear n=84; linear n=10"
)


def net(shape, spec):
    return summarize(list(shape), parse_network(spec))


def records(shape, spec):
    return net(shape, spec).records


# --- every kind against a count written here ------------------------------------------


def conv_params(C, c, k, g=1, bias=True):
    """The weight tensor of nn.Conv2d is (c, C/g, kh, kw), the bias (c,)."""
    kh, kw = k
    return c * (C // g) * kh * kw + (c if bias else 0)


@pytest.mark.parametrize(
    "C, c, k, g, s, p, n",
    [(3, 64, (7, 7), 1, 2, 3, 224), (32, 32, (3, 3), 32, 1, 1, 56), (12, 8, (3, 5), 4, 2, 0, 17)],
)
def test_conv_with_groups(C, c, k, g, s, p, n):
    kh, kw = k
    (rec,) = records([C, n, n], f"conv k={kh}x{kw} s={s} p={p} c={c} g={g}")
    out_h, out_w = (n + 2 * p - kh) // s + 1, (n + 2 * p - kw) // s + 1
    assert rec.shape == [c, out_h, out_w]
    assert rec.params == conv_params(C, c, k, g)
    # one multiply-add per weight per output position
    assert rec.macs == (conv_params(C, c, k, g, bias=False)) * out_h * out_w


def test_transposed_conv_with_groups():
    (rec,) = records([8, 5, 5], "convT k=3 s=2 c=4 g=2")
    # nn.ConvTranspose2d's weight is (C, c/g, kh, kw); every input pixel scatters it
    assert rec.shape == [4, 11, 11]
    assert rec.params == 8 * 2 * 9 + 4
    assert rec.macs == 8 * 2 * 9 * 25


def test_groups_must_divide_the_channels():
    with pytest.raises(ShapeError, match="input channels 3 are not divisible by the groups g=2"):
        records([3, 8, 8], "conv k=3 c=4 g=2")
    with pytest.raises(ShapeError, match="output channels 5"):
        records([4, 8, 8], "conv k=3 c=5 g=2")


def test_lenet_linear_in_and_totals(run):
    recs = records([1, 28, 28], LENET)
    linears = [r for r in recs if r.kind == "linear"]
    assert [r.inputs for r in linears] == [16 * 5 * 5, 120, 84]
    assert [r.params for r in linears] == [400 * 120 + 120, 120 * 84 + 84, 84 * 10 + 10]
    assert [r.macs for r in linears] == [400 * 120, 120 * 84, 84 * 10]
    total = (6 * 25 + 6) + (16 * 6 * 25 + 16) + 48120 + 10164 + 850
    assert net([1, 28, 28], LENET).params == total == 61_706
    rich = run("outsize", "1x28x28", "--layers", LENET, fmt="rich").stdout
    assert "in = 400" in rich and "61,706" in rich
    doc = json.loads(run("outsize", "1x28x28", "--layers", LENET, fmt="json").stdout)
    assert doc["result"]["layers"][7]["in"] == 400 and doc["result"]["params"] == 61_706
    assert "in" not in doc["result"]["layers"][0]


def test_flatten_adaptive_pool_and_elementwise():
    recs = records(
        [64, 7, 5], "bn; relu; dropout p=0.5; act f=gelu; adaptiveavgpool o=3x2; flatten"
    )
    bn, relu, drop, act, pool, flat = recs
    assert (bn.params, bn.buffers, bn.macs) == (128, 128, 0)
    assert all(r.shape == [64, 7, 5] and r.params == 0 for r in (relu, drop, act))
    assert pool.shape == [64, 3, 2] and flat.shape == [64 * 3 * 2]
    total = net([64, 7, 5], "bn; relu; adaptiveavgpool o=1; flatten").totals
    assert total["activations"] == 2 * 64 * 35 + 64 + 64


def adaptive_windows(n, o):
    """PyTorch's adaptive pooling windows [⌊i·n/o⌋, ⌈(i+1)·n/o⌉)."""
    return [(i * n // o, -(-(i + 1) * n // o)) for i in range(o)]


@pytest.mark.parametrize("n, o", [(7, 7), (7, 1), (12, 4), (7, 3), (5, 8)])
def test_adaptive_pool_receptive_field_of_output_one(n, o):
    (rec,) = records([n], f"adaptiveavgpool o={o}")
    lo, hi = adaptive_windows(n, o)[0]
    assert rec.receptive_field == [hi - lo] and rec.rf_start == [lo + 1]
    assert rec.exact == (n % o == 0)


def recurrent_params(kind, D, H, bidirectional, bias=True):
    """PyTorch's tensors per direction: weight_ih (gH, D), weight_hh (gH, H), bias_ih and
    bias_hh (gH each)."""
    g = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    tensors = [(g * H, D), (g * H, H)] + ([(g * H,), (g * H,)] if bias else [])
    per = sum(a * (b[0] if b else 1) for a, *b in tensors)
    return per * (2 if bidirectional else 1)


# sum(p.numel() for p in nn.RNN/GRU/LSTM(7, 5, ...).parameters()), torch 2.13
TORCH_RECURRENT = {
    ("rnn", False, True): 70,
    ("rnn", False, False): 60,
    ("rnn", True, True): 140,
    ("gru", False, True): 210,
    ("gru", True, False): 360,
    ("lstm", False, True): 280,
    ("lstm", True, True): 560,
    ("lstm", True, False): 480,
}


@pytest.mark.parametrize("kind, bi, bias", list(TORCH_RECURRENT))
def test_recurrent_layers_against_torch(kind, bi, bias):
    spec = f"{kind} h=5 bidirectional={int(bi)} bias={int(bias)}"
    (rec,) = records([11, 7], spec)
    assert rec.params == TORCH_RECURRENT[kind, bi, bias] == recurrent_params(kind, 7, 5, bi, bias)
    g = {"rnn": 1, "gru": 3, "lstm": 4}[kind]
    assert rec.macs == (2 if bi else 1) * 11 * g * 5 * (7 + 5)
    assert rec.shape == [11, 10 if bi else 5]
    assert rec.receptive_field is None and rec.rf_start is None


def test_stacked_recurrent_then_linear_per_step():
    recs = records([20, 8], "lstm h=16 bidirectional; gru h=4; dropout; linear n=3")
    lstm, gru, drop, linear = recs
    assert gru.params == recurrent_params("gru", 32, 4, False)
    assert linear.shape == [20, 3] and linear.inputs == 4
    assert linear.params == 4 * 3 + 3 and linear.macs == 20 * 4 * 3
    assert all(r.rf is None for r in recs)


@pytest.mark.parametrize(
    "shape, spec, fragments",
    [
        ([3, 8, 8], "conv k=3; lstm h=4", ["layer 2 (lstm h=4)", "reads a T×D sequence"]),
        ([3, 8, 8], "lstm h=4", ["layer 1", "T×D input, got 3×8×8"]),
        ([5, 4], "lstm h=4; conv k=1", ["layer 2", "needs an image", "5×4 (T×D)"]),
        ([5, 4], "gru h=4; bn", ["layer 2 (bn)", "ambiguous"]),
        ([3, 8, 8], "linear n=3", ["needs a flat input", "3×8×8", "flatten"]),
        ([3, 8, 8], "flatten; conv k=1", ["needs an image", "192 (flat)"]),
    ],
)
def test_kind_errors(shape, spec, fragments):
    with pytest.raises((InputError, ShapeError)) as err:
        records(shape, spec)
    for fragment in fragments:
        assert fragment in str(err.value)


# --- branches -------------------------------------------------------------------------


def test_residual_and_concatenated_shapes():
    spec = (
        "conv k=3 p=1 c=8; res( conv k=3 p=1 c=8; relu; conv k=3 p=1 c=8 ); "
        "res( conv k=3 s=2 p=1 c=16 | conv k=1 s=2 c=16 ); "
        "cat( conv k=1 c=4 | conv k=3 p=1 c=6 | maxpool k=3 s=1 p=1 )"
    )
    result = net([3, 16, 16], spec)
    kinds = [(r.item, r.kind, r.depth) for r in result.records]
    assert kinds == [
        ("1", "conv", 0),
        ("2.1.1", "conv", 1),
        ("2.1.2", "relu", 1),
        ("2.1.3", "conv", 1),
        ("2", "res", 0),
        ("3.1.1", "conv", 1),
        ("3.2.1", "conv", 1),
        ("3", "res", 0),
        ("4.1.1", "conv", 1),
        ("4.2.1", "conv", 1),
        ("4.3.1", "maxpool", 1),
        ("4", "cat", 0),
    ]
    assert result.output == [4 + 6 + 16, 8, 8]
    # records' own counts add up to the totals; a block adds nothing itself
    params = [r.params for r in result.records]
    assert result.params == sum(params) and params[4] == params[7] == params[11] == 0
    assert result.params == (
        conv_params(3, 8, (3, 3))
        + 2 * conv_params(8, 8, (3, 3))
        + conv_params(8, 16, (3, 3))
        + conv_params(8, 16, (1, 1))
        + conv_params(16, 4, (1, 1))
        + conv_params(16, 6, (3, 3))
    )


def test_nesting_and_identity_paths():
    spec = "res( cat( conv k=1 c=2 | ) ; conv k=1 c=4 ); cat( | res( relu ) )"
    result = net([4, 5, 5], spec)
    assert [(r.item, r.kind, r.shape[0]) for r in result.records] == [
        ("1.1.1.1.1", "conv", 2),
        ("1.1.1", "cat", 6),  # 2 + the identity's 4
        ("1.1.2", "conv", 4),
        ("1", "res", 4),
        ("2.2.1.1.1", "relu", 4),
        ("2.2.1", "res", 4),
        ("2", "cat", 8),
    ]
    assert [r.depth for r in result.records] == [2, 1, 1, 0, 2, 1, 0]
    assert [r.children for r in result.records] == [0, 1, 0, 3, 0, 1, 2]


@pytest.mark.parametrize(
    "spec, fragments",
    [
        (
            "conv k=3 p=1 c=8; res( conv k=3 p=1 c=16 )",
            ["layer 2 (res)", "main path gives 16×8×8", "identity (its input) is 8×8×8"],
        ),
        (
            "res( conv k=3 s=2 p=1 c=4 | conv k=1 c=4 )",
            ["layer 1 (res)", "4×4×4", "shortcut is 4×8×8"],
        ),
        (
            "cat( conv k=1 c=2 | conv k=3 c=2 )",
            ["layer 1 (cat)", "path 1 gives 2×8×8", "path 2 gives 2×6×6"],
        ),
        ("conv k=1; res( conv k=1; res( conv k=2 ) )", ["layer 2.1.2 (res)", "3×7×7", "3×8×8"]),
        ("res( conv k=1 c=3; conv k=9 )", ["layer 1.1.2 (conv k=9)", "exceeds the padded input"]),
    ],
)
def test_branch_errors_name_both_shapes_and_the_item(run, spec, fragments):
    assert_error(run("outsize", "3x8x8", "--layers", spec), *fragments)


@pytest.mark.parametrize(
    "spec, fragment",
    [
        ("res( conv k=1", "'res(' is never closed"),
        ("conv k=1 )", "')' at layer 2 closes nothing"),
        ("conv k=1 | relu", "outside res( ) or cat( )"),
        ("res( relu | relu | relu )", "MAIN | SHORTCUT, got 3 paths"),
        ("res( )", "at least one layer"),
        ("cat( relu )", "two paths or more"),
        ("res( relu ) relu", "expected ';' between res( … ) and 'relu'"),
        ("( relu )", "'(' must follow res or cat"),
        ("flatten k=3", "flatten takes none"),
        ("linear", "needs a size n="),
        ("lstm h=0", "must be positive"),
        ("dropout p=1.5", "probability"),
        ("act f=1x", "names the activation"),
        ("relu;" * 20_001, "more than 20000 layers"),
        ("res( " * 17 + "relu" + " )" * 17, "nest deeper than 16"),
    ],
)
def test_grammar_errors(spec, fragment):
    with pytest.raises(InputError, match=None) as err:
        parse_network(spec)
    assert fragment in str(err.value)


def test_branch_jumps_that_differ_warn(run):
    result = run("outsize", "1x8x8", "--layers", "cat( conv k=2 s=2 | conv k=5 )")
    assert result.exit_code == 0 and result.stdout.startswith("# output\n2 4 4\n")
    assert "Warning: layers: layer 1 (cat): the paths' jumps differ (2, 1)" in result.stderr
    same = run("outsize", "1x8x8", "--layers", "cat( conv k=2 s=2 | maxpool k=2 )")
    assert same.exit_code == 0 and "Warning" not in same.stderr


# --- receptive fields against a brute-force walk --------------------------------------


def reaching(nodes, positions: set[int]) -> set[int]:
    """The input positions (unclamped, padding included) that the given output positions
    read, walking the layers backwards: a window at output o covers o·s − p + t·d."""
    for node in reversed(nodes):
        if isinstance(node, Block):
            paths = node.paths if node.kind == "cat" else node.paths + [[]] * (2 - len(node.paths))
            positions = set().union(*(reaching(path, positions) for path in paths))
            continue
        k, s = node.get("k"), node.get("s", node.get("k") if "pool" in node.kind else 1)
        p, d = node.get("p", 0), node.get("d", 1)
        positions = {o * s - p + t * d for o in positions for t in range(k)}
    return positions


def layer_text(k, s, p, d, kind):
    return f"{kind} k={k} s={s} p={p}" + (f" d={d}" if kind == "conv" else "")


@st.composite
def layer(draw):
    kind = draw(st.sampled_from(["conv", "conv", "maxpool", "avgpool"]))
    k = draw(st.integers(1, 4))
    d = draw(st.integers(1, 2)) if kind == "conv" else 1
    p = draw(st.integers(0, k // 2))
    return layer_text(k, draw(st.integers(1, 2)), p, d, kind)


@st.composite
def same_size(draw):
    """A layer that keeps the size: odd k, p = d(k−1)/2, stride 1 (a centred window)."""
    k = draw(st.sampled_from([1, 3, 5]))
    d = draw(st.integers(1, 2))
    return f"conv k={k} p={d * (k - 1) // 2} d={d}"


@st.composite
def branched(draw):
    items = []
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.integers(0, 3))
        if choice == 0:
            items.append(draw(layer()))
        elif choice == 1:
            main = draw(st.lists(same_size(), min_size=1, max_size=3))
            items.append("res( " + "; ".join(main) + " )")
        elif choice == 2:
            # a downsampling block: a centred 3×3 at stride 2 beside a 1×1 at stride 2
            items.append("res( conv k=3 s=2 p=1; " + draw(same_size()) + " | conv k=1 s=2 )")
        else:
            paths = draw(st.lists(st.lists(same_size(), max_size=2), min_size=2, max_size=3))
            items.append("cat( " + " | ".join("; ".join(p) for p in paths) + " )")
    return "; ".join(items)


@settings(max_examples=150, deadline=None)
@given(spec=branched(), n=st.integers(8, 40))
def test_receptive_field_against_brute_force(spec, n):
    try:
        nodes = parse_network(spec)
        result = summarize([1, n, n], nodes)
    except (InputError, ShapeError):
        assume(False)
    field = reaching(nodes, {0})
    last = result.records[-1]
    assert last.receptive_field == [max(field) - min(field) + 1] * 2
    assert last.rf_start == [min(field) + 1] * 2
    # and the record of every top-level item, from the spec up to it
    ends = [i for i, r in enumerate(result.records) if r.depth == 0]
    for count, index in enumerate(ends, start=1):
        field = reaching(nodes[:count], {0})
        assert result.records[index].rf_start == [min(field) + 1] * 2
        assert result.records[index].receptive_field == [max(field) - min(field) + 1] * 2


def axis(nodes, a: int):
    """The spec along one axis: every HxW value replaced by its a-th number."""
    out = []
    for node in nodes:
        if isinstance(node, Block):
            out.append(Block(node.kind, [axis(path, a) for path in node.paths]))
        else:
            values = {k: v[a] if isinstance(v, tuple) else v for k, v in node.values.items()}
            out.append(Op(node.kind, values))
    return out


def test_rectangular_receptive_fields_axis_by_axis():
    spec = "conv k=3x5 s=1x2 p=1x0 d=2x1; res( conv k=3x1 p=2x0 d=2x1 ); maxpool k=2x3 s=2x1"
    nodes = parse_network(spec)
    last = summarize([1, 20, 30], nodes).records[-1]
    fields = [reaching(axis(nodes, a), {0}) for a in (0, 1)]
    assert last.receptive_field == [max(f) - min(f) + 1 for f in fields] == [10, 9]
    assert last.rf_start == [min(f) + 1 for f in fields] == [-2, 1]
    assert last.jumps == [2, 2]


def test_published_receptive_fields():
    """Araujo, Norris and Sim's table: AlexNet 195 and VGG-16 212 after the last pool,
    jump 32; torchvision's ResNet-50 (stride in the 3×3) 427 after the last block."""
    for model, kind, rf in (("alexnet", "maxpool", 195), ("vgg16", "maxpool", 212)):
        recs = cr.output_size(None, model=model).records
        last = [r for r in recs if r.kind == kind][-1]
        assert (last.receptive_field, last.jumps) == ([rf, rf], [32, 32])
    recs = cr.output_size(None, model="resnet50").records
    last = [r for r in recs if r.kind == "res"][-1]
    assert (last.receptive_field, last.jumps) == ([427, 427], [32, 32])


def test_resnet50_paper_placement_gives_483():
    """The original paper puts the stride in the first 1×1 of each stage."""
    text = cr.model_spec("resnet50")
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "conv k=3 s=2" in line:
            lines[i] = line.replace(" s=2", "")
            j = i - 3  # the block's first 1×1
            assert lines[j].strip().startswith("conv k=1 c=")
            lines[j] = lines[j].replace("conv k=1", "conv k=1 s=2")
    recs = cr.output_size([3, 224, 224], layers="\n".join(lines)).records
    last = [r for r in recs if r.kind == "res"][-1]
    assert last.receptive_field == [483, 483] and last.jumps == [32, 32]


# --- the spec grammar -----------------------------------------------------------------

LEAVES = st.sampled_from(
    [
        "conv k=3 p=1",
        "conv k=1 c=4 g=2 bias=0",
        "convT k=2 s=2 op=1",
        "maxpool k=3 s=2 p=1 ceil=1",
        "avgpool k=2",
        "adaptiveavgpool o=2x3",
        "bn",
        "relu",
        "act f=gelu",
        "dropout p=0.25",
        "flatten",
        "linear n=10 bias=0",
        "lstm h=8 bidirectional=1",
    ]
)


def trees(depth=3):
    leaf = LEAVES.map(lambda text: parse_network(text)[0])
    if depth == 0:
        return leaf
    inner = st.lists(st.deferred(lambda: trees(depth - 1)), min_size=0, max_size=3)
    res = st.lists(inner, min_size=1, max_size=2).filter(lambda ps: bool(ps[0]))
    cat = st.lists(inner, min_size=2, max_size=3).filter(any)
    return st.one_of(
        leaf,
        res.map(lambda paths: Block("res", paths)),
        cat.map(lambda paths: Block("cat", paths)),
    )


@settings(max_examples=200, deadline=None)
@given(nodes=st.lists(trees(), min_size=1, max_size=4))
def test_format_then_parse_is_the_identity(nodes):
    assert parse_network(format_network(nodes)) == nodes


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(
        st.sampled_from(list("rescat()|;\n#= kpxcn0123 ") + ["conv", "relu", "res(", "k=3"]),
        max_size=30,
    ).map("".join)
)
def test_any_text_parses_or_is_one_input_error(text):
    try:
        nodes = parse_network(text)
    except InputError:
        return
    assert nodes and all(isinstance(n, (Op, Block)) for n in nodes)


# --- the models -----------------------------------------------------------------------

TORCH = json.loads((FIXTURES / "torch_model_layers.json").read_text())
TORCH_KIND = {
    "conv": "Conv2d",
    "bn": "BatchNorm2d",
    "linear": "Linear",
    "maxpool": "MaxPool2d",
    "avgpool": "AvgPool2d",
    "adaptiveavgpool": "AdaptiveAvgPool2d",
}
# torchinfo's "Total params" (sum(p.numel()) of the torchvision model, torch 2.13)
TOTALS = {
    "alexnet": 61_100_840,
    "vgg16": 138_357_544,
    "resnet18": 11_689_512,
    "resnet50": 25_557_032,
    "mobilenet_v2": 3_504_872,
    "lenet5": 61_706,
    "googlenet": 6_998_552,  # the paper's Table 1, built in torch for the fixture
}


@pytest.mark.parametrize("model", list(TOTALS))
def test_model_totals_and_every_layer_against_torch(model):
    result = cr.output_size(None, model=model)
    assert result.params == TOTALS[model] == TORCH[model]["params"]
    mine = [[TORCH_KIND[r.kind], r.shape, r.params] for r in result.records if r.kind in TORCH_KIND]
    theirs = TORCH[model]["rows"]
    if model == "mobilenet_v2":  # torchvision pools with a function, not a module
        mine = [row for row in mine if row[0] != "AdaptiveAvgPool2d"]
    assert mine == theirs


def test_alexnet_macs_and_resnet18_json(run_json):
    assert cr.output_size(None, model="alexnet").macs == 714_188_480
    doc = run_json("outsize", "--model", "resnet18")
    assert doc["result"]["params"] == 11_689_512
    # torch's 9,620 buffers count num_batches_tracked, one per BatchNorm (20 of them)
    assert doc["result"]["buffers"] == 9_620 - 20
    assert doc["params"] == {"input": [3, 224, 224], "model": "resnet18"}


def test_googlenet_blocks_agree_with_inception_presets():
    recs = cr.output_size(None, model="googlenet").records
    cats = [r for r in recs if r.kind == "cat"]
    names = ["3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"]
    assert len(cats) == len(names)
    for name, rec in zip(names, cats, strict=True):
        block = recs[recs.index(rec) - rec.children : recs.index(rec) + 1]
        preset = cr.inception(preset=name)
        assert sum(r.params for r in block) == preset.params, name
        assert sum(r.macs for r in block) == preset.macs, name
        assert rec.shape == preset.output_shape, name


@pytest.mark.parametrize("model", list(TOTALS))
def test_show_spec_reads_back(run, model):
    shown = run("outsize", "--model", model, "--show-spec").stdout
    lines = shown.splitlines()
    assert lines[0].startswith(f"# {model}: ") and lines[1].startswith("# input ")
    assert all(
        line.rstrip().endswith(";") or line.strip() in ("|", "res(", "cat(") for line in lines[2:]
    )
    shape = lines[1].removeprefix("# input ")
    back = json.loads(run("outsize", shape, "--layers", shown, fmt="json").stdout)
    direct = json.loads(run("outsize", "--model", model, fmt="json").stdout)
    assert back["result"] == direct["result"]


def test_depth_folds_the_rich_view(run):
    full = run("outsize", "--model", "resnet18", fmt="rich").stdout
    folded = run("outsize", "--model", "resnet18", "--depth", "0", fmt="rich").stdout
    assert "5.1.1 conv" in full and "5.1.1" not in folded
    assert "(5 layers folded)" in folded and "73,984" in folded  # 2·36,864 + 2·128
    assert "11,689,512" in folded


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["outsize", "--model", "resnet18", "--layers", "relu"], ["--model or --layers"]),
        (["outsize", "8", "-k", "3", "--depth", "1"], ["--depth applies to --layers"]),
        (["outsize", "8", "-k", "3", "--show-spec"], ["--show-spec applies"]),
        (["outsize", "3x8x8", "--layers", "relu", "--depth", "-1"], ["depth", "0 or more"]),
        (["outsize", "--model", "resnet19"], ["resnet19"]),
    ],
)
def test_cli_errors(run, args, fragments):
    assert_error(run(*args), *fragments)


def test_outsize_with_a_model_imports_no_numpy():
    import subprocess
    import sys

    code = (
        "import sys\nfrom cnnrnn_cli.cli.main import main\n"
        "sys.argv = ['cnnrnn', 'outsize', '--model', 'resnet50', '-f', 'json']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('numpy' in sys.modules, file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stderr.strip().splitlines()[-1] == "False", out.stderr


NETWORK_LATEX = [
    "outsize --model resnet18 --depth 1",
    'outsize 20x8 --layers "lstm h=4 bidirectional; linear n=3"',
    'outsize 3x16x16 --layers "cat( conv k=1 c=2 | maxpool k=3 s=1 p=1 ); flatten; linear n=4"',
    'outsize 5 --layers "convT k=3 s=2 p=1; adaptiveavgpool o=3"',
    "outsize --model lenet5 --show-spec",
]


def test_network_latex_is_well_formed_and_renders():
    import shutil

    import test_latex as tl

    outputs = {case: tl.run_latex(case) for case in NETWORK_LATEX}
    for case, text in outputs.items():
        assert tl.check_structure(text) == [], case
    assert "in = 400" in tl.run_latex(f'outsize 1x28x28 --layers "{LENET}"')
    module = tl.KATEX_DIR / "node_modules" / "katex"
    if not (module / "package.json").exists() or not shutil.which("node"):
        pytest.skip("KaTeX is not installed (tests/test_latex.py installs it)")
    segments = [
        [case, tex, display]
        for case, text in outputs.items()
        for tex, display in tl.split_latex(text)[0]
    ]
    assert segments
    _, failures = tl.katex_render(module, segments)
    assert failures == []


@pytest.mark.parametrize("width", [60, 80, 140])
@pytest.mark.parametrize(
    "args",
    [
        ["outsize", "--model", "resnet50"],
        ["outsize", "--model", "googlenet", "--depth", "1"],
        ["outsize", "20x8", "--layers", "lstm h=4 bidirectional; linear n=3"],
    ],
    ids=["resnet50", "googlenet-depth-1", "recurrent"],
)
def test_rich_view_fits_and_cuts_no_number(args, width):
    import test_width as tw

    text = tw.render(args, width)
    tw.check_layout(text, width)
    assert "Totals: " in text
    if "lstm" in args[-1]:
        assert " RF " not in text  # no receptive field without spatial layers


def test_every_model_is_stored_packaged_and_regenerated_alike():
    import make_models

    from cnnrnn_cli.core.models import MODELS
    from cnnrnn_cli.vocabulary import MODEL_NAMES

    assert tuple(MODELS) == MODEL_NAMES == tuple(make_models.DEFINITIONS)
    for name, build in make_models.DEFINITIONS.items():
        assert "\n".join(make_models.text(build())) + "\n" == cr.model_spec(name), name
    # a non-editable install carries the .txt specs only if setuptools is told to
    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '"cnnrnn_cli.core.models" = ["*.txt"]' in pyproject


def test_rich_view_of_a_long_network_is_summarised(run):
    spec = "; ".join(f"conv k=1 c={i}" for i in range(1, 401))
    text = run("outsize", "1x4x4", "--layers", spec, fmt="rich").stdout
    assert "… 100 more rows" in text and "-f plain or json lists every layer" in text
    assert " 270 conv k=1 c=270 " in text and " 271 conv" not in text
    assert " 371 conv k=1 c=371 " in text and " 400 conv k=1 c=400 " in text
    # c·C weights + c biases, C the previous layer's c (the input's 1 for the first)
    total = sum(c * max(c - 1, 1) + c for c in range(1, 401))
    assert f"{total:,}" in text.replace("\n", " ")
    plain = run("outsize", "1x4x4", "--layers", spec).stdout
    assert len([line for line in plain.splitlines() if " conv " in line]) == 400


def test_a_long_layer_wraps_under_its_own_spec():
    from click.testing import CliRunner

    from cnnrnn_cli.cli.main import cli

    spec = "res(conv k=3 p=1 c=64 bias=0; bn; relu; conv k=3 p=1 c=64 bias=0; bn)"
    result = CliRunner().invoke(
        cli, ["outsize", "64x56x56", "--layers", spec, "-f", "rich"], env={"COLUMNS": "80"}
    )
    lines = result.stdout.splitlines()
    at = next(n for n, line in enumerate(lines) if "1.1.1 conv k=3 p=1" in line)
    assert "bias=0" not in lines[at]  # at 80 columns the spec wraps...
    # ...and the rest sits under "conv", not at the table's edge
    assert lines[at + 1].index("bias=0") == lines[at].index("conv")
