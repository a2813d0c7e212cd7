"""conv and pool: kernels against naive loops, gradients against finite differences,
the notes' examples, errors, and the CLI (pipes, stdin, formats)."""

import json
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_conv2d, naive_pool2d

from cnnrnn_cli.core.conv import conv2d
from cnnrnn_cli.core.pool import pool2d
from cnnrnn_cli.errors import CnnrnnError, InputError, ShapeError
from conftest import assert_error

NOTES_IMAGE = "1 1 1 0 0; 0 1 1 1 0; 0 0 1 1 1; 0 0 1 1 0; 0 1 1 0 0"
NOTES_KERNEL = "1 0 1; 0 1 0; 1 0 1"


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    c=st.integers(1, 3),
    k=st.integers(1, 3),
    h=st.integers(1, 8),
    w=st.integers(1, 8),
    fh=st.integers(1, 4),
    fw=st.integers(1, 4),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    ph=st.integers(0, 2),
    pw=st.integers(0, 2),
    dh=st.integers(1, 2),
    dw=st.integers(1, 2),
)
def test_conv_matches_naive_loop(seed, c, k, h, w, fh, fw, sh, sw, ph, pw, dh, dw):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c, h, w))
    weights = rng.standard_normal((k, c, fh, fw))
    b = rng.standard_normal(k)
    if dh * (fh - 1) + 1 > h + 2 * ph or dw * (fw - 1) + 1 > w + 2 * pw:
        with pytest.raises(ShapeError, match="exceeds the padded input"):
            conv2d(x, weights, (sh, sw), (ph, pw), (dh, dw), b)
        return
    ours = conv2d(x, weights, (sh, sw), (ph, pw), (dh, dw), b).output
    ref = naive_conv2d(x, weights, b, (sh, sw), ((ph, ph), (pw, pw)), (dh, dw))
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)


def test_notes_convolution():
    x = np.array(
        [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]], float
    )
    k = np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]], float)
    assert conv2d(x, k).output.tolist() == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]


@pytest.mark.parametrize(
    "h, w, f, s, d",
    [(5, 5, 2, 1, 1), (6, 7, 4, 1, 1), (7, 5, 3, 2, 1), (8, 8, 2, 3, 2), (5, 6, 4, 2, 1)],
)
def test_same_padding_even_kernels_and_strides(h, w, f, s, d):
    rng = np.random.default_rng(h * w + f)
    x, k = rng.standard_normal((h, w)), rng.standard_normal((f, f))
    res = conv2d(x, k, s, "same", d)
    assert res.output.shape == (-(-h // s), -(-w // s))
    pads = [(dim.p_lo, dim.p_hi) for dim in res.dims]
    for lo, hi in pads:
        assert hi - lo in (0, 1)  # the odd pixel on the bottom/right
    ref = naive_conv2d(x[None], k[None, None], None, (s, s), pads, (d, d))[0]
    np.testing.assert_allclose(res.output, ref, rtol=1e-12, atol=1e-12)


def test_full_padding_and_flip_is_true_convolution():
    rng = np.random.default_rng(1)
    x, k = rng.standard_normal((4, 5)), rng.standard_normal((3, 2))
    res = conv2d(x, k, padding="full", flip=True)
    # True convolution by the definition: out[i, j] = Σ x[a, b] k[i − a, j − b].
    ref = np.zeros((6, 6))
    for a in range(4):
        for b in range(5):
            ref[a : a + 3, b : b + 2] += x[a, b] * k
    np.testing.assert_allclose(res.output, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "mode, np_mode", [("reflect", "reflect"), ("replicate", "edge"), ("circular", "wrap")]
)
def test_pad_modes(mode, np_mode):
    rng = np.random.default_rng(2)
    x, k = rng.standard_normal((5, 6)), rng.standard_normal((3, 3))
    ours = conv2d(x, k, padding=2, pad_mode=mode).output
    ref = naive_conv2d(np.pad(x, 2, mode=np_mode)[None], k[None, None])[0]
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-12)


def test_kernel_shapes_and_modes():
    rng = np.random.default_rng(3)
    x2, x3 = rng.standard_normal((6, 6)), rng.standard_normal((3, 6, 6))
    k2, k3 = rng.standard_normal((3, 3)), rng.standard_normal((3, 3, 3))
    assert conv2d(x2, k2).mode == "single"
    res = conv2d(x3, k2)  # depthwise: each channel on its own
    assert res.mode == "depthwise" and res.output.shape == (3, 4, 4)
    for c in range(3):
        np.testing.assert_allclose(res.output[c], conv2d(x3[c], k2).output, atol=1e-12)
    summed = conv2d(x3, k3)  # C×F×F: summed over channels
    assert summed.mode == "channels" and summed.output.shape == (4, 4)
    np.testing.assert_allclose(
        summed.output, sum(conv2d(x3[c], k3[c]).output for c in range(3)), atol=1e-12
    )
    filters = conv2d(x2, k3)  # K×F×F on H×W: K one-channel filters
    assert filters.mode == "filters" and filters.output.shape == (3, 4, 4)
    res = conv2d(x3, k2, bias=[1, 2, 3])
    np.testing.assert_allclose(res.output[2] - conv2d(x3[2], k2).output, 3)


def test_chunked_gemm_equals_single_pass(monkeypatch):
    import cnnrnn_cli.core.conv as conv_module

    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 9, 7)), rng.standard_normal((3, 2, 3, 3))
    whole = conv2d(x, w, padding=1).output
    monkeypatch.setattr(conv_module, "CHUNK_ELEMENTS", 5)  # one output row a chunk
    np.testing.assert_allclose(conv2d(x, w, padding=1).output, whole, atol=1e-12)


def test_float32_stays_float32():
    x = np.ones((4, 4), np.float32)
    assert conv2d(x, np.ones((2, 2), np.float32)).output.dtype == np.float32


@pytest.mark.parametrize(
    "args, exc, message",
    [
        ((np.ones((3, 3)), np.ones((4, 4))), ShapeError, "exceeds the padded input"),
        ((np.ones((2, 5, 5)), np.ones((3, 3, 3))), ShapeError, "has 3 channels but the image"),
        ((np.ones((2, 5, 5)), np.ones((4, 3, 3, 3))), ShapeError, "expects 3 input channels"),
        (
            (np.ones((5, 5)), np.ones((3, 3, 3)), 1, 0, 1, [1, 2]),
            ShapeError,
            "2 values for 3 filters",
        ),
        ((np.ones((5, 5)), np.ones((3, 3)), 0), InputError, "must be 1 or more, got 0"),
        (
            (np.ones((3, 3)), np.ones((2, 2)), 1, 3, 1, None, "reflect"),
            ShapeError,
            "too large for reflect padding",
        ),
    ],
)
def test_conv_errors(args, exc, message):
    with pytest.raises(exc, match=message):
        conv2d(*args)


# --- pooling --------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    c=st.integers(1, 2),
    h=st.integers(1, 8),
    w=st.integers(1, 8),
    fh=st.integers(1, 4),
    fw=st.integers(1, 4),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    ph=st.integers(0, 2),
    pw=st.integers(0, 2),
    ceil=st.booleans(),
    include=st.booleans(),
    mode=st.sampled_from(["max", "avg", "min", "sum", "l2"]),
)
def test_pool_matches_naive_loop(seed, c, h, w, fh, fw, sh, sw, ph, pw, ceil, include, mode):
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, size=(c, h, w)).astype(float)  # small integers: many ties
    try:
        res = pool2d(x, (fh, fw), (sh, sw), (ph, pw), mode, ceil, include)
    except CnnrnnError as err:
        assert ph > fh // 2 or pw > fw // 2 or "exceeds" in str(err)
        return
    ref, arg = naive_pool2d(x, (fh, fw), (sh, sw), (ph, pw), mode, ceil, include)
    np.testing.assert_allclose(res.output, ref, rtol=1e-12, atol=1e-12)
    if mode in ("max", "min"):
        winners = np.stack(np.divmod(res.winners, res.padded.shape[2]), axis=-1)
        np.testing.assert_array_equal(winners - [ph, pw], arg)  # first extreme wins ties


def test_notes_pooling_and_size_check():
    x = np.array([[4, 3, 4], [2, 4, 3], [2, 3, 4]], float)
    res = pool2d(x, 2, 1)
    assert res.output.tolist() == [[4, 4], [4, 4]]
    assert res.dims[0].out == (3 + 2 * 0 - 2) // 1 + 1 == 2


def test_stride_defaults_to_size_and_global():
    x = np.arange(16.0).reshape(4, 4)
    assert pool2d(x, 2).output.tolist() == [[5, 7], [13, 15]]
    assert pool2d(x, global_pool=True).output == 15
    three = np.stack([x, -x, 2 * x])
    np.testing.assert_allclose(pool2d(three, mode="avg", global_pool=True).output, [7.5, -7.5, 15])


def test_max_pool_padding_is_minus_infinity_not_zero():
    x = -np.ones((2, 2))
    assert pool2d(x, 2, 1, 1).output.tolist() == [[-1] * 3] * 3
    assert pool2d(-x, 2, 1, 1, "min").output.tolist() == [[1] * 3] * 3


def test_ceil_mode_edge_cases():
    x = np.arange(25.0).reshape(5, 5)
    assert pool2d(x, 2, 2, 0, ceil=True).output.shape == (3, 3)  # a hanging window kept
    assert pool2d(x, 2, 2, 1, ceil=True).output.shape == (3, 3)  # one starting in padding: no
    # The hanging avg window is divided by its clipped size (PyTorch).
    assert pool2d(x, 2, 2, 0, "avg", ceil=True).output[2, 2] == 24


@pytest.mark.parametrize("mode", ["max", "min"])
def test_grad_against_finite_differences(mode):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 5, 6))  # distinct values: the winners do not move
    g = rng.standard_normal(pool2d(x, 3, 2, 1, mode).output.shape)
    analytic = pool2d(x, 3, 2, 1, mode, grad=g).grad_input
    eps = 1e-6
    numeric = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[index] += eps
        down[index] -= eps
        numeric[index] = (
            np.sum(g * pool2d(up, 3, 2, 1, mode).output)
            - np.sum(g * pool2d(down, 3, 2, 1, mode).output)
        ) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, atol=1e-6)


def test_grad_ties_go_to_the_first_maximum():
    x = np.array([[1.0, 1.0], [1.0, 1.0]])
    assert pool2d(x, 2, grad=[[5.0]]).grad_input.tolist() == [[5, 0], [0, 0]]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(size=2, padding=2), "more than half the window"),
        (dict(size=4), "exceeds the padded input"),
        (dict(size=2, stride=0), "must be 1 or more, got 0"),
        (dict(size=2, mode="avg", grad=np.ones((2, 2))), "does not match the output 1×1"),
        (dict(size=2, grad=np.ones((3, 3))), "does not match the output 1×1"),
    ],
)
def test_pool_errors(kwargs, message):
    with pytest.raises(CnnrnnError, match=message):
        pool2d(np.ones((3, 3)), **kwargs)


# --- CLI ------------------------------------------------------------------------------


def test_cli_notes_examples(run):
    assert run("conv", "--example").stdout == "4 3 4\n2 4 3\n2 3 4\n"
    assert run("conv", NOTES_IMAGE, "-k", NOTES_KERNEL).stdout == "4 3 4\n2 4 3\n2 3 4\n"
    assert run("pool", "--example").stdout == "4 4\n4 4\n"


def test_cli_rich_shows_the_working(run):
    out = run("conv", "--example", "--steps", "9", "--no-color", fmt="rich").stdout
    assert "4 = 1·1 + 0·1 + 1·1 + 0·0 + 1·1 + 0·1 + 1·0 + 0·0 + 1·1" in out
    assert "(5 + 2·0 − 3)/1 + 1 = 3" in out
    assert "cross-correlation" in out and "[1]" in out  # the window is marked without colour
    pool = run("pool", "--example", "--no-color", fmt="rich").stdout
    assert "max(4, 3, 2, 4) = 4" in pool and "(3 + 2·0 − 2)/1 + 1 = 2" in pool
    one = run("conv", "--example", "--at", "2,3", fmt="rich").stdout
    assert "cell (2,3): 3 = " in one and "cell (1,1)" not in one
    avg = run("pool", "4 3 4; 2 4 3; 2 3 4", "--mode", "avg", "-s", "1", fmt="rich").stdout
    assert "(4 + 3 + 2 + 4) / 4 = 3.25" in avg


def test_cli_latex_layout_of_the_notes(run):
    out = run("conv", "--example", "-f", "latex", fmt=None).stdout
    assert out.startswith(r"$$\begin{array}{|c|c|c|} \hline 1 & 0 & 1 \\ \hline")
    assert r"\cdot \begin{array}{|c|c|c|c|c|}" in out and r"\rightarrow" in out
    pool = run("pool", "--example", "-f", "latex", fmt=None).stdout
    assert r"\xrightarrow{\text{max pooling}}" in pool and r"\checkmark" in pool


def test_cli_json_and_grad(run_json):
    doc = run_json("pool", "4 3 4; 2 4 3; 2 3 4", "-k", "2", "-s", "1", "--grad", "1 2; 3 4")
    assert doc["result"] == [[4, 4], [4, 4]]
    assert doc["grad_input"] == [[1, 0, 2], [0, 7, 0], [0, 0, 0]]
    conv = run_json("conv", "--example")
    assert conv["command"] == "conv" and conv["result"] == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]


def test_cli_stdin_pipe_and_negative_literals(run):
    feature = run("conv", NOTES_IMAGE, "-k", NOTES_KERNEL).stdout
    assert run("pool", "-k", "2", "-s", "1", input=feature).stdout == "4 4\n4 4\n"
    assert run("pool", "-", "-k", "2", "-s", "1", input=feature).stdout == "4 4\n4 4\n"
    assert run("pool", "-1 2; 3 -4", "-k", "2").stdout == "3\n"
    assert run("conv", "−1 2; 3 −4", "-k", "1").stdout == "-1 2\n3 -4\n"


def test_cli_multichannel_and_files(run, tmp_path):
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((2, 5, 5)), rng.standard_normal((3, 2, 3, 3))
    np.save(tmp_path / "w.npy", w)
    (tmp_path / "x.json").write_text(json.dumps(x.tolist()))
    out = run("conv", f"@{tmp_path / 'x.json'}", "-k", f"@{tmp_path / 'w.npy'}", "-p", "1")
    got = np.array(
        [
            [list(map(float, row.split())) for row in block.splitlines()]
            for block in out.stdout.strip().split("\n\n")
        ]
    )
    assert np.array_equal(got, conv2d(x, w, padding=1).output)  # plain is exact


def test_cli_csv(run):
    assert run("conv", "--example", "-f", "csv", fmt=None).stdout == "4,3,4\n2,4,3\n2,3,4\n"


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["conv", "1 2 3; 4 5", "-k", "1"], ["image: row 2 has 2 values, expected 3"]),
        (["conv", "1 2; 3 4", "-k", "1 0 1; 0 1"], ["kernel: row 2 has 2 values, expected 3"]),
        (["conv", "1 2; 3 4", "-k", "1 2 3; 4 5 6; 7 8 9"], ["kernel", "exceeds the padded"]),
        (["conv", "1 2; 3 x", "-k", "1"], ["image: row 2, column 2: 'x' is not a number"]),
        (["conv", "1 2; 3 4", "-k", "1", "-s", "0"], ["stride", "positive"]),
        (["conv", "1 2; 3 4"], ["kernel", "missing"]),
        (["conv", "1 2 | 3 4", "-k", "1 1 | 1 1 | 1 1"], ["has 3 channels but the image"]),
        (["conv", "1 2; 3 4", "-k", "1 | 2 | 3", "-b", "1 2"], ["bias: 2 values for 3 filters"]),
        (["conv", "-", "-k", "-"], ["standard input is already read"]),
        (["conv", "@/no/such.npy", "-k", "1"], ["file not found"]),
        (["conv", "1 2; 3 4", "-k", "1", "--at", "3,1"], ["at", "outside the 2×2 output"]),
        (["conv", "1 2; 3 4", "-k", "1", "--at", "0,1"], ["at"]),
        (["pool", "1 2; 3 4", "-k", "2", "-p", "2"], ["more than half the window"]),
        (["pool", "1 2; 3 4", "--global", "-k", "2"], ["--global"]),
        (["pool", "1 2; 3 4", "-k", "1", "--grad", "1 2 3"], ["grad", "does not match"]),
        (["pool", "1 2; 3 nan"], ["not a finite number"]),
        (["pool", "1 2; 3 4", "--max-elements", "3"], ["over --max-elements 3"]),
        (["conv", "1e308 1e308", "-k", "1 1"], []),
    ],
)
def test_cli_errors(run, args, fragments):
    result = run(*args, input="1 2\n")
    if not fragments:  # overflow: still one clean error line
        assert_error(result, "overflows float64")
        return
    assert_error(result, *fragments)


def test_cli_max_elements_on_the_result(run):
    assert_error(
        run("conv", "1", "-k", "1", "-p", "10", "--max-elements", "100"),
        "result",
        "over --max-elements 100",
    )


def test_missing_primary_input_without_a_pipe():
    out = subprocess.run(
        ["cnnrnn", "pool", "-k", "2"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and out.stderr.startswith("Error: input: no input given")


def test_real_pipe_conv_into_pool():
    conv = subprocess.Popen(
        ["cnnrnn", "conv", NOTES_IMAGE, "-k", NOTES_KERNEL, "-f", "plain"], stdout=subprocess.PIPE
    )
    pool = subprocess.run(
        ["cnnrnn", "pool", "-k", "2", "-s", "1"],
        stdin=conv.stdout,
        capture_output=True,
        text=True,
        timeout=60,
    )
    conv.wait(timeout=60)
    assert pool.returncode == 0 and pool.stdout == "4 4\n4 4\n", pool.stderr


def test_head_closing_the_pipe_is_quiet():
    # A 3001×3001 result (9 M numbers) cut after one line by head.
    out = subprocess.run(
        ["bash", "-c", "cnnrnn conv 0 -k 1 -p 1500 -f plain | head -n 1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.stdout == " ".join(["0"] * 3001) + "\n"
    assert out.stderr == ""
