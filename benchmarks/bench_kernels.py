"""Benchmark of the conv and pool kernels, side by side with references in one run.

    python benchmarks/bench_kernels.py [--quick]

References: a naive Python loop (small input only), and scipy.signal.correlate2d,
torch.nn.functional.conv2d / max_pool2d when they happen to be installed (never a
dependency). Prints ratios (ours / reference: below 1 means faster) and the conv
kernel's peak extra memory relative to its input plus output.
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from timing import best_time, side_by_side  # noqa: E402

from cnnrnn_cli.core.conv import conv2d  # noqa: E402
from cnnrnn_cli.core.pool import pool2d  # noqa: E402

try:
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(2)
except ImportError:
    torch = None
try:
    from scipy.signal import correlate2d
except ImportError:
    correlate2d = None


def peak_extra_memory(fn, inputs_and_output_bytes: int) -> float:
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    out = fn()
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    extra = peak - out.nbytes
    return extra / inputs_and_output_bytes


def row(name: str, ours: float, ref: float, ref_name: str, target: str = "") -> None:
    print(
        f"  {name:<44} ours {ours * 1e3:9.2f} ms   {ref_name:<14} {ref * 1e3:9.2f} ms"
        f"   ratio {ours / ref:6.3f}  {target}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    rng = np.random.default_rng(0)
    print(
        f"numpy {np.__version__}; torch {torch.__version__ if torch else 'absent'}; "
        f"scipy {'present' if correlate2d else 'absent'}"
    )

    print("conv, naive loop (small input: 1×32×32, 3×3)")
    from naive import naive_conv2d

    x, w = rng.standard_normal((1, 32, 32)), rng.standard_normal((1, 1, 3, 3))
    ours, ref = side_by_side(lambda: conv2d(x[0], w[0, 0]), lambda: naive_conv2d(x, w), 3)
    row("32×32, 3×3", ours, ref, "naive loop")

    print("conv, single channel 512×512")
    for f in (3, 7):
        img, k = rng.standard_normal((512, 512)), rng.standard_normal((f, f))
        target = "(target ≤ 0.3 vs scipy)" if f == 3 else ""
        if correlate2d:
            ours, ref = side_by_side(
                lambda: conv2d(img, k), lambda: correlate2d(img, k, mode="valid"), repeat
            )
            row(f"512×512, {f}×{f}", ours, ref, "scipy", target)
        if torch:
            ti, tk = torch.tensor(img)[None, None], torch.tensor(k)[None, None]
            ours, ref = side_by_side(lambda: conv2d(img, k), lambda: F.conv2d(ti, tk), repeat)
            row(
                f"512×512, {f}×{f} (float64)",
                ours,
                ref,
                "torch",
                "(target ≤ 0.6)" if f == 3 else "",
            )

    print("conv, 64×128×128 input, 64×64×3×3 weights, padding 1")
    for dtype, target in ((np.float64, "(target ≤ 0.5)"), (np.float32, "(target ≤ 1.2)")):
        x = rng.standard_normal((64, 128, 128)).astype(dtype)
        w = rng.standard_normal((64, 64, 3, 3)).astype(dtype)
        if torch:
            tx, tw = torch.from_numpy(x)[None], torch.from_numpy(w)
            ours, ref = side_by_side(
                lambda: conv2d(x, w, padding=1), lambda: F.conv2d(tx, tw, padding=1), repeat
            )
            row(f"{np.dtype(dtype).name}", ours, ref, "torch", target)
        else:
            print(
                f"  {np.dtype(dtype).name}: ours {best_time(lambda: conv2d(x, w, padding=1), repeat) * 1e3:.2f} ms"
            )
        if dtype == np.float64:
            ratio = peak_extra_memory(
                lambda: conv2d(x, w, padding=1).output, x.nbytes + 64 * 128 * 128 * 8
            )
            print(f"  peak extra memory of conv2d: {ratio:.2f}× (input + output)   (target ≤ 2)")
    img = rng.standard_normal((2000, 2000))
    ratio = peak_extra_memory(
        lambda: conv2d(img, rng.standard_normal((7, 7)), padding=3).output, img.nbytes * 2
    )
    print(f"  peak extra memory, 2000×2000 with 7×7: {ratio:.2f}× (input + output)")

    print("max pooling, 64×256×256")
    x = rng.standard_normal((64, 256, 256))
    for k, s, target in ((2, 2, ""), (3, 1, "(target ≤ 0.5)")):
        if torch:
            tx = torch.from_numpy(x)[None]
            ours, ref = side_by_side(
                lambda: pool2d(x, k, s), lambda: F.max_pool2d(tx, k, s), repeat
            )
            row(f"{k}×{k} stride {s} (float64)", ours, ref, "torch", target)
        else:
            print(f"  {k}×{k}/{s}: ours {best_time(lambda: pool2d(x, k, s), repeat) * 1e3:.2f} ms")


if __name__ == "__main__":
    main()
