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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnrnn_cli.cli.main import cli
from conftest import assert_error

# Files for the fuzzer to point at: binary noise, a pickled .npy, a broken .npz.
_FILES = Path(tempfile.mkdtemp(prefix="cnnrnn-fuzz-"))
(_FILES / "noise.bin").write_bytes(bytes(range(256)) * 4)
(_FILES / "noise.npz").write_bytes(b"PK\x03\x04 not really a zip")
np.save(_FILES / "pickled.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
np.save(_FILES / "ok.npy", np.arange(6.0).reshape(2, 3))
FILE_PATHS = [f"@{_FILES / name}" for name in ("noise.bin", "noise.npz", "pickled.npy",
                                                "ok.npy")]

NUMBERS = st.one_of(st.integers(-5, 5).map(str), st.sampled_from(
    ["0.5", "-1e3", "1e308", "1e-320", "−2", "+3", "nan", "inf", "1e999", "0x1", "١", "1_0"]))
ROWS = st.lists(st.lists(NUMBERS, min_size=0, max_size=4).map(" ".join), min_size=0,
                max_size=4).map("; ".join)
MATRIX = st.one_of(
    ROWS,
    st.text(max_size=20),
    st.sampled_from(["", "[", "[[1, 2], [3]]", "[1, 2, 3]", "1 2 | 3 4", "1 2 || 3", "@",
                     "@/no/such/file.npy", "@/dev/null", "@/etc/passwd", "-", "[[[[1]]]]",
                     "[[1, 2], [3, \"a\"]]", "1,,2", "# only a comment", "\x00\x01", "[]",
                     "9" * 400, "1e308 1e308; 1e308 1e308", *FILE_PATHS]),
)
SIZE = st.one_of(st.integers(-2, 6).map(str),
                 st.sampled_from(["2x3", "0x1", "same", "valid", "full", "x", "", "1.5", "3x"]))
FLOATS = st.sampled_from(["0.1", "-1", "0", "nan", "1e400", "x", "2"])
FORMATS = st.sampled_from(["plain", "json", "csv", "rich", "latex"])


def opt(name, values):
    return st.one_of(st.just([]), values.map(lambda v: [name, v]))


def command_args():
    conv = st.tuples(st.just(["conv"]), opt("-k", MATRIX), opt("-s", SIZE), opt("-p", SIZE),
                     opt("-d", SIZE), opt("-b", MATRIX),
                     opt("--pad-mode", st.sampled_from(["zeros", "reflect", "circular", "x"])),
                     opt("--at", st.sampled_from(["1,1", "9,9", "0,1", "a", "1,1,1"])),
                     st.one_of(st.just([]), MATRIX.map(lambda m: [m])))
    pool = st.tuples(st.just(["pool"]), opt("-k", SIZE), opt("-s", SIZE), opt("-p", SIZE),
                     opt("--mode", st.sampled_from(["max", "avg", "min", "sum", "l2"])),
                     st.sampled_from([[], ["--ceil"], ["--global"], ["--no-count-include-pad"]]),
                     opt("--grad", MATRIX), st.one_of(st.just([]), MATRIX.map(lambda m: [m])))
    outsize = st.tuples(st.just(["outsize"]), SIZE.map(lambda s: [s]), opt("-k", SIZE),
                        opt("-s", SIZE), opt("-p", SIZE), opt("-d", SIZE),
                        st.sampled_from([[], ["--ceil"], ["--transposed"], ["--same"]]),
                        opt("--output-padding", SIZE),
                        opt("--layers", st.sampled_from(["conv k=3", "maxpool k=2 s=0", "x",
                                                         "conv k=3 c=0; avgpool k=9",
                                                         "convT k=2 s=2 op=3", ";"])))
    bptt = st.tuples(st.just(["bptt"]), opt("--xs", MATRIX), opt("--wx", MATRIX),
                     opt("--wh", MATRIX), opt("--b", MATRIX), opt("--y", MATRIX),
                     opt("--wy", MATRIX), opt("--lr", FLOATS), opt("--tol", FLOATS),
                     opt("--activation", st.sampled_from(["tanh", "relu", "sigmoid", "x"])),
                     opt("--random", st.sampled_from(["3,1,1", "2,2,2", "0,1,1", "1,1"])),
                     st.sampled_from([[], ["--check"], ["--example"]]))
    gru = st.tuples(st.just(["gru-step"]), opt("--x", MATRIX), opt("--h", MATRIX),
                    opt("--wxz", MATRIX), opt("--whz", MATRIX), opt("--xs", MATRIX),
                    opt("--random", st.sampled_from(["2,3", "1,1", "0,2", "x"])),
                    opt("--tol", FLOATS),
                    st.sampled_from([[], ["--reset-before"], ["--example"],
                                     ["--z-keeps", "new"]]))
    resblock = st.tuples(st.just(["resblock"]), opt("--a0", MATRIX), opt("--w1", MATRIX),
                         opt("--w2", MATRIX), opt("--b1", MATRIX), opt("--shortcut", MATRIX),
                         opt("--depth", st.sampled_from(["0", "3", "x"])),
                         st.sampled_from([[], ["--random"], ["--example"]]))
    inception = st.tuples(st.just(["inception"]), st.one_of(st.just([]), SIZE.map(lambda s: [s])),
                          opt("--n1x1", SIZE), opt("--n3x3", SIZE),
                          opt("--preset", st.sampled_from(["3a", "5b", "9z"])),
                          st.sampled_from([[], ["--compute"], ["--no-bias"], ["--example"]]))
    tour = st.tuples(st.just(["tour"]), opt("--section", st.sampled_from(
        ["conv", "rnn", "gru", "nope"])))
    common = st.tuples(opt("--only", st.sampled_from(["result", "grads.wh", "h", "x", "z",
                                                      "output", "layers", "skip.a2"])),
                       opt("--precision", st.sampled_from(["0", "3", "17", "-1", "x"])),
                       st.sampled_from([[], ["--no-color"], ["--example"]]))
    command = st.one_of(conv, pool, outsize, bptt, gru, resblock, inception, tour)
    return st.tuples(command, common).map(
        lambda pair: [a for group in pair for part in group for a in part])


@settings(max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "400")), deadline=None,
          suppress_health_check=list(HealthCheck))
@given(args=command_args(), fmt=FORMATS, stdin=st.one_of(st.none(), ROWS, st.text(max_size=10)))
def test_every_outcome_is_a_result_or_one_clean_error(args, fmt, stdin):
    result = CliRunner().invoke(cli, [*args, "-f", fmt, "--max-elements", "100000"],
                                input=stdin, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code in (0, 2), (args, result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    if result.exit_code == 2:
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
        assert len(errors) == 1, (args, result.stderr)
    else:
        for line in result.stderr.splitlines():
            assert line.startswith("Warning: "), (args, line)


# --- named regressions from the fuzzer and from review ----------------------------------


@pytest.mark.parametrize("args, fragments", [
    (["conv", "|", "-k", "1"], ["channel 1 is empty"]),
    (["pool", "1 2", "-k", "2x3"], ["exceeds the padded input"]),
    (["conv", "[[[[1]]]]", "-k", "1"], ["expected H×W or C×H×W"]),
    (["outsize", "3", "-k", "2", "--transposed", "-p", "same"], ["not defined for a transposed"]),
    (["pool", "@/dev/null"], ["no values given"]),
    (["resblock", "--shortcut", "@\x00"], ["shortcut", "not a valid file name"]),
    (["conv", "@", "-k", "1"], ["image", "not a valid file name"]),
])
def test_named_regressions(run, args, fragments):
    assert_error(run(*args), *fragments)


def test_overflow_inside_bptt_is_one_clean_error(run):
    result = run("bptt", "--xs", "1; 1", "--wx", "1e200", "--wh", "1e200", "--activation",
                 "identity", "--y", "0")
    assert_error(result, "overflows float64")
    assert "RuntimeWarning" not in result.stderr


def test_only_a_group_of_fields_or_records(run):
    assert run("inception", "--preset", "3a", "--only", "result").stdout.startswith(
        "# result.output_shape\n256 28 28\n")
    records = run("inception", "--preset", "3a", "--only", "branches").stdout.splitlines()
    assert len(records) == 4 and records[0].startswith('{"name": "1x1"')
    assert "# grads.wh\n" in run("bptt", "--example", "--only", "grads").stdout


@pytest.mark.parametrize("args, fragments", [
    (["bptt", "--random", "100000,1000,1000"], ["random", "over --max-elements"]),
    (["resblock", "--random", "--size", "100000"], ["size", "over --max-elements"]),
    (["gru-step", "--random", "100000,100000"], ["random", "over --max-elements"]),
    (["bptt", "--random", "5,1,1", "--scale", "nan"], ["scale", "finite"]),
    (["bptt", "--example", "--lr", "inf"], ["lr", "finite"]),
    (["bptt", "--example", "--tol", "nan"], ["tol", "finite"]),
    (["bptt", "--xs", "1;1;1", "--wx", "1", "--wh", "1e300", "--activation", "identity"],
     ["overflows float64"]),
])
def test_sizes_and_values_that_would_blow_up(run, args, fragments):
    assert_error(run(*args), *fragments)


def test_binary_stdin_in_a_utf8_locale():
    env = {**__import__("os").environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run(["cnnrnn", "pool", "-k", "2"], input=bytes(range(256)),
                         capture_output=True, env=env, timeout=60)
    assert out.returncode == 2 and out.stderr.startswith(b"Error: input: standard input")
    assert b"Traceback" not in out.stderr


def test_binary_file_input(run, tmp_path):
    path = tmp_path / "image.bin"
    path.write_bytes(bytes(range(256)))
    assert_error(run("conv", f"@{path}", "-k", "1"), "image", "not UTF-8 text")


def test_ctrl_c_exits_130_without_a_traceback():
    # `conv -` waits on a pipe that never closes: a long-running command to interrupt.
    proc = subprocess.Popen(["cnnrnn", "conv", "-", "-k", "1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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


@pytest.mark.parametrize("argv, heavy", [
    (["outsize", "224", "-k", "7", "-s", "2", "-p", "3", "-f", "plain"], ["numpy", "rich"]),
    (["outsize", "224", "-k", "7", "-f", "json"], ["numpy", "rich"]),
    (["conv", "--example", "-f", "plain"], ["rich"]),
    (["bptt", "--example", "-f", "json"], ["rich"]),
])
def test_each_command_pays_only_for_what_it_uses(argv, heavy):
    code = ("import sys\nfrom cnnrnn_cli.cli.main import main\n"
            f"sys.argv = ['cnnrnn', *{argv!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print([m for m in {heavy!r} if m in sys.modules], file=sys.stderr)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.stderr.strip().splitlines()[-1] == "[]", out.stderr
