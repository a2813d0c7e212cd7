"""Long work: Jacobian norms against exact SVDs, no overflow at any scale, the work
bounded by the budget, the progress hook, and Ctrl-C honoured during an eigen-solver."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from cnnrnn_cli import budget, progress
from cnnrnn_cli.core import bptt as core
from cnnrnn_cli.errors import InputError


def explicit_norms(fprime, wh):
    T = fprime.shape[0]
    out, product = [1.0], np.eye(wh.shape[0])
    for t in range(T - 2, -1, -1):
        product = product @ (fprime[t + 1][:, None] * wh)
        out.append(np.linalg.svd(product, compute_uv=False)[0])
    return np.array(out[::-1])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("T, H, scale", [(40, 20, 1.0), (25, 33, 1.3), (60, 12, 0.8)])
def test_iterative_norms_agree_with_exact_svd(monkeypatch, seed, T, H, scale):
    arrays = core.random_case(T, 3, H, seed=seed, scale=scale)
    res = core.bptt(**arrays)
    monkeypatch.setattr(core, "EXACT_NORM_WORK", 0)  # force the subspace iteration
    norms, exact = core.jacobian_norms(res.fprime, res.rnn.wh)
    assert not exact
    np.testing.assert_allclose(norms, explicit_norms(res.fprime, res.rnn.wh), rtol=1e-9)


def test_non_normal_wh_and_large_h_paths(monkeypatch):
    rng = np.random.default_rng(3)
    wh = 0.3 * rng.standard_normal((30, 30))
    monkeypatch.setattr(core, "EIGVEC_MAX", 8)  # take the large-H path on a small case
    eig = core.eigen(wh)
    assert eig.diagonalizable is None and eig.vectors is None
    assert eig.singular_max == pytest.approx(np.linalg.norm(wh, 2), rel=1e-9)
    q, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    normal = core.eigen(2 * q)
    assert normal.diagonalizable is True and normal.cond == 1.0
    assert normal.singular_max == pytest.approx(2, rel=1e-12)


@pytest.mark.parametrize("scale", [0, 1e-300, 0.5, 1, 3, 1e10, 1e300])
def test_no_overflow_at_any_scale(scale):
    res = core.bptt(**core.random_case(1000, 1, 1, seed=0, scale=scale))
    assert np.isfinite(res.jacobian_norms).all() and np.isfinite(res.bound).all()
    assert res.log10_norms[-1] == 0


def test_log10_norms_go_beyond_float64():
    norms, _ = core.jacobian_norms(np.ones((1200, 2)), 2.0 * np.eye(2))
    assert norms[0] == np.finfo(float).max
    m, e, _ = core._jacobian_norm_parts(np.ones((1200, 2)), 2.0 * np.eye(2))
    assert core.jacobian_log10_norms(m, e)[0] == pytest.approx(1199 * np.log10(2))


def test_rich_view_of_an_exploding_scalar_case(run):
    out = run("bptt", "--random", "1000,1,1", "--scale", "3", "--seed", "0", "-f", "rich")
    assert out.exit_code == 0, out.output
    assert "e+476" in out.output  # 3^999, beyond float64


def test_work_is_bounded_by_the_budget():
    with pytest.raises(InputError, match="eigenvalues of W_h"):
        core.random_case(2, 1, 9000, seed=0, scale=1.0)
    with budget.limited(10**4), pytest.raises(InputError, match="W_h"):
        core.random_case(2, 1, 200, seed=0, scale=1.0)
    with budget.limited(10**6), pytest.raises(InputError, match="Jacobian products"):
        core.random_case(100, 1, 500, seed=0, scale=1.0)


def test_progress_hook_sees_the_steps():
    seen = []

    class Recorder(progress.Listener):
        def start(self, description, steps, seconds):
            seen.append(("start", description, steps))

        def advance(self, steps):
            seen.append(("advance", steps))

    with progress.listening(Recorder()):
        core.bptt(**core.random_case(50, 2, 4, seed=0, scale=1.0))
    starts = [s[1] for s in seen if s[0] == "start"]
    assert any("Jacobian" in s for s in starts) and any("eigen" in s for s in starts)
    jacobian = sum(s[1] for s in seen if s[0] == "advance")
    assert jacobian >= 49


def test_no_bar_without_a_terminal(run):
    out = run("bptt", "--random", "20,2,3", "--seed", "0", "-f", "json")
    assert out.exit_code == 0 and "━" not in out.output


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="needs /proc")
def test_ctrl_c_during_an_eigen_solver_exits_130_quickly():
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cnnrnn_cli",
            "bptt",
            "--random",
            "2,1,2500",
            "--seed",
            "0",
            "-f",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 120
        while _cpu_seconds(proc.pid) < 3.0 and proc.poll() is None:  # busy in LAPACK
            assert time.monotonic() < deadline, "never got busy"
            time.sleep(0.05)
        assert proc.poll() is None, "finished before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=30)
        waited = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err and out == b""
    assert waited < 5  # a hang detector, not a timing claim
