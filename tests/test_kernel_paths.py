"""The threaded and chunked kernel paths, forced on small inputs, against the naive loops.

On small inputs the kernels take one chunk on one thread; here the chunk sizes and the
work threshold are shrunk so that every path splits its work into many chunks spread
over a thread pool, which must not change a single number.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from naive import naive_conv2d, naive_pool2d

from cnnrnn_cli.core import conv, parallel, pool


@pytest.fixture
def many_small_chunks(monkeypatch):
    """Chunks of a few elements, threads for any work; counts the chunks sent to threads."""
    submitted = []
    executor = parallel._executor()

    class Counting:
        def submit(self, fn, *args):
            submitted.append(fn)
            return executor.submit(fn, *args)

    monkeypatch.setattr(parallel, "PARALLEL_WORK", 0)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(parallel, "_executor", lambda: Counting())
    for module, name in (
        (conv, "CHUNK_ELEMENTS"),
        (conv, "CACHE_ELEMENTS"),
        (conv, "GEMM_CHUNK_ELEMENTS"),
        (pool, "CACHE_ELEMENTS"),
    ):
        monkeypatch.setattr(module, name, 7)
    return submitted


shapes = st.tuples(st.integers(1, 3), st.integers(3, 9), st.integers(3, 9))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shape=shapes,
    k=st.integers(1, 3),
    f=st.integers(1, 3),
    s=st.integers(1, 3),
    d=st.integers(1, 2),
    p=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_conv_paths_match_the_naive_loop(many_small_chunks, shape, k, f, s, d, p, seed):
    c, h, w = shape
    if d * (f - 1) + 1 > min(h, w) + 2 * p:
        return
    rng = np.random.default_rng(seed)
    x, weights = rng.standard_normal(shape), rng.standard_normal((k, c, f, f))
    expected = naive_conv2d(x, weights, stride=(s, s), pads=((p, p), (p, p)), dilation=(d, d))
    got = conv.conv2d(x, weights, s, p, d).output  # implicit GEMM (s = 1) or im2col
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    # One kernel on every channel: shift-and-add, chunked by rows.
    single = conv.conv2d(x, weights[0, 0], s, p, d).output.reshape(c, *expected.shape[1:])
    for ch in range(c):
        np.testing.assert_allclose(
            single[ch],
            naive_conv2d(
                x[ch : ch + 1],
                weights[:1, :1],
                stride=(s, s),
                pads=((p, p), (p, p)),
                dilation=(d, d),
            )[0],
            rtol=1e-12,
            atol=1e-12,
        )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    shape=shapes,
    f=st.integers(1, 3),
    s=st.integers(1, 3),
    mode=st.sampled_from(["max", "avg", "min", "sum"]),
    seed=st.integers(0, 2**16),
)
def test_pool_paths_match_the_naive_loop(many_small_chunks, shape, f, s, mode, seed):
    x = np.random.default_rng(seed).standard_normal(shape)
    p = f // 2
    expected, _ = naive_pool2d(x, (f, f), (s, s), (p, p), mode)
    got = pool.pool2d(x, f, s, p, mode).output
    np.testing.assert_allclose(got.reshape(expected.shape), expected, rtol=1e-12, atol=1e-12)


def test_the_paths_really_run_in_chunks_on_threads(many_small_chunks, monkeypatch):
    x = np.random.default_rng(0).standard_normal((3, 12, 12))
    conv.conv2d(x, np.ones((2, 3, 3, 3)), 1, 1)
    conv.conv2d(x, np.ones((2, 3, 3, 3)), 2, 1)
    conv.conv2d(x[0], np.ones((3, 3)), 1, 1)
    pool.pool2d(x, 3, 1, 1, "max")
    threaded = {fn.__qualname__.split(".")[0] for fn in many_small_chunks}
    assert threaded == {"_pad_constant", "_shift_and_add", "_reduce"}
    assert len(many_small_chunks) > 10
    # The GEMM paths chunk their rows in one thread (BLAS has its own): 12 rows of 14
    # padded columns in chunks of 7 elements is a chunk per row.
    products = []
    matmul = np.matmul

    def counting(a, b, *args, **kwargs):
        products.append(b.shape)
        return matmul(a, b, *args, **kwargs)

    monkeypatch.setattr(np, "matmul", counting)
    conv.conv2d(x, np.ones((2, 3, 3, 3)), 1, 1)
    assert len(products) == 12 * 9  # 12 chunks of one row, 9 taps each


def test_work_handed_out_from_a_pool_thread_stays_on_it():
    """parallel_map called on one of the pool's own threads runs there: with every worker
    handing work back to the pool and waiting, none would be left to do it. In a process
    of its own, so that a regression fails by the timeout instead of hanging."""
    import subprocess
    import sys

    code = (
        "from cnnrnn_cli.core import parallel\n"
        "parallel.PARALLEL_WORK = 0\n"
        "parallel.os.cpu_count = lambda: 2\n"
        "done = []\n"
        "def outer(i):\n"
        "    parallel.parallel_map(done.append, range(10), work=1)\n"
        "parallel.parallel_map(outer, range(8), work=1)\n"
        "print(len(done))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["80"], out.stderr
