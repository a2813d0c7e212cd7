"""The writers (plain, csv, json) are exact, streamed and bounded.

- plain/csv: the fast writer (`numbers.conversions`, `emit._array_pieces`) gives, number for
  number, the text of `format_number`, which reads back bit-exactly;
- json: `iter_json` gives exactly what `json.dumps(to_builtin(doc), allow_nan=False)` gave;
- a large result is written with a few MB beyond the array itself (measured in a
  subprocess), and the first piece comes before the rest is formatted.
"""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnnrnn_cli.io import emit
from cnnrnn_cli.io.numbers import _codes, conversions, format_number
from cnnrnn_cli.report import Report

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


def bits(x: float) -> int:
    return struct.unpack("<q", struct.pack("<d", x))[0]


def reference_lines(a: np.ndarray, sep: str) -> list[str]:
    """The slow writer, number by number: what plain/csv wrote before."""
    if a.ndim == 1:
        return [sep.join(map(format_number, a.tolist()))]
    if a.ndim == 2:
        return [sep.join(map(format_number, row)) for row in a.tolist()]
    lines = []
    for i, channel in enumerate(a):
        if i:
            lines.append("")
        lines += reference_lines(channel, sep)
    return lines


def edge_floats() -> np.ndarray:
    """Floats where a digit count, a notation or a rounding changes, and their neighbours."""
    centres = [
        0.0,
        1e-4,
        1e-5,
        1e15,
        1e16,
        1e17,
        2.0**53,
        2.0**52,
        0.1,
        0.3,
        1 / 3,
        5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        9.5367431640625e-07,
        123456789012345.6,
        999999999999999.9,
        0.5,
        1.5,
        2.5,
    ]
    centres += [10.0**e for e in range(-12, 20)] + [2.0**e for e in range(-30, 60, 3)]
    centres += [float(f"9.{'9' * d}e{e}") for d in range(12, 17) for e in range(-6, 16)]
    values = []
    for c in centres:
        x = c
        for _ in range(4):
            values += [x, -x]
            x = math.nextafter(x, math.inf)
        x = c
        for _ in range(4):
            x = math.nextafter(x, -math.inf)
            values += [x, -x]
    return np.array(values + [-0.0])


def floats_of_every_kind(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate(
        [
            rng.standard_normal(n),
            rng.random(n),
            rng.standard_normal(n) * 10.0 ** rng.integers(-30, 30, n),
            np.array(
                [
                    float(f"{v:.{d}g}")
                    for v, d in zip(rng.standard_normal(n), rng.integers(1, 18, n), strict=True)
                ]
            ),
            rng.integers(-(2**62), 2**62, n, dtype=np.int64).view(np.float64),  # any bits
            rng.integers(-(10**6), 10**6, n).astype(float),
        ]
    )


# -- plain and csv: the same text as format_number, number for number ------------------------


@pytest.mark.parametrize("json_style", [False, True])
def test_conversions_write_each_number_as_before(json_style):
    x = np.concatenate([edge_floats(), floats_of_every_kind(20000, 0)])
    x = x[np.isfinite(x)] if json_style else x
    text = conversions(x, " ", json=json_style).tobytes().decode() % tuple(x.tolist())
    slow = json.dumps if json_style else format_number
    assert text.split(" ")[:-1] == [slow(v) for v in x.tolist()]
    # the fast path decided nearly all of them itself (0 is the slow repr)
    assert (_codes(x, json=json_style) == 0).mean() < 0.4


@SETTINGS
@given(st.lists(st.floats(width=64), min_size=1, max_size=50))
def test_any_float_is_written_as_format_number_and_reads_back(values):
    x = np.array(values)
    text = conversions(x, ",").tobytes().decode() % tuple(x.tolist())
    tokens = text.split(",")[:-1]
    assert tokens == [format_number(v) for v in values]
    for v, token in zip(values, tokens, strict=True):
        if not math.isnan(v):
            assert bits(float(token)) == bits(v)


@SETTINGS
@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=6), elements=finite),
    st.sampled_from([" ", ","]),
    st.sampled_from([3, 5, 64]),
)
def test_lines_of_any_array_are_the_number_by_number_lines(a, sep, chunk):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(emit, "CHUNK", chunk)  # cut rows and blocks everywhere
        assert list(emit.value_lines(a, sep)) == reference_lines(a, sep)


@pytest.mark.parametrize(
    "dtype", [np.float64, np.float32, np.float16, np.int64, np.int32, np.uint8, np.uint64]
)
def test_lines_of_other_dtypes(dtype):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((2, 3, 4)) * 100).astype(dtype)
    if dtype == np.uint64:
        a[0, 0, 0] = 2**64 - 1
    for sep in (" ", ","):
        assert list(emit.value_lines(a, sep)) == reference_lines(a, sep)


def test_lines_of_empty_and_boolean_arrays_as_before():
    assert list(emit.value_lines(np.zeros(0), " ")) == [""]
    assert list(emit.value_lines(np.zeros((2, 0)), " ")) == ["", ""]
    assert list(emit.value_lines(np.zeros((0, 3)), " ")) == []
    assert list(emit.value_lines(np.array([[True, False]]), ",")) == ["true,false"]


def test_wide_rows_and_long_columns_are_cut_into_bounded_pieces():
    a = np.arange(3 * 70000, dtype=float).reshape(3, 70000) / 7
    pieces = list(emit._array_pieces(a, " ", json=False))
    assert max(map(len, pieces)) < 4 * emit.CHUNK * 20
    assert "".join(pieces).split("\n") == reference_lines(a, " ")
    column = np.linspace(-1, 1, 70001).reshape(-1, 1)
    assert list(emit.value_lines(column, " ")) == reference_lines(column, " ")


# -- json: exactly json.dumps ---------------------------------------------------------------

leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    finite,
    st.text(max_size=5),
    finite.map(np.float64),
    st.integers(-(2**63), 2**63 - 1).map(np.int64),
)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)
arrays = st.one_of(
    hnp.arrays(st.sampled_from([np.int64, np.uint8, np.bool_]), shapes, elements=st.integers(0, 1)),
    hnp.arrays(
        np.float32, shapes, elements=st.floats(width=32, allow_nan=False, allow_infinity=False)
    ),
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=7), elements=finite),
)
documents = st.recursive(
    leaf | arrays,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=4) | st.integers() | st.booleans(), inner, max_size=4)
    ),
    max_leaves=12,
)


def dumps(doc) -> str:
    return json.dumps(emit.to_builtin(doc), allow_nan=False) + "\n"


@SETTINGS
@given(documents, st.sampled_from([2, 5, 1 << 16]))
def test_json_is_exactly_json_dumps(doc, chunk):
    try:
        expected = dumps(doc)
    except (ValueError, TypeError) as err:  # e.g. float32 overflow to inf: the same error
        with pytest.raises(type(err)):
            "".join(emit.iter_json_value(doc))
        return
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(emit, "CHUNK", chunk)
        assert "".join(emit.iter_json_value(doc)) == expected


def test_json_of_a_report_is_exactly_json_dumps():
    rng = np.random.default_rng(2)
    big = rng.standard_normal((3, 40, 50)) * 10.0 ** rng.integers(-20, 20, (3, 40, 50))
    big[0, 0, :5] = [-0.0, 0.0, 4.0, 1e16, 5e-324]
    report = Report(
        "conv",
        {"stride": (1, 2), "padding": "same", "seed": None, "ok": True},
        {
            "output": big,
            "layers": [{"name": "conv", "out": 4}, {"name": "pool"}],
            "h": [np.arange(3.0), np.float64(-0.0)],
            "norm": np.float64(1e-7),
        },
        extra={"grad_input": np.eye(3), "command": "overridden"},
        warnings=["a warning"],
    )
    doc = {
        "command": report.command,
        "params": emit.to_builtin(report.params),
        "result": emit.to_builtin(report.result),
    }
    doc.update(emit.to_builtin(report.extra))
    doc["warnings"] = list(report.warnings)
    expected = json.dumps(doc, allow_nan=False) + "\n"
    assert emit.json_text(report) == expected
    assert "".join(emit.iter_json(report)) == expected


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_json_refuses_nan_as_json_dumps_does(bad):
    a = np.ones((4, 4))
    a[2, 3] = bad
    with pytest.raises(ValueError) as ours:
        "".join(emit.iter_json_value({"result": a}))
    with pytest.raises(ValueError) as theirs:
        json.dumps({"result": a.tolist()}, allow_nan=False)
    assert str(ours.value) == str(theirs.value)


def test_json_first_piece_comes_early_and_pieces_are_bounded():
    a = np.zeros((4000, 4000))
    report = Report("conv", {}, a)
    start = time.perf_counter()
    pieces = iter(emit.iter_json(report))
    first = next(pieces)
    assert time.perf_counter() - start < 1.0
    assert first.startswith('{"command": "conv", "params": {}, "result": [[0.0, 0.0')
    assert len(first) < 4 * emit.CHUNK * 8
    second = next(pieces)
    assert len(second) < 4 * emit.CHUNK * 8


# -- peak memory, in a subprocess ------------------------------------------------------------

ARRAY_BYTES = 3001 * 3001 * 8  # conv "1" -k 1 -p 1500


def peak_rss_mb(argv: list[str]) -> float:
    """The peak RSS (MB) of `ARGV > /dev/null`, measured by a parent of its own."""
    probe = (
        "import resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
        "assert r.returncode == 0, r\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", probe, *argv], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return int(out.stdout) / 1024


@pytest.mark.parametrize("fmt", ["plain", "csv", "json"])
def test_a_large_result_is_written_within_twice_its_bytes(fmt):
    peak = peak_rss_mb(
        [sys.executable, "-m", "cnnrnn_cli", "conv", "1", "-k", "1", "-p", "1500", "-f", fmt]
    )
    assert peak < 2 * ARRAY_BYTES / 2**20 + 100, f"{fmt}: peak {peak:.0f} MB"


def test_iter_json_of_a_large_result_costs_a_constant():
    script = (
        "import sys, numpy as np\n"
        "from cnnrnn_cli.io.emit import iter_json\n"
        "from cnnrnn_cli.report import Report\n"
        "a = np.zeros((3001, 3001)); a[::7] = 0.1\n"
        "for piece in iter_json(Report('conv', {'stride': [1, 1]}, a)):\n"
        "    sys.stdout.write(piece)\n"
    )
    peak = peak_rss_mb([sys.executable, "-c", script])
    # the array once, NumPy and the interpreter (~40 MB), the working pieces (a few MB)
    assert peak < ARRAY_BYTES / 2**20 + 80, f"peak {peak:.0f} MB"
