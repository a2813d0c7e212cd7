"""Fuzz and bad input over every command: the outcome is always a result (exit 0) or one
`Error:` line with exit 2, never a traceback. Plus pipes, Ctrl-C and start-up imports."""

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cnnrnn_cli.cli.main import cli
from conftest import assert_error

# Files for the fuzzer to point at: binary noise, a pickled .npy, a broken .npz.
_FILES = Path(tempfile.mkdtemp(prefix="cnnrnn-fuzz-"))
(_FILES / "noise.bin").write_bytes(bytes(range(256)) * 4)
(_FILES / "noise.npz").write_bytes(b"PK\x03\x04 not really a zip")
np.save(_FILES / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
np.save(_FILES / "ok.npy", np.arange(6.0).reshape(2, 3))
FILE_PATHS = [f"@{_FILES / name}" for name in ("noise.bin", "noise.npz", "pickled.npy", "ok.npy")]

NUMBERS = st.one_of(
    st.integers(-5, 5).map(str),
    st.sampled_from(
        ["0.5", "-1e3", "1e308", "1e-320", "−2", "+3", "nan", "inf", "1e999", "0x1", "١", "1_0"]
    ),
)
ROWS = st.lists(
    st.lists(NUMBERS, min_size=0, max_size=4).map(" ".join), min_size=0, max_size=4
).map("; ".join)
MATRIX = st.one_of(
    ROWS,
    st.text(max_size=20),
    st.sampled_from(
        [
            "",
            "[",
            "[[1, 2], [3]]",
            "[1, 2, 3]",
            "1 2 | 3 4",
            "1 2 || 3",
            "@",
            "@/no/such/file.npy",
            "@/dev/null",
            "@/etc/passwd",
            "-",
            "[[[[1]]]]",
            '[[1, 2], [3, "a"]]',
            "1,,2",
            "# only a comment",
            "\x00\x01",
            "[]",
            "9" * 400,
            "1e308 1e308; 1e308 1e308",
            *FILE_PATHS,
        ]
    ),
)
SIZE = st.one_of(
    st.integers(-2, 6).map(str),
    st.sampled_from(["2x3", "0x1", "same", "valid", "full", "x", "", "1.5", "3x"]),
)
FLOATS = st.sampled_from(["0.1", "-1", "0", "nan", "1e400", "x", "2"])
FORMATS = st.sampled_from(["plain", "json", "csv", "rich", "latex"])


def opt(name, values):
    return st.one_of(st.just([]), values.map(lambda v: [name, v]))


def command_args():
    conv = st.tuples(
        st.just(["conv"]),
        opt("-k", MATRIX),
        opt("-s", SIZE),
        opt("-p", SIZE),
        opt("-d", SIZE),
        opt("-b", MATRIX),
        opt("--pad-mode", st.sampled_from(["zeros", "reflect", "circular", "x"])),
        opt("--at", st.sampled_from(["1,1", "9,9", "0,1", "a", "1,1,1"])),
        st.one_of(st.just([]), MATRIX.map(lambda m: [m])),
    )
    pool = st.tuples(
        st.just(["pool"]),
        opt("-k", SIZE),
        opt("-s", SIZE),
        opt("-p", SIZE),
        opt("--mode", st.sampled_from(["max", "avg", "min", "sum", "l2"])),
        st.sampled_from([[], ["--ceil"], ["--global"], ["--no-count-include-pad"]]),
        opt("--grad", MATRIX),
        st.one_of(st.just([]), MATRIX.map(lambda m: [m])),
    )
    outsize = st.tuples(
        st.just(["outsize"]),
        SIZE.map(lambda s: [s]),
        opt("-k", SIZE),
        opt("-s", SIZE),
        opt("-p", SIZE),
        opt("-d", SIZE),
        st.sampled_from([[], ["--ceil"], ["--transposed"], ["--same"]]),
        opt("--output-padding", SIZE),
        opt(
            "--layers",
            st.sampled_from(
                [
                    "conv k=3",
                    "maxpool k=2 s=0",
                    "x",
                    "conv k=3 c=0; avgpool k=9",
                    "convT k=2 s=2 op=3",
                    ";",
                ]
            ),
        ),
    )
    bptt = st.tuples(
        st.just(["bptt"]),
        opt("--xs", MATRIX),
        opt("--wx", MATRIX),
        opt("--wh", MATRIX),
        opt("--b", MATRIX),
        opt("--y", MATRIX),
        opt("--wy", MATRIX),
        opt("--lr", FLOATS),
        opt("--tol", FLOATS),
        opt("--activation", st.sampled_from(["tanh", "relu", "sigmoid", "x"])),
        opt("--random", st.sampled_from(["3,1,1", "2,2,2", "0,1,1", "1,1"])),
        st.sampled_from([[], ["--check"], ["--example"]]),
    )
    gru = st.tuples(
        st.just(["gru-step"]),
        opt("--x", MATRIX),
        opt("--h", MATRIX),
        opt("--wxz", MATRIX),
        opt("--whz", MATRIX),
        opt("--xs", MATRIX),
        opt("--random", st.sampled_from(["2,3", "1,1", "0,2", "x"])),
        opt("--tol", FLOATS),
        st.sampled_from([[], ["--reset-before"], ["--example"], ["--z-keeps", "new"]]),
    )
    resblock = st.tuples(
        st.just(["resblock"]),
        opt("--a0", MATRIX),
        opt("--w1", MATRIX),
        opt("--w2", MATRIX),
        opt("--b1", MATRIX),
        opt("--shortcut", MATRIX),
        opt("--depth", st.sampled_from(["0", "3", "x"])),
        st.sampled_from([[], ["--random"], ["--example"]]),
    )
    inception = st.tuples(
        st.just(["inception"]),
        st.one_of(st.just([]), SIZE.map(lambda s: [s])),
        opt("--n1x1", SIZE),
        opt("--n3x3", SIZE),
        opt("--preset", st.sampled_from(["3a", "5b", "9z"])),
        st.sampled_from([[], ["--compute"], ["--no-bias"], ["--example"]]),
    )
    tour = st.tuples(
        st.just(["tour"]), opt("--section", st.sampled_from(["conv", "rnn", "gru", "nope"]))
    )
    common = st.tuples(
        opt(
            "--only",
            st.sampled_from(["result", "grads.wh", "h", "x", "z", "output", "layers", "skip.a2"]),
        ),
        opt("--precision", st.sampled_from(["0", "3", "17", "-1", "x"])),
        st.sampled_from([[], ["--no-color"], ["--example"]]),
    )
    command = st.one_of(conv, pool, outsize, bptt, gru, resblock, inception, tour)
    return st.tuples(command, common).map(
        lambda pair: [a for group in pair for part in group for a in part]
    )


@settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "400")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(args=command_args(), fmt=FORMATS, stdin=st.one_of(st.none(), ROWS, st.text(max_size=10)))
def test_every_outcome_is_a_result_or_one_clean_error(args, fmt, stdin):
    result = CliRunner().invoke(
        cli, [*args, "-f", fmt, "--max-elements", "100000"], input=stdin, catch_exceptions=True
    )
    _assert_one_outcome(args, result)


# --- named regressions from the fuzzer and from review ----------------------------------


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["conv", "|", "-k", "1"], ["channel 1 is empty"]),
        (["pool", "1 2", "-k", "2x3"], ["exceeds the padded input"]),
        (["conv", "[[[[1]]]]", "-k", "1"], ["expected H×W or C×H×W"]),
        (
            ["outsize", "3", "-k", "2", "--transposed", "-p", "same"],
            ["not defined for a transposed"],
        ),
        (["pool", "@/dev/null"], ["no values given"]),
        (["resblock", "--shortcut", "@\x00"], ["shortcut", "not a valid file name"]),
        (["conv", "@", "-k", "1"], ["image", "not a valid file name"]),
    ],
)
def test_named_regressions(run, args, fragments):
    assert_error(run(*args), *fragments)


def test_overflow_inside_bptt_is_one_clean_error(run):
    result = run(
        "bptt",
        "--xs",
        "1; 1",
        "--wx",
        "1e200",
        "--wh",
        "1e200",
        "--activation",
        "identity",
        "--y",
        "0",
    )
    assert_error(result, "overflows float64")
    assert "RuntimeWarning" not in result.stderr


def test_only_a_group_of_fields_or_records(run):
    assert run("inception", "--preset", "3a", "--only", "result").stdout.startswith(
        "# result.output_shape\n256 28 28\n"
    )
    records = run("inception", "--preset", "3a", "--only", "branches").stdout.splitlines()
    assert len(records) == 4 and records[0].startswith('{"name": "1x1"')
    assert "# grads.wh\n" in run("bptt", "--example", "--only", "grads").stdout


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["bptt", "--random", "100000,1000,1000"], ["random", "over --max-elements"]),
        (["resblock", "--random", "--size", "100000"], ["size", "over --max-elements"]),
        (["gru-step", "--random", "100000,100000"], ["random", "over --max-elements"]),
        (["bptt", "--random", "5,1,1", "--scale", "nan"], ["scale", "finite"]),
        (["bptt", "--example", "--lr", "inf"], ["lr", "finite"]),
        (["bptt", "--example", "--tol", "nan"], ["tol", "finite"]),
        (
            ["bptt", "--xs", "1;1;1", "--wx", "1", "--wh", "1e300", "--activation", "identity"],
            ["overflows float64"],
        ),
    ],
)
def test_sizes_and_values_that_would_blow_up(run, args, fragments):
    assert_error(run(*args), *fragments)


def test_binary_stdin_in_a_utf8_locale():
    env = {**__import__("os").environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run(
        ["cnnrnn", "pool", "-k", "2"],
        input=bytes(range(256)),
        capture_output=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 2 and out.stderr.startswith(b"Error: input: standard input")
    assert b"Traceback" not in out.stderr


def test_binary_file_input(run, tmp_path):
    path = tmp_path / "image.bin"
    path.write_bytes(bytes(range(256)))
    assert_error(run("conv", f"@{path}", "-k", "1"), "image", "not UTF-8 text")


def test_ctrl_c_exits_130_without_a_traceback():
    # `conv -` waits on a pipe that never closes: a long-running command to interrupt.
    proc = subprocess.Popen(
        ["cnnrnn", "conv", "-", "-k", "1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Interrupt it once it is blocked reading the pipe (past start-up), however slow the
    # machine; /proc tells where it waits.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            wchan = Path(f"/proc/{proc.pid}/wchan").read_text()
        except OSError:
            break
        if "pipe" in wchan or "read" in wchan:
            break
        time.sleep(0.1)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    proc.stdin.close()
    assert proc.returncode == 130, err
    assert b"Traceback" not in err


@pytest.mark.parametrize(
    "argv, heavy",
    [
        (["outsize", "224", "-k", "7", "-s", "2", "-p", "3", "-f", "plain"], ["numpy", "rich"]),
        (["outsize", "224", "-k", "7", "-f", "json"], ["numpy", "rich"]),
        (["conv", "--example", "-f", "plain"], ["rich"]),
        (["bptt", "--example", "-f", "json"], ["rich"]),
    ],
)
def test_each_command_pays_only_for_what_it_uses(argv, heavy):
    code = (
        "import sys\nfrom cnnrnn_cli.cli.main import main\n"
        f"sys.argv = ['cnnrnn', *{argv!r}]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print([m for m in {heavy!r} if m in sys.modules], file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stderr.strip().splitlines()[-1] == "[]", out.stderr


# --- the hostile user's alphabet: Unicode digits, huge integers, deep nesting ------------

# Digits Python's int() reads but the one ASCII grammar refuses, and ASCII look-alikes.
UNICODE_DIGITS = ["٣", "²", "３", "३", "১", "𝟑", "³", "½", "1_0", " 3", "3 ", "+3", "0x3", "03"]
HUGE_INTS = [
    "1" + "0" * 4300,
    "9" * 5000,
    "99999999999999999999",
    "2147483648",
    "9223372036854775808",
    "18446744073709551616",
]
INTEGER_TEXT = st.one_of(
    st.sampled_from(UNICODE_DIGITS),
    st.sampled_from(HUGE_INTS),
    st.integers(-3, 6).map(str),
    st.text(alphabet=st.characters(categories=["Nd", "No"]), min_size=1, max_size=3),
)


def nested(depth, leaf="1", open_="[", close="]"):
    return open_ * depth + leaf + close * depth


DEEP_MATRIX = st.one_of(
    st.integers(30, 40).map(nested),
    st.sampled_from([1000, 5000, 100_000]).map(nested),
    st.integers(1, 50_000).map(lambda n: "[" * n),  # never closed
    st.sampled_from(HUGE_INTS).map(lambda n: f"[{n}, 1]"),
    st.sampled_from(HUGE_INTS).map(lambda n: f"{n} 1; 2 3"),
    st.sampled_from(
        [
            "[1e400, 1]",
            "[null, 1]",
            '[{"a": 1}, 2]',
            "[[1, 2], [3, [4]]]",
            "1e99999999999999999999",
            "−1 ٣; 2 3",
        ]
    ),
)

# (command, integer option) pairs; every one is a size, count, seed or position.
INTEGER_OPTIONS = [
    (["outsize"], None),
    (["outsize", "8", "-k"], None),
    (["outsize", "8", "-k", "3", "-s"], None),
    (["outsize", "8", "-k", "3", "-p"], None),
    (["outsize", "3x8x8", "-k", "3", "-c"], None),
    (["conv", "--example", "-s"], None),
    (["conv", "--example", "-d"], None),
    (["conv", "--example", "--steps"], None),
    (["pool", "--example", "-k"], None),
    (["resblock", "--random", "--seed"], None),
    (["resblock", "--random", "--size"], None),
    (["resblock", "--example", "--depth"], None),
    (["bptt", "--example", "--at"], None),
    (["bptt", "--random", "3,1,1", "--seed"], None),
    (["gru-step", "--random", "2,3", "--seed"], None),
    (["inception", "--example", "--compute", "--seed"], None),
    (["conv", "--example", "--at"], ",1"),
    (["bptt", "--random"], ",1,1"),
    (["gru-step", "--random"], ",2"),
    (
        [
            "inception",
            "3x8x8",
            "--n3x3red",
            "1",
            "--n3x3",
            "1",
            "--n5x5red",
            "1",
            "--n5x5",
            "1",
            "--pool-proj",
            "1",
            "--n1x1",
        ],
        None,
    ),
]


def _assert_one_outcome(args, result):
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 2), (args, result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1, (args, result.stderr)
        assert len(errors[0]) < 1000, (args, errors[0][:200])
    else:
        for line in result.stderr.splitlines():
            assert line.startswith("Warning: "), (args, line)


@settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "400")) // 2,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(where=st.sampled_from(INTEGER_OPTIONS), text=INTEGER_TEXT, fmt=FORMATS)
def test_integers_are_one_ascii_grammar(where, text, fmt):
    """Any size, count, seed or position: a result, or one clean error; a non-ASCII digit,
    an underscore or a number past the documented range is always an error."""
    prefix, suffix = where
    args = [*prefix, text + (suffix or "")]
    result = CliRunner().invoke(
        cli, [*args, "-f", fmt, "--max-elements", "100000"], catch_exceptions=True
    )
    _assert_one_outcome(args, result)
    if not text.strip().lstrip("+-").isascii() or "_" in text or len(text) > 30:
        assert result.exit_code == 2, (args, result.stdout[:200])


@settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "400")) // 4,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(
    matrix=DEEP_MATRIX,
    where=st.sampled_from(["image", "kernel", "stdin", "json", "weights", "tensor", "grad", "xs"]),
    fmt=FORMATS,
)
def test_deep_nesting_and_huge_numbers_in_matrices(matrix, where, fmt, tmp_path_factory):
    folder = tmp_path_factory.mktemp("deep")
    stdin = None
    if where == "image":
        args = ["conv", matrix, "-k", "1"]
    elif where == "kernel":
        args = ["conv", "--example", "-k", matrix]
    elif where == "stdin":
        args, stdin = ["pool", "-", "-k", "1"], matrix
    elif where == "json":
        (folder / "x.json").write_text(matrix)
        args = ["conv", f"@{folder / 'x.json'}", "-k", "1"]
    elif where == "weights":
        (folder / "w.json").write_text('{"wh": ' + matrix + ', "xs": [[1]], "wx": [[1]]}')
        args = ["bptt", "--weights", f"@{folder / 'w.json'}"]
    elif where == "tensor":
        args = ["inception", "--example", "--compute", "--tensor", matrix]
    elif where == "grad":
        args = ["pool", "1 2; 3 4", "-k", "1", "--grad", matrix]
    else:
        args = ["bptt", "--xs", matrix, "--wx", "1", "--wh", "0.5"]
    result = CliRunner().invoke(
        cli, [*args, "-f", fmt, "--max-elements", "100000"], input=stdin, catch_exceptions=True
    )
    _assert_one_outcome(args, result)
    if matrix.count("[") > 32 or any(n in matrix for n in HUGE_INTS[:2]):
        assert result.exit_code == 2, (args[:1], result.stdout[:200])


# --- special files and /dev/full: only ever in a subprocess ------------------------------

_SPECIAL_ROOT = Path(tempfile.mkdtemp(prefix="cnnrnn-fuzz-special-"))
__import__("atexit").register(__import__("shutil").rmtree, _SPECIAL_ROOT, True)
SPECIAL_SOURCES = [
    "@/dev/zero",
    "@/dev/urandom",
    "@/dev/full",
    "@/dev/null",
    "@/proc/self/mem",
    "@/etc",
    "@fifo",
    "@fifo.npy",
    "@fifo.json",
    "@zero.npz",
    "@/dev/stdin",
    "-",
]
SPECIAL_SLOTS = [
    ["conv", "{}", "-k", "1"],
    ["conv", "--example", "-k", "{}"],
    ["pool", "{}"],
    ["bptt", "--weights", "{}"],
    ["bptt", "--xs", "{}", "--wx", "1", "--wh", "1"],
    ["gru-step", "--torch-weights", "{}"],
    ["gru-step", "--random", "2,2", "--h", "{}"],
    ["resblock", "--weights", "{}"],
    ["inception", "--example", "--compute", "--tensor", "{}"],
    ["inception", "--example", "--compute", "--weights", "{}"],
]
STDINS = st.sampled_from([None, "closed", b"1 2\n3 4\n", b"\x00" * 4096, b"[" * 5000])


# No shrinking: each example is a process, and the first failure says enough.
@settings(
    max_examples=int(__import__("os").environ.get("FUZZ_SPECIAL_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(
    slot=st.sampled_from(SPECIAL_SLOTS),
    source=st.sampled_from(SPECIAL_SOURCES),
    stdout=st.sampled_from(["file", "full", "closed"]),
    stdin=STDINS,
    fmt=FORMATS,
    fifo_payload=st.sampled_from([None, b"1 2\n3 4\n", b"\x00\x01\x02", b"[" * 100]),
)
def test_special_files_and_full_disks_in_a_subprocess(
    slot, source, stdout, stdin, fmt, fifo_payload
):
    import adversarial_cases as ac

    if not ac.Baseline.rss_mb:
        ac.Baseline.measure(ac.base_env())
    args = [source if a == "{}" else a for a in slot]
    setup = None
    if source.startswith("@fifo"):
        setup = ac.fifo(source[1:], fifo_payload)
    elif source == "@zero.npz":
        setup = ac.symlink("zero.npz", "/dev/zero")
    case = ac.Case(
        f"fuzz-{time.monotonic_ns()}",
        [*args, "-f", fmt],
        ac.CLEAN,
        stdin=stdin,
        stdout=stdout,
        setup=setup,
        rss_mb=ac.TIGHT,
        timeout=30,
    )
    outcome = ac.run_case(case, _SPECIAL_ROOT)
    problems = ac.verdict(outcome)
    if stdout != "file" and outcome.returncode == 0:
        problems.append("a result although standard output could not be written")
    assert not problems, "\n".join(problems) + "\n" + outcome.describe()
