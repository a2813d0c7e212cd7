"""Benchmark of the writers, side by side with references in one run.

    python benchmarks/bench_write.py [--quick]

plain: a 1000×1000 matrix of random floats written as `-f plain` writes it (shortest
round-trip text, `iter_blocks`), against `np.savetxt(fmt="%.17g")` of the same matrix; both
write to an in-memory text buffer. Target: ratio at most 1.2 (issue 10). Also a matrix of
whole numbers, and json (`iter_json`) against `json.dumps(a.tolist())`. Ratios are
ours / reference: below 1 means faster.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from timing import side_by_side  # noqa: E402

from cnnrnn_cli.io.emit import iter_blocks, iter_json  # noqa: E402
from cnnrnn_cli.report import Report  # noqa: E402


def plain(a: np.ndarray) -> str:
    out = io.StringIO()
    for line in iter_blocks([("result", a)], " "):
        out.write(line)
        out.write("\n")
    return out.getvalue()


def savetxt(a: np.ndarray) -> str:
    out = io.StringIO()
    np.savetxt(out, a, fmt="%.17g")
    return out.getvalue()


def ours_json(a: np.ndarray) -> str:
    out = io.StringIO()
    for piece in iter_json(Report("conv", {}, a)):
        out.write(piece)
    return out.getvalue()


def ref_json(a: np.ndarray) -> str:
    out = io.StringIO()
    out.write(
        json.dumps({"command": "conv", "params": {}, "result": a.tolist()}, allow_nan=False) + "\n"
    )
    return out.getvalue()


def row(name: str, ours: float, ref: float, ref_name: str, target: str = "") -> None:
    print(
        f"  {name:<34} ours {ours * 1e3:8.1f} ms   {ref_name:<22} {ref * 1e3:8.1f} ms"
        f"   ratio {ours / ref:6.3f}  {target}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeat = 2 if args.quick else 5
    rng = np.random.default_rng(0)
    print(f"numpy {np.__version__}")
    random = rng.standard_normal((1000, 1000))
    whole = rng.integers(-1000, 1000, (1000, 1000)).astype(float)
    assert plain(whole).split() == savetxt(whole).split()
    assert ours_json(random) == ref_json(random)

    print("plain, 1000×1000 float64")
    ours, ref = side_by_side(lambda: plain(random), lambda: savetxt(random), repeat, block=2)
    row("random floats", ours, ref, 'savetxt(fmt="%.17g")', "(target ≤ 1.2)")
    ours, ref = side_by_side(lambda: plain(whole), lambda: savetxt(whole), repeat, block=2)
    row("whole numbers", ours, ref, 'savetxt(fmt="%.17g")')

    print("json, 1000×1000 float64")
    ours, ref = side_by_side(lambda: ours_json(random), lambda: ref_json(random), repeat, block=2)
    row("random floats", ours, ref, "json.dumps(tolist())")


if __name__ == "__main__":
    main()
