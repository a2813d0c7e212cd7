"""Start-up time, side by side with bare imports in one run.

    python benchmarks/bench_startup.py [--runs N]

Prints the ratios of
  cnnrnn outsize 224 -k 7 -s 2 -p 3 -f plain   to  python -c "import click"     (target ≤ 1.2)
  cnnrnn outsize --model resnet50 -f plain     to  python -c "import click"     (target ≤ 1.3)
  cnnrnn conv --example -f rich               to  python -c "import click, rich.console,
                                                   rich.table, numpy"          (target ≤ 1.3)
Each pair is timed alternately (best of N), so the machine's noise hits both alike.
Run it with the interpreter of the environment where cnnrnn is installed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path


def best(argv: list[str], runs: int) -> float:
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def pair(ours: list[str], ref: list[str], runs: int) -> tuple[float, float]:
    a, b = [], []
    for _ in range(runs):
        a.append(best(ours, 1))
        b.append(best(ref, 1))
    return min(a), min(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    script = Path(sys.executable).with_name("cnnrnn")
    cnnrnn = [str(script)] if script.exists() else [sys.executable, "-m", "cnnrnn_cli"]
    py = [sys.executable, "-c"]
    os.environ.setdefault("COLUMNS", "100")
    cases = [
        (
            "outsize 224 -k 7 -s 2 -p 3 -f plain",
            cnnrnn + "outsize 224 -k 7 -s 2 -p 3 -f plain".split(),
            py + ["import click"],
            "import click",
            1.2,
        ),
        (
            "outsize --model resnet50 -f plain",
            cnnrnn + "outsize --model resnet50 -f plain".split(),
            py + ["import click"],
            "import click",
            1.3,
        ),
        (
            "conv --example -f rich",
            cnnrnn + ["conv", "--example", "-f", "rich"],
            py + ["import click, rich.console, rich.table, numpy"],
            "import click, rich.console, rich.table, numpy",
            1.3,
        ),
    ]
    print(f"python {sys.version.split()[0]}; best of {args.runs}, alternating")
    for name, ours, ref, ref_name, target in cases:
        a, b = pair(ours, ref, args.runs)
        verdict = "ok" if a / b <= target else "over target"
        print(
            f"  cnnrnn {name:<38} {a * 1e3:7.1f} ms   vs  {ref_name:<45} {b * 1e3:7.1f} ms"
            f"   ratio {a / b:5.2f}  (target ≤ {target}, {verdict})"
        )


if __name__ == "__main__":
    main()
