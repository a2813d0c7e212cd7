"""`conv -g`, `--transposed`, `--output-padding` and `--grad` through the command line:
the numbers against naive loops (tests/naive.py), the explanation's claims against them."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_conv2d_grads, naive_conv_transpose2d, naive_grouped_conv2d

from cnnrnn_cli.cli.main import cli


def text(a) -> str:
    """A C×H×W or H×W array as the matrix grammar ('|' between channels)."""
    a = np.asarray(a)
    if a.ndim == 2:
        return "; ".join(" ".join(repr(float(v)) for v in row) for row in a)
    return " | ".join(text(ch) for ch in a)


def run(*args):
    result = CliRunner().invoke(cli, ["conv", *args])
    return result


def run_json(*args) -> dict:
    result = run(*args, "-f", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def kernel_arg(w, tmp_path, name="w.npy") -> str:
    path = tmp_path / name
    np.save(path, w)
    return f"@{path}"


@settings(max_examples=25, deadline=None)
@given(
    g=st.sampled_from([1, 2]),
    kg=st.integers(1, 2),
    h=st.integers(1, 4),
    f=st.integers(1, 3),
    s=st.integers(1, 3),
    p=st.integers(0, 2),
    d=st.integers(1, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_transposed_equals_the_scatter_definition(tmp_path_factory, g, kg, h, f, s, p, d, seed):
    op = (seed % max(s, d)) if max(s, d) > 1 else 0
    size = (h - 1) * s - 2 * p + d * (f - 1) + op + 1
    if size < 1:
        return
    rng = np.random.default_rng(seed)
    c = 2 * g
    x = rng.integers(-4, 5, (c, h, h)).astype(float)
    w = rng.integers(-3, 4, (c, kg, f, f)).astype(float)
    tmp = tmp_path_factory.mktemp("t")
    doc = run_json(
        *(text(x), "-k", kernel_arg(w, tmp), "--transposed", "-s", str(s), "-p", str(p)),
        *("-d", str(d), "-g", str(g), "--output-padding", str(op)),
    )
    expected = naive_conv_transpose2d(x, w, None, (s, s), (p, p), (op, op), (d, d), g)
    np.testing.assert_allclose(np.array(doc["result"]).reshape(expected.shape), expected)
    assert doc["params"]["transposed"] is True and doc["params"]["groups"] == g


@settings(max_examples=25, deadline=None)
@given(
    g=st.sampled_from([1, 2]),
    h=st.integers(3, 6),
    f=st.integers(1, 3),
    s=st.integers(1, 2),
    p=st.integers(0, 2),
    mode=st.sampled_from(["zeros", "reflect", "replicate", "circular"]),
    seed=st.integers(0, 2**32 - 1),
)
def test_grad_equals_the_chain_rule(tmp_path_factory, g, h, f, s, p, mode, seed):
    if mode == "reflect" and p >= h:
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(-4, 5, (2 * g, h, h)).astype(float)
    w = rng.integers(-3, 4, (2 * g, 2, f, f)).astype(float)
    out = naive_grouped_conv2d(x, w, None, (s, s), ((p, p), (p, p)), (1, 1), g, mode)
    grad = rng.integers(-2, 3, out.shape).astype(float)
    tmp = tmp_path_factory.mktemp("g")
    doc = run_json(
        *(text(x), "-k", kernel_arg(w, tmp), "--grad", kernel_arg(grad, tmp, "g.npy")),
        *("-s", str(s), "-p", str(p), "--pad-mode", mode, "-g", str(g), "-b", "0"),
    )
    gx, gw, gb = naive_conv2d_grads(x, w, grad, (s, s), ((p, p), (p, p)), (1, 1), g, mode)
    np.testing.assert_allclose(doc["grad_input"], gx, atol=1e-12)
    np.testing.assert_allclose(doc["grad_kernel"], gw, atol=1e-12)
    np.testing.assert_allclose(doc["grad_bias"], gb, atol=1e-12)


def test_grad_of_a_transposed_convolution_by_finite_differences():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    w = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0], [0.0, -1.0, 1.0]])
    args = ["--transposed", "-s", "2", "-p", "1", "--output-padding", "1"]
    g = np.arange(16.0).reshape(4, 4) / 7 - 1
    doc = run_json(text(x), "-k", text(w), *args, "--grad", text(g))

    def loss(x_, w_):
        out = run_json(text(x_), "-k", text(w_), *args)["result"]
        return float(np.sum(np.array(out) * g))

    h = 1e-3  # the output is linear in x and in w: central differences are exact
    for i, j in [(0, 0), (1, 1)]:
        e = np.zeros_like(x)
        e[i, j] = h
        numeric = (loss(x + e, w) - loss(x - e, w)) / (2 * h)
        assert doc["grad_input"][i][j] == pytest.approx(numeric, abs=1e-9)
    for u, v in [(0, 0), (1, 2)]:
        e = np.zeros_like(w)
        e[u, v] = h
        numeric = (loss(x, w + e) - loss(x, w - e)) / (2 * h)
        assert doc["grad_kernel"][u][v] == pytest.approx(numeric, abs=1e-9)


def rich(*args) -> str:
    result = CliRunner().invoke(cli, ["conv", *args, "-f", "rich"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_transposed_explanation_shows_both_views_and_they_agree():
    out = rich("1 2; 3 4", "-k", "1 0 1; 0 1 0; 1 0 1", "--transposed", "-s", "2", "-p", "1")
    assert "(a) Scatter" in out and "(b) The same as a direct convolution" in out
    line = re.search(r"out\[(\d+),(\d+)\] = ([^\n]+)", out)
    y, x = int(line.group(1)) - 1, int(line.group(2)) - 1
    terms, value = line.group(3).rsplit(" = ", 1)
    total = sum(float(a) * float(b) for a, b in re.findall(r"(-?[\d.]+)·(-?[\d.]+)", terms))
    doc = run_json("1 2; 3 4", "-k", "1 0 1; 0 1 0; 1 0 1", "--transposed", "-s", "2", "-p", "1")
    assert total == float(value) == doc["result"][y][x]
    assert total == 10  # 4 stamps overlap there: 1 + 2 + 3 + 4
    assert "1 zero between pixels" in out and "the same output" in out


def test_transposed_at_picks_the_cell():
    out = rich("1 2; 3 4", "-k", "1 1; 1 1", "--transposed", "--at", "1,1")
    assert "out[1,1] = 1·1 = 1" in out


def test_backward_explanation_says_what_its_numbers_show():
    args = ["--example", "--grad", "1 0 0; 0 1 0; 0 0 1"]
    out = rich(*args)
    doc = run_json(*args)
    weight = re.search(r"∂L/∂W\[1,1\] = Σ x\[window\]·G = ([^\n]+(?:\n\s+[+=][^\n]+)*)", out)
    terms, value = " ".join(weight.group(1).split()).rsplit(" = ", 1)
    pairs = re.findall(r"(-?[\d.]+)·(-?[\d.]+)", terms)
    assert len(pairs) == 9  # one term per window of the 3×3 output
    assert sum(float(a) * float(b) for a, b in pairs) == float(value) == doc["grad_kernel"][0][0]
    assert "∂L/∂x is the transposed convolution of G" in out
    assert "at stride 1 that is the full convolution" in out
    strided = rich("--example", "-s", "2", "--grad", "1 0; 0 1")
    assert "full-convolution shortcut does not apply" in strided
    assert "at stride 1 that is the full convolution" not in strided


def test_groups_explained_and_computed(tmp_path):
    rng = np.random.default_rng(3)
    x = rng.integers(-3, 4, (4, 4, 4)).astype(float)
    w = rng.integers(-2, 3, (2, 2, 2, 2)).astype(float)
    doc = run_json(text(x), "-k", kernel_arg(w, tmp_path), "-g", "2")
    np.testing.assert_allclose(doc["result"], naive_grouped_conv2d(x, w, groups=2))


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["1 2; 3 4", "-k", "1 0; 0 1", "--output-padding", "1"], "transposed"),
        (["1 2; 3 4", "-k", "1 0; 0 1", "--grad", "1 2; 3 4"], "grad"),
        (["1 2; 3 4", "-k", "1 0; 0 1", "-g", "0"], "groups"),
        (["1 2 | 3 4 | 5 6", "-k", "1 | 1 | 1", "-g", "2"], "groups"),
        (["1 2; 3 4", "-k", "1 0; 0 1", "--transposed", "--pad-mode", "reflect"], "pad"),
    ],
)
def test_bad_combinations_are_one_error(args, fragment):
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error:") and fragment in result.output.lower()
    assert result.output.count("\n") == 1


def test_animate_a_transposed_and_a_backward_run(tmp_path):
    movie = tmp_path / "t.svg"
    result = run(
        "1 2; 3 4", "-k", "1 0 1; 0 1 0; 1 0 1", "--transposed", "-s", "2", "--animate", str(movie)
    )
    assert result.exit_code == 0 and movie.read_text().count('class="f"') == 4
    result = run("--example", "--grad", "1 0 0; 0 1 0; 0 0 1", "--animate", str(movie))
    assert result.exit_code == 0 and movie.read_text().count('class="f"') == 9


def test_notes_backward_pass_is_the_sum_of_the_nine_windows():
    image = np.array(
        [[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]],
        dtype=float,
    )
    doc = run_json("--example", "--grad", "1 1 1; 1 1 1; 1 1 1")
    windows = sum(image[i : i + 3, j : j + 3] for i in range(3) for j in range(3))
    np.testing.assert_array_equal(doc["grad_kernel"], windows)
    assert doc["grad_kernel"][0][0] == 6


def test_issue_example_transposed_shows_both_views():
    out = rich("1 2; 3 4", "-k", "1 0; 0 1", "--transposed", "-s", "2")
    assert "(a) Scatter" in out and "(b) The same as a direct convolution" in out
    doc = run_json("1 2; 3 4", "-k", "1 0; 0 1", "--transposed", "-s", "2")
    assert doc["result"] == [[1, 0, 2, 0], [0, 1, 0, 2], [3, 0, 4, 0], [0, 3, 0, 4]]
