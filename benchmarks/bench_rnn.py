"""Benchmark of the RNN maths, side by side with torch autograd in one run.

    python benchmarks/bench_rnn.py [--quick]

BPTT analysis: the Jacobian norms ‖∂h_T/∂h_t‖ for every t (T = 1000, H = 512) and the
eigen-analysis of W_h, against the first release's way (the explicit product, a batched
exact SVD of each) on a shorter run, per step.

BPTT: forward pass plus every gradient for T = 1000, D = 64, H = 128 in float64,
against the same maths through torch autograd; the same for GRU and LSTM cells
(core.gated_bptt, every parameter's gradient, h0 and c0 too) against torch autograd over
GRUCell/LSTMCell loops (target: at most 0.5× torch's time); GRU: one step and a T = 1000
sequence (D = 64, H = 128) against torch.nn.GRUCell in float64. torch is used when
it happens to be installed; it is never a dependency. Prints ratios: ours / torch,
below 1 is faster.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from timing import best_time, side_by_side  # noqa: E402

from cnnrnn_cli.core.bptt import forward_backward, make_rnn, random_case  # noqa: E402
from cnnrnn_cli.core.gru import from_torch, gru_step  # noqa: E402

try:
    import torch

    torch.set_num_threads(2)
except ImportError:
    torch = None


def report(name: str, ours: float, ref: float | None, target: str) -> None:
    if ref is None:
        print(f"  {name:<40} ours {ours * 1e3:8.2f} ms   (torch absent)")
        return
    print(
        f"  {name:<40} ours {ours * 1e3:8.2f} ms   torch {ref * 1e3:8.2f} ms   "
        f"ratio {ours / ref:6.3f}  {target}"
    )


def bench_bptt(repeat: int) -> None:
    arrays = random_case(1000, 64, 128, seed=0, scale=0.9)
    rnn = make_rnn(arrays["xs"], arrays["wx"], arrays["wh"], arrays["b"])
    y = arrays["y"]

    def ours():
        return forward_backward(rnn, y, "tanh")

    ref = None
    if torch is not None:
        xs = torch.from_numpy(rnn.xs)
        target = torch.from_numpy(y)
        params = {
            k: torch.tensor(v, requires_grad=True)
            for k, v in dict(wx=rnn.wx, wh=rnn.wh, b=rnn.b, h0=rnn.h0).items()
        }

        def torch_bptt():
            for p in params.values():
                p.grad = None
            inputs = xs @ params["wx"].T + params["b"]  # hoisted like ours
            h = params["h0"]
            for t in range(inputs.shape[0]):
                h = torch.tanh(inputs[t] + params["wh"] @ h)
            loss = 0.5 * ((h - target) ** 2).sum()
            loss.backward()
            return loss

        t_ours, ref = side_by_side(ours, torch_bptt, repeat)
        torch_bptt()
        np.testing.assert_allclose(
            ours().grads["wh"], params["wh"].grad.numpy(), rtol=1e-9, atol=1e-12
        )
    else:
        t_ours = best_time(ours, repeat)
    report("BPTT T=1000 D=64 H=128 float64", t_ours, ref, "(target ≤ 0.25)")


def bench_analysis(repeat: int, quick: bool) -> None:
    from cnnrnn_cli.core.bptt import _jacobian_norm_parts, eigen, forward_backward

    T, H = (200, 256) if quick else (1000, 512)
    arrays = random_case(T, 64, H, seed=0, scale=1.0)
    rnn = make_rnn(arrays["xs"], arrays["wx"], arrays["wh"], arrays["b"])
    fprime = forward_backward(rnn, arrays["y"], "tanh").fprime

    def ours():
        _jacobian_norm_parts(fprime, rnn.wh)
        eigen(rnn.wh)

    steps = 50  # the reference: the product and an exact SVD of it each step

    def reference():
        product = np.eye(H)
        for t in range(T - 2, T - 2 - steps, -1):
            product = product @ (fprime[t + 1][:, None] * rnn.wh)
            np.linalg.svd(product, compute_uv=False)
        np.linalg.eig(rnn.wh)

    a = best_time(ours, max(1, repeat // 3))
    b = best_time(reference, max(1, repeat // 3)) * (T - 1) / steps
    name = f"BPTT analysis T={T} H={H} (norms + eigen)"
    print(
        f"  {name:<40} ours {a * 1e3:8.1f} ms"
        f"   SVD per step {b * 1e3:8.1f} ms (extrapolated)   ratio {a / b:6.3f}"
    )


def bench_gru(repeat: int) -> None:
    dim, hidden, steps = 64, 128, 1000
    rng = np.random.default_rng(0)
    x, h = rng.standard_normal(dim), rng.standard_normal(hidden)
    xs = rng.standard_normal((steps, dim))
    if torch is not None:
        torch.manual_seed(0)
        cell = torch.nn.GRUCell(dim, hidden).double()
        arrays = {
            k: getattr(cell, k).detach().numpy().copy()
            for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        }
    else:
        bound = 1 / np.sqrt(hidden)
        arrays = {
            "weight_ih": rng.uniform(-bound, bound, (3 * hidden, dim)),
            "weight_hh": rng.uniform(-bound, bound, (3 * hidden, hidden)),
            "bias_ih": rng.uniform(-bound, bound, 3 * hidden),
            "bias_hh": rng.uniform(-bound, bound, 3 * hidden),
        }
    weights = from_torch(arrays)

    def ours_step():
        return gru_step(x, h, **weights)

    def ours_seq():
        return gru_step(xs=xs, h=h, **weights)

    if torch is None:
        report("GRU one step D=64 H=128", best_time(ours_step, repeat * 20), None, "")
        report("GRU sequence T=1000", best_time(ours_seq, repeat), None, "")
        return
    tx, th, txs = (torch.from_numpy(a) for a in (x, h, xs))

    def torch_step():
        with torch.no_grad():
            return cell(tx, th)

    def torch_seq():
        with torch.no_grad():
            state = th
            for t in range(steps):
                state = cell(txs[t], state)
            return state

    a, b = side_by_side(ours_step, torch_step, repeat * 20)
    report("GRU one step D=64 H=128 float64", a, b, "(target ≤ 0.5)")
    a, b = side_by_side(ours_seq, torch_seq, repeat)
    report("GRU sequence T=1000 D=64 H=128", a, b, "(target ≤ 0.5)")
    np.testing.assert_allclose(ours_seq().h[-1], torch_seq().numpy(), atol=1e-12)


def bench_gated_bptt(repeat: int) -> None:
    """BPTT through a GRU and an LSTM cell, T = 1000, D = 64, H = 128, many-to-one with the
    loss on h_T, against torch autograd over a GRUCell/LSTMCell loop (same maths)."""
    from cnnrnn_cli.core import gated_bptt, gru, lstm

    dim, hidden, steps = 64, 128, 1000
    rng = np.random.default_rng(0)
    xs, y = rng.standard_normal((steps, dim)), rng.standard_normal(hidden)
    for kind in ("gru", "lstm"):
        gates = 3 if kind == "gru" else 4
        bound = 1 / np.sqrt(hidden)
        arrays = {
            "weight_ih": rng.uniform(-bound, bound, (gates * hidden, dim)),
            "weight_hh": rng.uniform(-bound, bound, (gates * hidden, hidden)),
            "bias_ih": rng.uniform(-bound, bound, gates * hidden),
            "bias_hh": rng.uniform(-bound, bound, gates * hidden),
        }
        weights = (gru if kind == "gru" else lstm).from_torch(arrays)

        def ours(kind=kind, weights=weights):
            return gated_bptt.bptt(kind, xs, y=y, **weights)

        name = f"{kind.upper()} BPTT T=1000 D=64 H=128 float64"
        if torch is None:
            report(name, best_time(ours, repeat), None, "")
            continue
        cell = (torch.nn.GRUCell if kind == "gru" else torch.nn.LSTMCell)(dim, hidden).double()
        with torch.no_grad():
            for key, value in arrays.items():
                getattr(cell, key).copy_(torch.from_numpy(value))
        txs, ty = torch.from_numpy(xs), torch.from_numpy(y)

        def torch_bptt(kind=kind, cell=cell, txs=txs, ty=ty):
            cell.zero_grad()
            h = torch.zeros(hidden, dtype=torch.float64, requires_grad=True)
            state = h if kind == "gru" else (h, torch.zeros(hidden, dtype=torch.float64))
            for t in range(steps):
                state = cell(txs[t], state)
            last = state if kind == "gru" else state[0]
            loss = 0.5 * ((last - ty) ** 2).sum()
            loss.backward()
            return loss

        a, b = side_by_side(ours, torch_bptt, repeat)
        report(name, a, b, "(target ≤ 0.5)")
        torch_bptt()
        np.testing.assert_allclose(
            ours().grads["wh" + ("h" if kind == "gru" else "g")],
            cell.weight_hh.grad.numpy()[2 * hidden : 3 * hidden],
            rtol=1e-9,
            atol=1e-12,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    print(f"numpy {np.__version__}; torch {torch.__version__ if torch else 'absent'}")
    bench_bptt(repeat)
    bench_analysis(repeat, args.quick)
    bench_gru(repeat)
    bench_gated_bptt(repeat)


if __name__ == "__main__":
    main()
