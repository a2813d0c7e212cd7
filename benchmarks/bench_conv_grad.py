"""Benchmark of the transposed, backward and depthwise conv kernels, side by side with torch.

    python benchmarks/bench_conv_grad.py [--quick] [--threads N]

float64 throughout. torch (never a dependency) is timed in the same run when installed,
with as many threads as we use (2 by default, the cores here), its autograd backward
measured alone (the forward done once, outside the timing). Prints ours / torch: below 1
means faster. On a machine shared with other work, `--threads 1` gives steadier ratios
(busy-waiting BLAS and OpenMP threads of two libraries fight for the same cores).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

PARSER = argparse.ArgumentParser(description=__doc__.splitlines()[0])
PARSER.add_argument("--quick", action="store_true", help="fewer repeats")
PARSER.add_argument("--threads", type=int, default=2, help="threads for both libraries")
ARGS = PARSER.parse_args()
for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = str(ARGS.threads)  # before NumPy and torch load their BLAS

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from timing import best_time, side_by_side  # noqa: E402

from cnnrnn_cli.core.conv import conv2d  # noqa: E402
from cnnrnn_cli.core.conv_grad import conv2d_backward  # noqa: E402
from cnnrnn_cli.core.transposed import conv_transpose2d  # noqa: E402

try:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(ARGS.threads)
except ImportError:
    torch = None


def row(name: str, ours: float, ref: float | None, target: str) -> None:
    if ref is None:
        print(f"  {name:<52} ours {ours * 1e3:9.2f} ms   (torch absent)")
        return
    print(
        f"  {name:<52} ours {ours * 1e3:9.2f} ms   torch {ref * 1e3:9.2f} ms"
        f"   ratio {ours / ref:6.3f}  {target}"
    )


def main() -> None:
    repeat = 3 if ARGS.quick else 7
    if ARGS.threads == 1:
        from cnnrnn_cli.core import parallel

        parallel.PARALLEL_WORK = 1 << 62  # our chunks on one thread too
    rng = np.random.default_rng(0)
    print(
        f"numpy {np.__version__}; torch {torch.__version__ if torch else 'absent'}; "
        f"{ARGS.threads} thread(s)"
    )

    print("transposed conv: 64×64×64 input, 64×64×4×4 weights, stride 2")
    x = rng.standard_normal((64, 64, 64))
    w = rng.standard_normal((64, 64, 4, 4))
    for p in (1, 0):

        def ours(p=p):
            return conv_transpose2d(x, w, stride=2, padding=p)

        ref = None
        if torch:
            tx, tw = torch.from_numpy(x)[None], torch.from_numpy(w)
            ours_t, ref = side_by_side(
                ours, lambda p=p: F.conv_transpose2d(tx, tw, stride=2, padding=p), repeat
            )
        else:
            ours_t = best_time(ours, repeat)
        row(f"padding {p} → {ours().output.shape}", ours_t, ref, "(target ≤ 1.0)")

    print("conv backward: 64×128×128 input, 64×64×3×3 weights, padding 1 (grad_input, grad_kernel)")
    x = rng.standard_normal((64, 128, 128))
    w = rng.standard_normal((64, 64, 3, 3))
    g = rng.standard_normal((64, 128, 128))
    forward = conv2d(x, w, padding=1)

    def backward():
        return conv2d_backward(forward, g)

    ref = None
    if torch:
        tx = torch.from_numpy(x)[None].requires_grad_()
        tw = torch.from_numpy(w).requires_grad_()
        ty = F.conv2d(tx, tw, padding=1)
        tg = torch.from_numpy(g)[None]

        def torch_backward():
            return torch.autograd.grad(ty, (tx, tw), tg, retain_graph=True)

        ours_t, ref = side_by_side(backward, torch_backward, repeat)
    else:
        ours_t = best_time(backward, repeat)
    row("backward (both gradients)", ours_t, ref, "(target ≤ 1.0)")

    print("depthwise conv (G = 64): 64×128×128 input, 64×1×3×3 weights, padding 1")
    w = rng.standard_normal((64, 1, 3, 3))

    def depthwise():
        return conv2d(x, w, padding=1, groups=64)

    ref = None
    if torch:
        tx, tw = torch.from_numpy(x)[None], torch.from_numpy(w)
        ours_t, ref = side_by_side(
            depthwise, lambda: F.conv2d(tx, tw, padding=1, groups=64), repeat
        )
    else:
        ours_t = best_time(depthwise, repeat)
    row("forward", ours_t, ref, "(target ≤ 0.5)")


if __name__ == "__main__":
    main()
