"""Benchmark of the matrix reader, side by side with np.loadtxt in one run.

    python benchmarks/bench_read.py [--quick]

A 1000×1000 matrix of random floats written with np.savetxt(fmt="%.17g") (space
separated, about 20 MB) is read with `read_source("@file")` and with `np.loadtxt(file)`,
timed in alternating blocks. Prints the ratio read / np.loadtxt (target ≤ 1.1), then the
peak resident memory of each reader run alone in a fresh process, over the same
process's start-up, against the bytes of the array (target: about 2× plus a constant).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import side_by_side  # noqa: E402

from cnnrnn_cli.io.matrix import read_source  # noqa: E402

# VmHWM, not ru_maxrss: a child's ru_maxrss keeps its parent's size from before exec.
_PEAK = """
import numpy as np
from cnnrnn_cli.io.matrix import read_source
def hwm():
    with open("/proc/self/status") as fh:
        return int(fh.read().split("VmHWM:")[1].split()[0]) * 1024
start = hwm()
arr = {call}
print(hwm() - start, arr.nbytes)
"""


def peak_over_start(call: str) -> tuple[int, int]:
    """Peak RSS over start-up (bytes) of `call` run alone in a fresh process, and the
    bytes of the array it returns."""
    out = subprocess.run(
        [sys.executable, "-c", _PEAK.format(call=call)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    extra, nbytes = map(int, out.stdout.split())
    return extra, nbytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    repeat = 2 if args.quick else 5
    print(f"numpy {np.__version__}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.txt"
        arr = np.random.default_rng(0).standard_normal((1000, 1000))
        np.savetxt(path, arr, fmt="%.17g")
        assert np.array_equal(read_source(f"@{path}", "x"), arr)
        print(f"1000×1000 random floats, %.17g, {path.stat().st_size / 1e6:.1f} MB of text")
        ours, ref = side_by_side(
            lambda: read_source(f"@{path}", "x"), lambda: np.loadtxt(path), repeat
        )
        print(
            f"  read_source(@file) {ours * 1e3:8.1f} ms   np.loadtxt {ref * 1e3:8.1f} ms"
            f"   ratio {ours / ref:5.2f}   (target ≤ 1.1)"
        )
        for label, call in (
            ("read_source(@file)", f"read_source('@{path}', 'x')"),
            ("np.loadtxt", f"np.loadtxt('{path}')"),
        ):
            extra, nbytes = peak_over_start(call)
            print(
                f"  peak memory of {label:<20} {extra / 1e6:7.1f} MB over start-up ="
                f" {extra / nbytes:4.2f}× the array ({nbytes / 1e6:.0f} MB)"
            )


if __name__ == "__main__":
    main()
