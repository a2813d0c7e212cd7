"""The bounded reader (issue 10): chunked text and stdin, caps, binary bytes, .npy/.npz
headers checked first, every path opened once, JSON depth and huge numbers, short echoes.

Memory is measured in a subprocess (a wrapper process runs the command and reports its
child's peak RSS), special files (FIFOs, /dev/zero, /dev/urandom) are only ever read in a
subprocess, and nothing asserts a wall-clock time.
"""

import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cnnrnn_cli import budget
from cnnrnn_cli.errors import InputError
from cnnrnn_cli.io import textread
from cnnrnn_cli.io.emit import value_lines
from cnnrnn_cli.io.matrix import parse_text, read_named_arrays, read_source

MB = 1 << 20
ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "LC_ALL": "C.UTF-8"}
CLI = [sys.executable, "-m", "cnnrnn_cli"]

# Runs argv[1:] with stdin from a file descriptor or fed by a thread, prints its exit code,
# its peak RSS in bytes and its stderr.
_WRAPPER = r"""
import json, resource, subprocess, sys, threading
spec = json.loads(sys.argv[1])
feed = spec.get("feed")
if feed:
    with open(feed["path"], "rb") as fh:
        feed["chunk"] = fh.read()
proc = subprocess.Popen(spec["argv"], stdin=subprocess.PIPE if feed else None,
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
def write():
    chunk = feed["chunk"]
    try:
        for _ in range(feed["times"]):
            proc.stdin.write(chunk)
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
if feed:
    threading.Thread(target=write, daemon=True).start()
err = proc.stderr.read()
code = proc.wait()
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps({"code": code, "peak": peak, "stderr": err.decode("utf-8", "replace")}))
"""


def run_measured(args, *, feed=None, stdin_path=None, cwd=None, timeout=120):
    """(exit code, peak RSS in bytes, stderr) of `cnnrnn args`, in its own process;
    feed=(chunk, times) writes `chunk` to its stdin `times` times (or until it exits)."""
    spec = {"argv": CLI + list(args)}
    if feed is not None:
        chunk, times = feed
        path = Path(tempfile.mkdtemp(prefix="cnnrnn-feed-")) / "chunk"
        path.write_bytes(chunk)
        spec["feed"] = {"path": str(path), "times": times}
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        out = subprocess.run(
            [sys.executable, "-c", _WRAPPER, json.dumps(spec)],
            stdin=stdin,
            capture_output=True,
            text=True,
            env=ENV,
            cwd=cwd,
            timeout=timeout,
            check=True,
        )
    finally:
        if stdin_path:
            stdin.close()
    result = json.loads(out.stdout)
    return result["code"], result["peak"], result["stderr"]


@pytest.fixture(scope="module")
def startup():
    """Peak RSS of a small command: what 'beyond start-up' is measured from."""
    code, peak, _ = run_measured(["conv", "1 2; 3 4", "-k", "1", "-f", "plain"])
    assert code == 0
    return peak


def assert_one_error(code, stderr, *fragments):
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert code == 2, stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith("Error: "), stderr[-2000:]
    assert "Traceback" not in stderr
    assert len(lines[0]) < 400, lines[0][:500]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# -- 1. caps: non-text bytes, values past the budget, bytes past the cap ---------------


@pytest.mark.parametrize(
    "args, stdin, fragments",
    [
        (["conv", "@/dev/zero", "-k", "1"], None, ["binary"]),
        (["conv", "@/dev/urandom", "-k", "1"], None, ["binary"]),
        (["conv", "-", "-k", "1"], "/dev/zero", ["standard input", "binary"]),
        (["conv", "-", "-k", "1"], "/dev/urandom", ["standard input", "binary"]),
    ],
)
def test_special_files_and_binary_stdin_stop_at_the_first_chunk(startup, args, stdin, fragments):
    code, peak, err = run_measured(args, stdin_path=stdin)
    assert_one_error(code, err, *fragments)
    assert peak - startup < 64 * MB


@pytest.mark.parametrize(
    "feed, fragments",
    [
        ((b"1\n" * 65536, 320), ["max-elements 1000"]),  # 20M lines of '1'
        ((b"1 " * 32768, 2000), ["max-elements 1000"]),  # one endless line
        ((b"1,2\n" * 16384, 1000), ["max-elements 1000"]),  # CSV
        ((b"[1, 2], " * 8192, 1000), ["max-elements 1000"]),  # endless JSON-ish
        ((b" " * 65536, 2000), ["bytes"]),  # blanks only
        ((b"\n" * 65536, 2000), ["bytes"]),  # empty lines only
        ((b"# comment\n" * 8192, 2000), ["bytes"]),  # comments only
        ((b"1" * 65536, 2000), ["bytes"]),  # one endless token
        ((b"[" * 65536, 2000), ["nested deeper than 32 levels"]),  # endless nesting
    ],
)
def test_stdin_past_the_budget_is_refused_within_64_mb(startup, feed, fragments):
    code, peak, err = run_measured(["conv", "-k", "1", "--max-elements", "1000"], feed=feed)
    assert_one_error(code, err, *fragments)
    assert peak - startup < 64 * MB, f"{(peak - startup) / MB:.0f} MB over start-up"


def test_byte_cap_follows_the_budget():
    with budget.limited(1000):
        assert textread.byte_cap() == textread.SLACK + 64 * 1000
    with budget.limited(10), pytest.raises(InputError, match="bytes"):
        parse_text("1" + " " * (2 * MB) + "2", "x")


def test_a_valid_input_peaks_at_about_twice_its_array(tmp_path):
    """A 1000×1000 %.17g text (20 MB) read into an 8 MB array: peak ≤ 2× array + 24 MB."""
    arr = np.random.default_rng(1).standard_normal((1000, 1000))
    path = tmp_path / "m.txt"
    np.savetxt(path, arr, fmt="%.17g")
    # VmHWM, not ru_maxrss: a child's ru_maxrss keeps pytest's size from before exec.
    hwm = "int(open('/proc/self/status').read().split('VmHWM:')[1].split()[0]) * 1024"
    code = (
        "import numpy as np; from cnnrnn_cli.io.matrix import read_source; "
        f"r = {hwm}; a = read_source('@{path}', 'x'); print({hwm} - r)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=ENV, check=True
    )
    extra = int(out.stdout)
    assert extra < 2 * arr.nbytes + 24 * MB, f"{extra / MB:.0f} MB"


# -- 2/9. chunking keeps the grammar: tiny chunks read exactly what one chunk reads ------

GRAMMAR_SAMPLES = [
    "1 0 1; 0 1 0; 1 0 1",
    "1,0,1\n0,1,0\n1,0,1\n",
    "# head\n1 2\n  # mid\n3 4\n",
    "1 2\n3 4\n\n5 6\n7 8\n",
    "1 2\n3 4\n\n\n# c\n\n5 6\n7 8\n\n",
    "1 2; 3 4 | 5 6; 7 8",
    "1 2 |\n\n3 4",
    "1 2\n\n| 3 4",
    "[1, 2]; [3, 4]",
    "\ufeff1\t2\r\n3\t4\r\n",
    "−1.5 2e-3; −3E+2 4",
    "1, 2,\n3, 4,\n",
    "+1 0e0 1.0; 0 1 0; 1 .0 1",
    "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
    "0.1 0.2 0.30000000000000004\n1e-300 -1e300 5e-324\n",
]
BAD_SAMPLES = [
    "1 0 1; 0 1; 1 0 1",
    "1 2; 3 x",
    "1 nan",
    "1 1e400",
    "1,,2",
    "",
    "# only",
    "1 2; 3 4 | 5 6",
    "1 2 | 3 x",
    "1 2 || 3 4",
    "|",
    "1_000 2",
    "١ 2",
    "0x10",
    "1 2\n3 4\n\n5 6\n",
    "1 2 # trailing",
    ",1",
    "1 2\n3\n",
    "[1 2",
    "1 2]",
]


@pytest.fixture
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(textread, "CHUNK", 7)
    monkeypatch.setattr(textread, "LONG_LINE", 30)


def _outcome(text):
    try:
        return read_source("-", "x", read_stdin=lambda: io.BytesIO(text.encode()))
    except InputError as err:
        return err.message


@pytest.mark.parametrize("text", GRAMMAR_SAMPLES)
def test_tiny_chunks_read_the_same_values(text, monkeypatch):
    whole = _outcome(text)
    assert isinstance(whole, np.ndarray), whole
    monkeypatch.setattr(textread, "CHUNK", 7)
    monkeypatch.setattr(textread, "LONG_LINE", 30)  # a token is at most 24 characters
    cut = _outcome(text)
    assert isinstance(cut, np.ndarray), cut
    assert cut.shape == whole.shape and cut.tobytes() == whole.tobytes()


@pytest.mark.parametrize("text", BAD_SAMPLES)
def test_tiny_chunks_refuse_cleanly(text, tiny_chunks):
    assert isinstance(_outcome(text), str)


def test_stdin_and_file_and_literal_agree(tmp_path):
    text = "1 2\n3 4\n\n5 6\n7 8\n"
    (tmp_path / "a.txt").write_text(text)
    from_file = read_source(f"@{tmp_path / 'a.txt'}", "x")
    from_stdin = read_source("-", "x", read_stdin=lambda: io.BytesIO(text.encode()))
    assert from_file.shape == (2, 2, 2) and np.array_equal(from_file, from_stdin)
    assert np.array_equal(parse_text(text, "x", blank_line_channels=True), from_file)


def test_strict_grammar_in_the_fast_path(tmp_path):
    """Words, hex, underscores and non-ASCII digits never slip through NumPy's reader."""
    rows = "\n".join(" ".join(["1.5"] * 50) for _ in range(2000))
    for bad, shown in (
        ("nan", "not a finite"),
        ("0x10", "'0x10' is not a number"),
        ("1_0", "'1_0' is not a number"),
        ("١", "is not a number"),
        ("1e400", "outside the float64 range"),
        ("1.2.3", "not a number"),
    ):
        path = tmp_path / "m.txt"
        path.write_text(rows + f"\n1.5 {bad}" + " 1.5" * 48 + "\n" + rows)
        with pytest.raises(InputError, match="row 2001, column 2") as err:
            read_source(f"@{path}", "x")
        assert shown in err.value.message


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, max_side=6), elements=finite),
    st.sampled_from([5, 16, 1 << 20]),
)
def test_plain_text_written_by_the_tool_reads_back_exactly(arr, chunk):
    text = "\n".join(value_lines(arr, " ")) + "\n"
    old = textread.CHUNK, textread.LONG_LINE
    textread.CHUNK, textread.LONG_LINE = chunk, max(chunk, 30)
    try:
        back = read_source("-", "x", read_stdin=lambda: io.BytesIO(text.encode()))
    finally:
        textread.CHUNK, textread.LONG_LINE = old
    expected_shape = arr.shape[1:] if arr.ndim == 3 and arr.shape[0] == 1 else arr.shape
    assert back.shape == expected_shape
    assert back.tobytes() == arr.tobytes()


# -- 3. .npz members from their headers ----------------------------------------------


def _npy_bytes(header: dict, data: bytes = b"") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    return buf.getvalue() + data


def _npz(path, members: dict) -> str:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, data in members.items():
            zf.writestr(key, data)
    return f"@{path}"


def test_npz_header_claiming_a_huge_shape_is_refused_before_reading(tmp_path):
    spec = _npz(
        tmp_path / "w.npz",
        {"w1.npy": _npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})},
    )
    with pytest.raises(InputError, match=r"w1' would be 1000000×1000000 = 1e12 elements"):
        read_named_arrays(spec, "weights")


def test_npz_zip_bomb_member_is_refused_from_its_header(tmp_path):
    # 2e8 float64 zeros claimed; only the header and a little data are stored.
    spec = _npz(
        tmp_path / "w.npz",
        {
            "w1.npy": _npy_bytes(
                {"descr": "<f8", "fortran_order": False, "shape": (20000, 10000)}, bytes(1 << 16)
            )
        },
    )
    with pytest.raises(InputError, match="w1' would be 20000×10000 = 2e8 elements"):
        read_named_arrays(spec, "weights")


@pytest.mark.parametrize(
    "members, fragments",
    [
        (
            {"w1.npy": _npy_bytes({"descr": "|O", "fortran_order": False, "shape": (1,)})},
            ["w1", "pickled objects"],
        ),
        ({"notes.txt": b"hello"}, ["'notes.txt' is not a .npy array"]),
        ({"w1.npy": b"not an npy at all"}, ["w1", "not a valid .npy"]),
        (
            {
                "w1.npy": _npy_bytes(
                    {"descr": "<f8", "fortran_order": False, "shape": (4,)}, bytes(8)
                )
            },
            ["w1", "stop after 8 of 32 bytes"],
        ),
        (
            {
                "w1.npy": _npy_bytes(
                    {"descr": "<U3", "fortran_order": False, "shape": (1,)}, bytes(12)
                )
            },
            ["w1", "not numeric"],
        ),
        (
            {
                "w1.npy": _npy_bytes(
                    {"descr": "<f8", "fortran_order": False, "shape": (1,)},
                    np.array([np.nan]).tobytes(),
                )
            },
            ["w.npz", "w1", "NaN"],
        ),
    ],
)
def test_npz_members_are_refused_by_name(tmp_path, members, fragments):
    spec = _npz(tmp_path / "w.npz", members)
    with pytest.raises(InputError) as err:
        read_named_arrays(spec, "weights")
    for fragment in fragments:
        assert fragment in err.value.message


def test_npz_reads_fortran_order_and_big_endian(tmp_path):
    a = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    np.savez(tmp_path / "w.npz", a=a, b=np.arange(3, dtype=">i4"))
    named = read_named_arrays(f"@{tmp_path / 'w.npz'}", "weights")
    assert np.array_equal(named["a"], a) and named["b"].tolist() == [0, 1, 2]


def test_corrupt_npz_directory_and_permission(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04" + os.urandom(200))
    with pytest.raises(InputError, match="not a valid .npz file") as err:
        read_named_arrays(f"@{tmp_path / 'bad.npz'}", "weights")
    assert "pickle" not in err.value.message
    (tmp_path / "d.npz").mkdir()
    with pytest.raises(InputError, match="is a directory"):
        read_named_arrays(f"@{tmp_path / 'd.npz'}", "weights")
    if os.geteuid() != 0:  # root reads whatever the mode says
        locked = tmp_path / "locked.npz"
        np.savez(locked, a=np.ones(2))
        locked.chmod(0)
        with pytest.raises(InputError, match="permission denied"):
            read_named_arrays(f"@{locked}", "weights")


# -- 4. every path opened once: FIFOs in a subprocess ---------------------------------


def _fifo(tmp_path, name, payload: bytes):
    path = tmp_path / name
    os.mkfifo(path)

    def write():
        with open(path, "wb") as fh:  # blocks until the reader opens it, once
            fh.write(payload)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return path, thread


@pytest.mark.parametrize(
    "name, payload",
    [
        (
            "in.npy",
            _npy_bytes(
                {"descr": "<f8", "fortran_order": False, "shape": (2, 2)}, np.arange(4.0).tobytes()
            ),
        ),
        ("in.txt", b"0 1\n2 3\n"),
        ("in.json", b"[[0, 1], [2, 3]]"),
    ],
)
def test_a_fifo_is_opened_once_and_read(tmp_path, name, payload):
    path, thread = _fifo(tmp_path, name, payload)
    out = subprocess.run(
        CLI + ["pool", f"@{path}", "-k", "1", "-f", "plain"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    thread.join(5)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "0 1\n2 3\n"


def test_a_fifo_npz_is_read_as_a_stream(tmp_path):
    buf = io.BytesIO()
    np.savez(buf, xs=np.ones((2, 1)), wx=np.ones((1, 1)), wh=np.ones((1, 1)))
    path, thread = _fifo(tmp_path, "w.npz", buf.getvalue())
    out = subprocess.run(
        CLI + ["bptt", "--weights", f"@{path}", "-f", "json"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=60,
    )
    thread.join(5)
    assert "Traceback" not in out.stderr
    assert out.returncode in (0, 2), out.stderr


# -- 5/6. JSON: depth, huge integers, non-numbers --------------------------------------

DEEP = "[" * 1000 + "1" + "]" * 1000


def test_json_deeper_than_32_levels_everywhere(tmp_path):
    (tmp_path / "x.json").write_text(DEEP)
    (tmp_path / "w.json").write_text('{"wh": ' + DEEP + "}")
    (tmp_path / "o.json").write_text('{"a": ' * 1000 + "1" + "}" * 1000)
    calls = [
        lambda: read_source(DEEP, "x"),
        lambda: read_source(f"@{tmp_path / 'x.json'}", "x"),
        lambda: read_source("-", "x", read_stdin=lambda: io.BytesIO(DEEP.encode())),
        lambda: read_named_arrays(f"@{tmp_path / 'w.json'}", "weights"),
        lambda: read_named_arrays(f"@{tmp_path / 'o.json'}", "weights"),
    ]
    for call in calls:
        with pytest.raises(InputError, match="nested deeper than 32 levels"):
            call()
    assert parse_text("[" * 32 + "1" + "]" * 32, "x").shape == (1,) * 32
    with pytest.raises(InputError, match="nested deeper than 32 levels"):
        parse_text("[" * 33 + "1" + "]" * 33, "x")


@pytest.mark.parametrize("digits", [400, 5000])
def test_huge_integers_are_too_large_not_ragged(tmp_path, digits):
    text = f"[{'1' + '0' * (digits - 1)}, 1]"
    (tmp_path / "x.json").write_text(text)
    for call in (
        lambda: parse_text(text, "x"),
        lambda: read_source(f"@{tmp_path / 'x.json'}", "x"),
    ):
        with pytest.raises(InputError, match="too large for float64") as err:
            call()
        assert "rectangular" not in err.value.message
        assert len(err.value.message) < 200


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("[null, 1]", "[0]: null is not a number"),
        ('[{"a":1}, 2]', '[0]: {"a": 1} is not a number'),
        ("[[1, 2], [3, true]]", "[1][1]: true is not a number"),
        ('[1, "' + "s" * 1000 + '"]', "[1]: "),
        ("[1e400, 1]", "too large for float64"),
    ],
)
def test_json_non_numbers_say_what_and_where(text, fragment):
    with pytest.raises(InputError) as err:
        parse_text(text, "x")
    assert fragment in err.value.message
    assert "rectangular" not in err.value.message and len(err.value.message) < 200


# -- 7/8. short echoes, and weights errors name the array and the file ----------------


def test_a_huge_bad_token_is_cut_to_about_40_characters(tmp_path):
    bad = "x" * (10 * MB)
    for call in (
        lambda: parse_text("1 " + bad, "x"),
        lambda: read_source("-", "x", read_stdin=lambda: io.BytesIO(b"1 " + bad.encode() + b"\n")),
    ):
        with pytest.raises(InputError) as err:
            call()
        assert len(err.value.message) < 200


def test_weights_errors_name_the_array_and_the_file(tmp_path):
    (tmp_path / "w.json").write_text('{"xs": [[1], [2]], "wh": [[1, 2], [3]]}')
    with pytest.raises(InputError) as err:
        read_named_arrays(f"@{tmp_path / 'w.json'}", "weights")
    assert "w.json" in err.value.message and "wh" in err.value.message
    np.savez(tmp_path / "w.npz", w1=np.array([1.0, np.inf]))
    with pytest.raises(InputError) as err:
        read_named_arrays(f"@{tmp_path / 'w.npz'}", "weights")
    assert "w.npz" in err.value.message and "w1" in err.value.message


def test_a_long_path_is_cut_in_messages():
    with pytest.raises(InputError) as err:
        read_source("@" + "n" * 5000, "x")
    assert len(err.value.message) < 200


def test_stdin_closed_is_no_input(monkeypatch):
    from cnnrnn_cli.cli.params import read_stdin_text

    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(InputError, match="no input"):
        read_stdin_text("image")


def test_json_past_the_whole_read_size_is_read_while_its_values_are_dense(monkeypatch, tmp_path):
    """Past MAX_WHOLE bytes a JSON input is still read, value by value within the budget;
    only bytes that bring no values (blank space) are refused."""
    from cnnrnn_cli.io import textread

    monkeypatch.setattr(textread, "MAX_WHOLE", 1000)
    dense = np.random.default_rng(0).random((60, 40))
    path = tmp_path / "dense.json"
    path.write_text(json.dumps(dense.tolist()))
    assert path.stat().st_size > 1000
    np.testing.assert_array_equal(read_source(f"@{path}", "image"), dense)
    blank = tmp_path / "blank.json"
    blank.write_text("[" + " " * 5000 + "1]")
    with pytest.raises(InputError, match="bytes a value"):
        read_source(f"@{blank}", "image")
