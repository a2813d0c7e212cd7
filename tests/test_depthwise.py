"""The two depthwise kernels (core/depthwise.py) against the naive loop.

The block Toeplitz product runs the taps as a matrix product whose rows are runs of
output columns: the width is cut into whole runs and a remainder, the rows and channels
into pieces, and each piece gathered as whole runs of input pixels. Every one of those
cuts is exercised here: widths below, at and across the run length, strides and
dilations along each axis, several filters per channel, pieces of a few rows.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naive import naive_grouped_conv2d

from cnnrnn_cli.core import depthwise, parallel
from cnnrnn_cli.core.conv import conv2d


def close(a, b, tol=1e-12):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


geometry = dict(
    seed=st.integers(0, 2**32 - 1),
    c=st.integers(1, 3),
    m=st.integers(1, 3),
    h=st.integers(1, 9),
    w=st.integers(1, 40),
    fh=st.integers(1, 3),
    fw=st.integers(1, 4),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    dh=st.integers(1, 2),
    dw=st.integers(1, 3),
)


def _case(seed, c, m, h, w, fh, fw, sh, sw, dh, dw):
    """(x, weights, out_hw) of a valid geometry, or None."""
    if dh * (fh - 1) + 1 > h or dw * (fw - 1) + 1 > w:
        return None
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((c, h, w))
    weights = rng.standard_normal((c * m, 1, fh, fw))
    out_hw = ((h - dh * (fh - 1) - 1) // sh + 1, (w - dw * (fw - 1) - 1) // sw + 1)
    return x, weights, out_hw


@settings(max_examples=150, deadline=None)
@given(**geometry)
def test_both_kernels_match_the_naive_loop(seed, c, m, h, w, fh, fw, sh, sw, dh, dw):
    case = _case(seed, c, m, h, w, fh, fw, sh, sw, dh, dw)
    if case is None:
        return
    x, weights, out_hw = case
    expected = naive_grouped_conv2d(x, weights, stride=(sh, sw), dilation=(dh, dw), groups=c)
    for kernel in (depthwise.toeplitz_product, depthwise.shift_and_add):
        got = kernel(x, weights, out_hw, (sh, sw), (dh, dw))
        assert got.shape == expected.shape
        close(got, expected)


@pytest.fixture
def tiny_pieces(monkeypatch):
    """Pieces of a row or two, runs of 5 columns, threads for any work."""
    monkeypatch.setattr(depthwise, "PIECE_ELEMENTS", 40)
    monkeypatch.setattr(depthwise, "BLOCK", 5)
    monkeypatch.setattr(depthwise, "ITEMS", 3)
    monkeypatch.setattr(parallel, "PARALLEL_WORK", 0)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(**geometry)
def test_pieces_and_runs_on_threads_change_nothing(
    tiny_pieces, seed, c, m, h, w, fh, fw, sh, sw, dh, dw
):
    case = _case(seed, c, m, h, w, fh, fw, sh, sw, dh, dw)
    if case is None:
        return
    x, weights, out_hw = case
    expected = naive_grouped_conv2d(x, weights, stride=(sh, sw), dilation=(dh, dw), groups=c)
    close(depthwise.toeplitz_product(x, weights, out_hw, (sh, sw), (dh, dw)), expected)


def test_the_product_runs_for_3x3_and_shift_and_add_for_1x1(monkeypatch):
    calls = []
    for name in ("toeplitz_product", "shift_and_add"):
        original = getattr(depthwise, name)
        monkeypatch.setattr(
            depthwise, name, lambda *a, _f=original, _n=name: calls.append(_n) or _f(*a)
        )
    x = np.random.default_rng(0).standard_normal((4, 20, 20))
    conv2d(x, np.ones((4, 1, 3, 3)), padding=1, groups=4)
    conv2d(x, np.ones((4, 1, 1, 1)), groups=4)
    assert calls == ["toeplitz_product", "shift_and_add"]


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_a_non_finite_pixel_reaches_only_its_own_windows(bad):
    """In the product, 0·∞ = NaN would spread over the whole run of 16 columns; the
    piece is then computed again by shift and add, as the frameworks compute it."""
    x = np.zeros((2, 8, 40))
    x[1, 4, 20] = bad
    w = np.ones((2, 1, 3, 3))
    got = conv2d(x, w, padding=1, groups=2).output
    with np.errstate(invalid="ignore"):
        expected = naive_grouped_conv2d(x, w, pads=((1, 1), (1, 1)), groups=2)
    np.testing.assert_array_equal(got, expected)
    assert np.isfinite(got[0]).all() and np.isfinite(got[1]).sum() == 8 * 40 - 9


def test_float32_stays_float32_and_agrees():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 30, 37)).astype(np.float32)
    w = rng.standard_normal((6, 1, 3, 3)).astype(np.float32)
    got = conv2d(x, w, padding=1, groups=3).output
    assert got.dtype == np.float32
    expected = naive_grouped_conv2d(
        x.astype(np.float64), w.astype(np.float64), pads=((1, 1), (1, 1)), groups=3
    )
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_the_fallback_on_a_worker_thread_does_not_wait_for_the_pool():
    """A piece recomputed by shift and add runs on a worker of the thread pool, which must
    not hand its work back to the pool and wait (every worker doing so deadlocked). In a
    process of its own, so that a regression fails by the timeout instead of hanging."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from cnnrnn_cli.core import parallel, depthwise\n"
        "from cnnrnn_cli.core.conv import conv2d\n"
        "parallel.PARALLEL_WORK = 0\n"
        "depthwise.PIECE_ELEMENTS = 200\n"
        "x = np.ones((4, 60, 60))\n"
        "x[:, 30, 30] = np.nan\n"
        "out = conv2d(x, np.ones((12, 1, 5, 5)), groups=4).output\n"
        "print(int(np.isnan(out).sum()))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == [str(12 * 25)], done.stderr  # 5×5 windows per filter


def test_finite_outputs_whose_sum_overflows_are_kept():
    """Near 1e306 a piece's sum overflows while every output is finite: the product's
    numbers stand (no needless recomputation), equal to the naive loop's."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1, (2, 20, 30)) * 1e306
    w = np.full((4, 1, 3, 3), 0.1)
    got = depthwise.toeplitz_product(x, w, (18, 28), (1, 1), (1, 1))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, naive_grouped_conv2d(x, w, groups=2), rtol=1e-12)
