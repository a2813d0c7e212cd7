"""`outsize`: the notes' examples, a brute-force count of windows, layers, and the CLI."""

import itertools
import json
import math
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnrnn_cli.core.network import summarize
from cnnrnn_cli.core.sizes import conv_dim, output_size, transposed_dim
from cnnrnn_cli.errors import InputError, ShapeError
from cnnrnn_cli.io.netspec import parse_network
from conftest import assert_error


def brute_force_windows(n, f, s, p, d, ceil):
    """Count window start positions by enumeration (PyTorch's ceil-mode rule)."""
    padded = n + 2 * p
    span = d * (f - 1) + 1
    count = 0
    for start in range(0, padded + s, s):
        fits = start + span <= padded
        # ceil mode: a window may hang past the padded edge by less than a stride,
        # but may not start in the right padding.
        hangs = ceil and start + span < padded + s and start < n + p
        if fits or hangs:
            count += 1
    return count


@given(
    n=st.integers(1, 40),
    f=st.integers(1, 7),
    s=st.integers(1, 5),
    p=st.integers(0, 3),
    d=st.integers(1, 3),
    ceil=st.booleans(),
)
def test_formula_matches_brute_force(n, f, s, p, d, ceil):
    if d * (f - 1) + 1 > n + 2 * p:
        with pytest.raises(ShapeError):
            conv_dim(n, f, s, p, d, ceil=ceil)
        return
    dim = conv_dim(n, f, s, p, d, ceil=ceil)
    assert dim.out == brute_force_windows(n, f, s, p, d, ceil)
    assert dim.exact == ((n + 2 * p - d * (f - 1) - 1) % s == 0)


def test_the_notes_examples():
    assert output_size(3, kernel=2).output == 2
    assert output_size(3, kernel=2, padding=1).output == 4
    assert output_size((3, 3), kernel=2, padding=1).output == [4, 4]
    assert output_size(224, kernel=7, stride=2, padding=3).output == 112


def test_pytorch_ceil_mode_drops_a_window_starting_in_padding():
    # nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True) on 5: floor gives 3,
    # ceil would give 4 but its last window starts at 6 >= 5 + 1, so 3.
    dim = conv_dim(5, 2, 2, 1, ceil=True)
    assert dim.out == 3 and dim.ceil_dropped
    assert conv_dim(5, 2, 2, 0, ceil=True).out == 3  # a window hanging past the edge
    assert conv_dim(5, 2, 2, 0, ceil=False).out == 2


def scatter_length(n, f, s, p, d, op):
    """Length of a transposed conv output: scatter every input tap, crop P, add op."""
    positions = {i * s + k * d for i in range(n) for k in range(f)}
    return max(positions) + 1 - 2 * p + op


@given(
    n=st.integers(1, 12),
    f=st.integers(1, 5),
    s=st.integers(1, 4),
    p=st.integers(0, 2),
    d=st.integers(1, 3),
    op=st.integers(0, 3),
)
def test_transposed_against_scattering(n, f, s, p, d, op):
    expected = scatter_length(n, f, s, p, d, op)
    if op >= max(s, d):
        with pytest.raises(InputError, match="op < max"):
            transposed_dim(n, f, s, p, d, op)
    elif expected <= 0:
        with pytest.raises(ShapeError):
            transposed_dim(n, f, s, p, d, op)
    else:
        assert transposed_dim(n, f, s, p, d, op).out == expected


def test_transposed_pytorch_docs_example():
    # torch docs: a 12×12 downsampled by Conv2d(3, stride=2, padding=1) to 6×6 comes back
    # to 12×12 with ConvTranspose2d(3, stride=2, padding=1) and output_size (op = 1).
    assert output_size(
        (6, 6), kernel=3, stride=2, padding=1, transposed=True, output_padding=1
    ).output == [12, 12]


@given(n=st.integers(1, 60), f=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3))
def test_same_padding_keeps_size_or_gives_ceil(n, f, s, d):
    dim = conv_dim(n, f, s, "same", d)
    assert dim.out == math.ceil(n / s)
    assert dim.p_hi - dim.p_lo in (0, 1)
    if s == 1:
        assert dim.p_lo + dim.p_hi == d * (f - 1)


def test_full_and_valid():
    assert conv_dim(5, 3, 1, "full").out == 7
    assert conv_dim(5, 3, 1, "valid").out == 3


def layer_stack(shape, spec):
    return summarize(shape, parse_network(spec))


def test_resnet18_stem():
    stack = layer_stack([3, 224, 224], "conv k=7 s=2 p=3 c=64 bias=0; maxpool k=3 s=2 p=1")
    conv, pool = stack.records
    assert conv.shape == [64, 112, 112] and pool.shape == [64, 56, 56]
    assert conv.params == 64 * 3 * 7 * 7 == 9408
    assert conv.macs == 9408 * 112 * 112 == 118_013_952
    assert conv.flops == 2 * conv.macs
    assert (conv.receptive_field, conv.jumps, conv.rf_start) == ([7, 7], [2, 2], [-2, -2])
    assert (pool.receptive_field, pool.jumps, pool.rf_start) == ([11, 11], [4, 4], [-4, -4])
    assert pool.params == 0 and pool.macs == 0


def test_layers_defaults_and_transposed_jump():
    stack = layer_stack([8, 8], "maxpool k=2; convT k=2 s=2")
    assert [r.shape for r in stack.records] == [[4, 4], [8, 8]]
    assert stack.records[0].params == 0 and stack.records[1].params is None  # no channels
    assert stack.records[1].jumps == [1, 1] and stack.records[1].receptive_field == [4, 4]
    assert stack.params is None and stack.macs is None


def test_transposed_jump_can_be_a_fraction():
    (rec,) = layer_stack([5], "convT k=3 s=2 p=1").records
    # the equivalent direct conv: zeros between the inputs (spacing 1/2), d(k−1) − P = 1
    assert rec.jumps == [0.5] and rec.rf_start == [1 - 1 * 0.5]


@pytest.mark.parametrize(
    "spec, message",
    [
        ("pool k=2", "unknown layer kind 'pool'"),
        ("conv s=2", "needs a kernel size k="),
        ("conv k=3 q=1", "'q=1' is not key=value"),
        ("conv k=0", "must be positive, got 0"),
        ("maxpool k=2 c=3", "'c=3' is not key=value"),
        ("maxpool k=2 p=2", "more than half the window"),
        ("conv k=3 ceil", "'ceil' is not key=value"),
        ("avgpool k=2 op=1", "'op=1' is not key=value"),
        ("conv k=3 k=3", "k= is given twice"),
        ("conv k=3 c=2x2", "is not a whole number"),
    ],
)
def test_layer_spec_errors(spec, message):
    with pytest.raises(InputError, match=message):
        layer_stack([3, 32, 32], spec)


# --- through the CLI ------------------------------------------------------------------


def test_cli_notes_example_rich(run):
    out = run("outsize", "3", "-k", "2", "-p", "1", fmt="rich").stdout
    assert "(3 + 2·1 − 2)/1 + 1 = 4" in out
    assert "a 4×4 output for a 3×3 input" in out


def test_cli_plain_json_csv_latex(run, run_json):
    assert run("outsize", "3", "-k", "2").stdout == "2\n"
    assert run("outsize", "3x3", "-k", "2", "-p", "1").stdout == "4 4\n"
    doc = run_json("outsize", "224", "-k", "7", "-s", "2", "-p", "3")
    assert doc["command"] == "outsize" and doc["result"]["output"] == 112
    assert doc["result"]["exact"] is False and doc["params"]["kernel"] == 7
    assert (
        run("outsize", "3x8x8", "-k", "3", "-c", "16", "-f", "csv", fmt=None).stdout == "16,6,6\n"
    )
    latex = run("outsize", "3", "-k", "2", "-p", "1", "-f", "latex", fmt=None).stdout
    assert r"\frac{3 + 2(1) - 2}{1} + 1 = 4" in latex
    assert run("outsize", "5", "-k", "3", "--only", "exact").stdout == "true\n"


def test_cli_example_flag(run):
    assert run("outsize", "--example").stdout == "4 4\n"


def test_cli_layers_json_and_plain(run, run_json):
    doc = run_json(
        "outsize",
        "3x224x224",
        "--layers",
        "conv k=7 s=2 p=3 c=64; maxpool k=3 s=2 p=1; conv k=3 p=1 c=192",
    )
    res = doc["result"]
    assert res["output"] == [192, 56, 56]
    assert [layer["shape"] for layer in res["layers"]] == [
        [64, 112, 112],
        [64, 56, 56],
        [192, 56, 56],
    ]
    assert res["params"] == 9472 + 192 * 64 * 9 + 192
    assert res["flops"] == 2 * res["macs"]
    names = ("params", "buffers", "macs", "flops", "activations")
    assert res["totals"] == {name: res[name] for name in names}
    assert res["activations"] == 64 * 112 * 112 + 64 * 56 * 56 + 192 * 56 * 56
    assert res["layers"][2]["receptive_field"] == 19 and res["layers"][2]["jump"] == 4
    assert res["layers"][2]["rf_start"] == 1 - 3 * 1 - 1 * 2 - 1 * 4  # 1 + Σ −P·j
    plain = run("outsize", "3x224x224", "--layers", "conv k=7 s=2 p=3 c=64").stdout.splitlines()
    assert plain[-5] == (
        "# layers: item depth kind shape in params buffers macs flops activations "
        "receptive_field jump rf_start"
    )
    assert plain[-4] == "1 0 conv 64x112x112 null 9472 0 118013952 236027904 802816 7 2 -2"
    assert plain[-2:] == [
        "# totals: params buffers macs flops activations",
        "9472 0 118013952 236027904 802816",
    ]


def test_cli_same(run):
    result = run("outsize", "6", "-k", "2", "--same", "-f", "json", fmt=None)
    doc = json.loads(result.stdout)
    assert doc["result"]["output"] == 6 and doc["result"]["padding"] == [0, 1]
    assert "Warning: " in result.stderr and "one more pixel on the right" in result.stderr
    tf = json.loads(
        run("outsize", "7", "-k", "3", "-s", "2", "--same", "-f", "json", fmt=None).stdout
    )
    assert tf["result"]["output"] == 4


def test_cli_inexact_division_warns_when_image_pixels_are_lost(run):
    result = run("outsize", "5", "-k", "2", "-s", "2")
    assert result.stdout == "2\n"
    assert (
        "Warning: " in result.stderr
        and "the last row/column of the image is dropped" in result.stderr
    )


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["outsize", "3", "-k", "2", "-s", "0"], ["stride", "must be positive, got 0"]),
        (["outsize", "3", "-k", "5"], ["kernel", "exceeds the padded input"]),
        (["outsize", "3", "-k", "2", "-d", "3"], ["dilated size d(F−1)+1 = 4"]),
        (["outsize", "3x"], ["input", "expected N, HxW or CxHxW"]),
        (["outsize", "abc", "-k", "2"], ["input"]),
        (["outsize", "3"], ["kernel", "missing"]),
        (["outsize", "3", "-k", "2", "-p", "-1"], ["padding"]),
        (["outsize", "3", "-k", "2", "-p", "sane"], ["padding", "same, valid, full"]),
        (["outsize", "3", "-k", "2", "--same", "-p", "1"], ["--same"]),
        (["outsize", "3", "-k", "2", "--output-padding", "1"], ["only applies with --transposed"]),
        (
            ["outsize", "3", "-k", "3", "-s", "2", "--transposed", "--output-padding", "2"],
            ["op < max"],
        ),
        (["outsize", "3x3", "-k", "2x2x2"], ["kernel"]),
        (["outsize", "3", "-k", "2x2"], ["kernel", "2 values for a 1-D input"]),
        (["outsize", "3x8x8", "--layers", "conv k=3", "-k", "3"], ["--kernel cannot be given"]),
        (["outsize", "3", "-k", "2", "--only", "nope"], ["only", "no field 'nope'"]),
        (["outsize", "3", "-k", "2", "--bogus"], ["No such option"]),
    ],
)
def test_cli_errors(run, args, fragments):
    assert_error(run(*args), *fragments)


def test_outsize_imports_neither_numpy_nor_rich_for_plain_and_json():
    code = (
        "import sys\n"
        "from cnnrnn_cli.cli.main import main\n"
        "for fmt in ('plain', 'json'):\n"
        "    sys.argv = ['cnnrnn', 'outsize', '3x224x224', '-k', '7', '-f', fmt]\n"
        "    try:\n        main()\n    except SystemExit:\n        pass\n"
        "print('numpy' in sys.modules, 'rich' in sys.modules, file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stderr.strip().splitlines()[-1] == "False False", out.stderr


def test_real_subprocess_entry_points():
    for argv in (["cnnrnn"], [sys.executable, "-m", "cnnrnn_cli"]):
        out = subprocess.run(
            argv + ["outsize", "224", "-k", "7", "-s", "2", "-p", "3"],
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0 and out.stdout == "112\n", out.stderr
    bad = subprocess.run(["cnnrnn", "outsize", "3", "-k", "0"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.startswith("Error: kernel")
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("n, f, s, p", list(itertools.product([7, 8], [2, 3], [1, 2], [0, 1])))
def test_dims_pairs_are_independent(n, f, s, p):
    res = output_size((n, n + 3), kernel=(f, f + 1), stride=(s, 1), padding=(p, 0))
    assert res.output == [conv_dim(n, f, s, p).out, conv_dim(n + 3, f + 1, 1, 0).out]


def test_the_odd_pixel_is_named_only_when_there_is_one(run):
    # issue 12: 5 -k 3 --same pads 1 + 1, so there is no odd pixel to place
    even = run("outsize", "5", "-k", "3", "--same", fmt="rich").stdout
    assert "split 1 + 1" in even and "odd pixel" not in even
    assert (
        "odd pixel" not in run("outsize", "5", "-k", "3", "--same", "-f", "latex", fmt=None).stdout
    )
    odd = run("outsize", "6", "-k", "2", "--same", fmt="rich").stdout
    assert "split 0 + 1 (the odd pixel bottom/right)" in " ".join(odd.split())
    strided = run("outsize", "6", "-k", "3", "-s", "2", "--same", fmt="rich").stdout
    assert "split 0 + 1 (the odd pixel bottom/right)" in " ".join(strided.split())
