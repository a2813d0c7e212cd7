"""Standard streams at the edge and the files the tool writes.

Streams and special files are exercised in real subprocesses (`cnnrnn` on PATH, see
conftest); the rest in-process. Never /dev/null itself where a rename could happen (a
symlink to it instead), never a real full disk (/dev/full, or a failure made in-process).
"""

import errno
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnrnn_cli.cli.main import cli
from cnnrnn_cli.io import files, streams
from conftest import assert_error

TIMEOUT = 120
EXAMPLE = ["conv", "--example"]


def cnnrnn(*args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=None, **kw):
    """`cnnrnn ARGS` in a subprocess; returns (returncode, stdout bytes, stderr text)."""
    proc = subprocess.run(
        ["cnnrnn", *args],
        stdin=stdin,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        timeout=TIMEOUT,
        **kw,
    )
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def sh(script: str, env=None):
    """A shell line (for `>&-` and `<&-`); returns (returncode, stdout, stderr)."""
    proc = subprocess.run(["bash", "-c", script], capture_output=True, env=env, timeout=TIMEOUT)
    return proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace")


def assert_one_error(code, err, *fragments, status=2):
    assert code == status, err
    errors = [line for line in err.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, err
    assert "Traceback" not in err and "Exception ignored" not in err, err
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])


def assert_clean(err):
    assert "Traceback" not in err and "Exception ignored" not in err, err


# -- stdout that cannot be written ---------------------------------------------------------

FULL_CASES = [
    [*EXAMPLE, "-f", "plain"],
    [*EXAMPLE, "-f", "rich"],
    [*EXAMPLE, "-f", "json"],
    [*EXAMPLE, "-f", "csv"],
    [*EXAMPLE, "-f", "latex"],
    [*EXAMPLE, "--only", "result"],
    ["bptt", "--example", "-f", "json", "--only", "grads"],
    ["tour", "-f", "plain"],
    ["outsize", "224", "-k", "7"],
    ["--help"],
    ["--version"],
    [],
    ["conv", "--help"],
    ["conv", "0", "-k", "1", "-p", "300", "-f", "plain"],  # larger than any buffer
]


@pytest.mark.parametrize("args", FULL_CASES, ids=" ".join)
def test_full_disk_on_stdout_is_one_error_line(args):
    with open("/dev/full", "wb") as full:
        code, _, err = cnnrnn(*args, stdout=full)
    assert_one_error(
        code, err, "output: cannot write to standard output", "No space left on device"
    )


@pytest.mark.parametrize(
    "args",
    [[*EXAMPLE, "-f", "plain"], [*EXAMPLE, "-f", "rich"], ["--help"], ["--version"], []],
    ids=" ".join,
)
def test_closed_stdout_is_one_error_line(args):
    code, _, err = sh(" ".join(["cnnrnn", *args]) + " >&-")
    assert_one_error(code, err, "standard output", "closed")


def test_nothing_at_all_writable():
    # Neither stdout nor stderr: exit 2 still tells, and nothing crashes on the way out.
    code, out, err = sh("cnnrnn conv --example -f plain >/dev/full 2>&-")
    assert code == 2 and out == b"" and err == ""
    code, _, _ = sh("cnnrnn conv --example -f plain >&- 2>/dev/full")
    assert code == 2


@pytest.mark.parametrize("fmt", ["plain", "json", "csv", "rich"])
def test_a_closed_pipe_stays_quiet(fmt):
    proc = subprocess.Popen(
        ["cnnrnn", "conv", "0", "-k", "1", "-p", "400", "-f", fmt],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.read(1)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=TIMEOUT) == 0  # whenever the reader went: no race to lose
    assert err == ""


def test_a_broken_stderr_does_not_crash():
    # The reader of stderr has gone before the Error line is written.
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            ["cnnrnn", "conv", "1", "-k", "0 0 0; 0 0 0"],
            stderr=write,
            stdout=subprocess.PIPE,
            timeout=TIMEOUT,
        )
    finally:
        os.close(write)
    assert proc.returncode == 2 and proc.stdout == b""


def test_warnings_on_a_full_stderr_do_not_stop_the_command():
    with open("/dev/full", "wb") as full:
        proc = subprocess.run(
            ["cnnrnn", "conv", "1 2 3 4", "-k", "1 1 1", "-s", "2"],
            stdout=subprocess.PIPE,
            stderr=full,
            timeout=TIMEOUT,
        )
    assert proc.returncode == 0 and proc.stdout


# -- stdin closed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line, fragment",
    [
        ("cnnrnn conv -k 1 <&-", "image: no input"),
        ("cnnrnn conv - -k 1 <&-", "image: no input: standard input is closed"),
        ("cnnrnn conv 1 -k - <&-", "kernel: no input: standard input is closed"),
        ("cnnrnn bptt --example --xs - <&-", "no input: standard input is closed"),
    ],
)
def test_closed_stdin_is_no_input(line, fragment):
    code, out, err = sh(line)
    assert_one_error(code, err, fragment)
    assert out == b""


def test_closed_stdin_with_interactive_runs_the_plain_way():
    code, out, err = sh("cnnrnn conv --example -f rich --interactive <&-")
    assert code == 0 and b"convolved feature" in out, err
    assert_clean(err)


# -- Ctrl-C -------------------------------------------------------------------------------------

ENTRY_POINTS = [["cnnrnn"], [sys.executable, "-m", "cnnrnn_cli"]]


@pytest.mark.parametrize("module", ["click", "numpy", "rich", "cnnrnn_cli.cli.main"])
def test_ctrl_c_while_importing_exits_130(module):
    # The interrupt lands exactly inside the import of `module` (start-up, before Click
    # runs), as a real Ctrl-C can.
    code = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name == {module!r}:\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "sys.argv = ['cnnrnn', 'conv', '--example', '-f', 'rich']\n"
        "from cnnrnn_cli.entry import main\n"
        "main()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


# Moments, each right after Python reports an import as done (PYTHONPROFILEIMPORTTIME
# writes a line on stderr as each import ends): a sleep could not tell a slow machine's
# start-up of the interpreter itself (its `site` module, which no code of ours guards)
# from our own.
MOMENTS = [
    "cnnrnn_cli.entry",
    "click.core",
    "click",
    "cnnrnn_cli.cli.main",
    "numpy",
    "rich.console",
    "rich",
    None,
]


@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=["script", "module"])
@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_ctrl_c_at_any_moment_exits_130(entry, moment):
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    proc = subprocess.Popen(
        [*entry, "conv", "--example", "-f", "rich"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if moment and line.decode().rsplit("|", 1)[-1].strip() == moment:
            break
    proc.send_signal(signal.SIGINT)  # after the end, if the moment never came: exit 0
    err = (b"".join(seen) + proc.stderr.read()).decode()
    assert proc.wait(timeout=TIMEOUT) in (130, 0), err
    assert_clean(err)


def test_ctrl_c_at_once_after_start():
    for _ in range(3):
        proc = subprocess.Popen(
            ["cnnrnn", "conv", "--example", "-f", "rich"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        proc.send_signal(signal.SIGINT)
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=TIMEOUT)
        if _in_interpreter_start_up(err):
            continue  # a loaded machine let the interpreter reach its `site` module first
        # Before the interpreter has set up its handler, SIGINT ends it as the signal
        # does (a shell shows 130 for that too).
        assert code in (130, -signal.SIGINT, 0), err
        assert_clean(err)


def _in_interpreter_start_up(err: str) -> bool:
    """A traceback from Python's own start-up (site, .pth files), before any of ours."""
    return (
        ("<frozen site>" in err or "Fatal Python error: init_" in err)
        and "cnnrnn_cli" not in err
        and "bin/cnnrnn" not in err
    )


# -- shell completion ---------------------------------------------------------------------------


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
@pytest.mark.parametrize(
    "env",
    [{}, {"COMP_WORDS": "cnnrnn co"}, {"COMP_WORDS": "cnnrnn co", "COMP_CWORD": "x"}],
    ids=["none", "no-cword", "bad-cword"],
)
def test_completion_without_its_variables_is_clean(shell, env):
    env = {"COMP_WORDS": None, "COMP_CWORD": None, **env, "_CNNRNN_COMPLETE": f"{shell}_complete"}
    result = CliRunner().invoke(cli, [], env=env, prog_name="cnnrnn")
    if shell == "fish" and "COMP_CWORD" in env and env["COMP_CWORD"] is not None:
        assert result.exit_code == 0  # fish passes the word being completed there
    else:
        assert_error(result, "completion", "COMP_WORDS")


def test_completion_without_its_variables_in_a_real_process():
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMP_")}
    for shell in ("bash", "zsh", "fish"):
        code, out, err = cnnrnn(env={**env, "_CNNRNN_COMPLETE": f"{shell}_complete"})
        assert_one_error(code, err, "completion")


def test_completion_reads_no_input():
    # `cnnrnn conv - -k <TAB>` must not wait on stdin, nor read @files.
    env = dict(
        os.environ,
        _CNNRNN_COMPLETE="bash_complete",
        COMP_WORDS="cnnrnn conv - --weights @/dev/zero -k ",
        COMP_CWORD="6",
    )
    proc = subprocess.Popen(
        ["cnnrnn"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.stdin.close()
    assert proc.returncode == 0, err
    assert_clean(err.decode())


# -- a stream that cannot encode the symbols ---------------------------------------------------


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_ascii_streams_get_ascii_symbols(encoding):
    env = dict(os.environ, PYTHONIOENCODING=encoding)
    code, out, err = cnnrnn(*EXAMPLE, "-f", "rich", env=env)
    assert code == 0, err
    text = out.decode(encoding)
    assert "1*1 + 0*1" in text or "1·1 + 0·1" in text
    assert "?" not in text
    code, out, _ = cnnrnn("bptt", "--example", "-f", "rich", env=env)
    assert code == 0 and "?" not in out.decode(encoding)
    proc = subprocess.run(
        ["cnnrnn", "conv", "1 2; 3 4", "-k", "1 1 1; 1 1 1; 1 1 1"],
        capture_output=True,
        env=env,
        timeout=TIMEOUT,
    )
    err = proc.stderr.decode(encoding)
    assert_one_error(proc.returncode, err, "2*0" if encoding == "ascii" else "2·0")
    assert "?" not in err


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1·1 + 0·1", "1*1 + 0*1"),
        ("3×5×5", "3x5x5"),
        ("−2", "-2"),
        ("a → b", "a -> b"),
        ("x⁻¹ y² 10⁶", "x^-1 y^2 10^6"),
        ("W₁₂", "W_12"),
        ("h̃ ŷ", "h~ y^"),
        ("½", "1/2"),
        ("…", "..."),
        ("⌈N/S⌉", "ceil(N/S)"),
        ("σ(a)", "sigma(a)"),
        ("∂L/∂W", "dL/dW"),
        ("─│┼", "-|+"),
        ("é", "e"),
        ("☃", "?"),
        ("‖W‖ ≤ 1", "||W|| <= 1"),
    ],
)
def test_the_ascii_fallback(text, expected):
    streams.install()  # registers the handler (the rest is a no-op under pytest)
    assert text.encode("ascii", errors=streams.FALLBACK).decode() == expected


# -- files written: whole, last, never over an input --------------------------------------------


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


def leftovers(folder: Path) -> list:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_svg_is_written_whole(in_tmp):
    result = invoke(*EXAMPLE, "-f", "plain", "--svg", "c.svg")
    assert result.exit_code == 0, result.stderr
    assert (in_tmp / "c.svg").read_text().lstrip().startswith("<svg")
    assert leftovers(in_tmp) == []


def test_svg_is_not_written_when_the_command_fails(in_tmp):
    assert_error(invoke(*EXAMPLE, "--svg", "c.svg", "--only", "nope"), "only")
    assert not (in_tmp / "c.svg").exists()
    (in_tmp / "c.svg").write_text("old")
    assert_error(invoke(*EXAMPLE, "--svg", "c.svg", "--only", "nope"), "only")
    assert (in_tmp / "c.svg").read_text() == "old"
    assert leftovers(in_tmp) == []


@pytest.mark.parametrize(
    "args",
    [
        ["conv", "@in.txt", "-k", "1", "--svg", "in.txt"],
        ["conv", "@./in.txt", "-k", "1", "--svg", "in.txt"],
        ["conv", "@link.txt", "-k", "1", "--svg", "in.txt"],
        ["conv", "@in.txt", "-k", "1", "--svg", "link.txt"],
        ["conv", "1 2; 3 4", "-k", "@in.txt", "--svg", "sub/../in.txt"],
        ["conv", "--svg", "in.txt", "@in.txt", "-k", "1"],
    ],
)
def test_svg_over_an_input_is_refused(in_tmp, args):
    (in_tmp / "in.txt").write_text("1 2; 3 4\n")
    (in_tmp / "sub").mkdir()
    (in_tmp / "link.txt").symlink_to("in.txt")
    assert_error(invoke(*args), "svg", "an input of this command")
    assert (in_tmp / "in.txt").read_text() == "1 2; 3 4\n"


def test_svg_over_named_weights_is_refused(in_tmp):
    np = pytest.importorskip("numpy")
    np.savez(
        in_tmp / "w.npz",
        xs=np.array([[1.0], [2.0]]),
        wx=np.ones((2, 1)),
        wh=np.eye(2) * 0.5,
        b=np.zeros(2),
        wy=np.ones((1, 2)),
        by=np.zeros(1),
        y=np.array([1.0]),
    )
    before = (in_tmp / "w.npz").read_bytes()
    assert invoke("bptt", "--weights", "@w.npz", "-f", "plain").exit_code == 0
    assert_error(
        invoke("bptt", "--weights", "@w.npz", "--svg", "w.npz"),
        "svg",
        "an input of this command (@w.npz)",
    )
    assert (in_tmp / "w.npz").read_bytes() == before


def test_svg_over_a_redirected_stdin_is_refused(in_tmp):
    (in_tmp / "in.txt").write_text("1 2; 3 4\n")
    for args in (["conv", "-k", "1"], ["conv", "-", "-k", "1"]):
        with open(in_tmp / "in.txt", "rb") as stdin:
            code, _, err = cnnrnn(*args, "--svg", "in.txt", stdin=stdin, cwd=in_tmp)
        assert_one_error(code, err, "standard input")
        assert (in_tmp / "in.txt").read_text() == "1 2; 3 4\n"


def test_svg_onto_the_standard_outputs_own_file_is_refused(in_tmp):
    with open(in_tmp / "out.txt", "wb") as out:
        code, _, err = cnnrnn(*EXAMPLE, "-f", "plain", "--svg", "/dev/stdout", stdout=out)
    assert_one_error(code, err, "standard output")


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("-", "- would be a file named '-'"),
        ("", "empty"),
        (".", "directory"),
        ("nowhere/c.svg", "no folder"),
    ],
)
def test_svg_names_that_are_refused(in_tmp, name, fragment):
    assert_error(invoke(*EXAMPLE, "--svg", name), "svg", fragment)
    assert not (in_tmp / "-").exists()


def test_a_dash_file_can_still_be_named(in_tmp):
    assert invoke(*EXAMPLE, "-f", "plain", "--svg", "./-").exit_code == 0
    assert (in_tmp / "-").exists()


def test_a_symlink_is_followed_and_kept(in_tmp):
    (in_tmp / "pictures").mkdir()
    (in_tmp / "pictures" / "c.svg").write_text("old")
    (in_tmp / "link.svg").symlink_to("pictures/c.svg")
    assert invoke(*EXAMPLE, "-f", "plain", "--svg", "link.svg").exit_code == 0
    assert (in_tmp / "link.svg").is_symlink()
    assert (in_tmp / "pictures" / "c.svg").read_text().lstrip().startswith("<svg")
    assert leftovers(in_tmp) == [] and leftovers(in_tmp / "pictures") == []


def test_a_dangling_symlink_gets_its_target(in_tmp):
    (in_tmp / "link.svg").symlink_to("new.svg")
    assert invoke(*EXAMPLE, "-f", "plain", "--svg", "link.svg").exit_code == 0
    assert (in_tmp / "link.svg").is_symlink() and (in_tmp / "new.svg").is_file()


def test_the_old_files_permissions_are_kept(in_tmp):
    (in_tmp / "c.svg").write_text("old")
    os.chmod(in_tmp / "c.svg", 0o640)
    assert invoke(*EXAMPLE, "-f", "plain", "--svg", "c.svg").exit_code == 0
    assert stat.S_IMODE(os.stat(in_tmp / "c.svg").st_mode) == 0o640


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_a_failing_write_leaves_the_old_file(in_tmp, monkeypatch, failing):
    (in_tmp / "c.svg").write_text("old")

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if failing == "write":
        real_fdopen = os.fdopen

        class Full:
            def __init__(self, fh):
                self.fh = fh

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.fh.close()

            def write(self, data):
                self.fh.write(data[:100])  # a fragment, then the disk is full
                no_space()

        monkeypatch.setattr(files.os, "fdopen", lambda *a, **k: Full(real_fdopen(*a, **k)))
    else:
        monkeypatch.setattr(files.os, failing, no_space)
    result = invoke(*EXAMPLE, "-f", "plain", "--svg", "c.svg")
    assert_error(result, "svg: cannot write c.svg", "No space left on device")
    assert (in_tmp / "c.svg").read_text() == "old"
    assert leftovers(in_tmp) == []


def test_ctrl_c_while_staging_leaves_no_temporary_file(in_tmp, monkeypatch):
    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "fsync", interrupted)
    result = invoke(*EXAMPLE, "-f", "plain", "--svg", "c.svg")
    assert result.exit_code == 130
    assert leftovers(in_tmp) == [] and not (in_tmp / "c.svg").exists()


def test_a_full_stdout_writes_no_svg(in_tmp):
    (in_tmp / "old.svg").write_text("old")
    with open("/dev/full", "wb") as full:
        for name in ("old.svg", "new.svg"):
            code, _, err = cnnrnn(*EXAMPLE, "-f", "plain", "--svg", name, stdout=full, cwd=in_tmp)
            assert_one_error(code, err, "standard output")
    assert (in_tmp / "old.svg").read_text() == "old"
    assert not (in_tmp / "new.svg").exists() and leftovers(in_tmp) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in a read-only folder")
def test_a_read_only_folder_is_one_error_line(in_tmp):
    folder = in_tmp / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        code, _, err = cnnrnn(*EXAMPLE, "-f", "plain", "--svg", "ro/c.svg", cwd=in_tmp)
    finally:
        folder.chmod(0o755)
    assert_one_error(code, err, "svg: cannot write ro/c.svg", "Permission denied")


def test_a_folder_we_may_not_write_is_one_error_line(in_tmp, monkeypatch):
    real_open = os.open

    def denied(path, flags, *args):
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(files.os, "open", denied)
    assert_error(invoke(*EXAMPLE, "-f", "plain", "--svg", "c.svg"), "Permission denied")
    assert list(in_tmp.iterdir()) == []


# Special files: only in a subprocess, and never /dev/null itself where a rename could be.


def test_a_symlink_to_dev_null_is_written_through(in_tmp):
    (in_tmp / "null.svg").symlink_to("/dev/null")
    code, out, err = cnnrnn(*EXAMPLE, "-f", "plain", "--svg", "null.svg", cwd=in_tmp)
    assert code == 0 and out, err
    assert (in_tmp / "null.svg").is_symlink()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert leftovers(in_tmp) == []


def test_a_symlink_to_dev_full_fails_cleanly(in_tmp):
    (in_tmp / "full.svg").symlink_to("/dev/full")
    code, _, err = cnnrnn(*EXAMPLE, "-f", "plain", "--svg", "full.svg", cwd=in_tmp)
    assert_one_error(code, err, "svg: cannot write full.svg", "No space left on device")
    assert (in_tmp / "full.svg").is_symlink() and leftovers(in_tmp) == []


def test_a_fifo_with_a_reader_is_written_through(in_tmp):
    fifo = in_tmp / "pipe.svg"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    code, _, err = cnnrnn(*EXAMPLE, "-f", "plain", "--svg", "pipe.svg", cwd=in_tmp)
    reader.join(timeout=TIMEOUT)
    assert code == 0, err
    assert got and got[0].lstrip().startswith(b"<svg")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and leftovers(in_tmp) == []


def test_svg_to_dev_stdout_on_a_pipe(in_tmp):
    code, out, err = cnnrnn(*EXAMPLE, "-f", "plain", "--svg", "/dev/stdout", cwd=in_tmp)
    assert code == 0, err
    assert out.startswith(b"4 3 4\n") and b"<svg" in out


def test_pending_file_stages_beside_its_target_and_discards(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    pending = files.PendingFile(str(target), "out")
    pending.stage(b"new")
    assert len(leftovers(tmp_path)) == 1 and target.read_text() == "old"
    pending.discard()
    assert leftovers(tmp_path) == [] and target.read_text() == "old"
    files.write_file(str(target), b"new", "out")
    assert target.read_text() == "new" and leftovers(tmp_path) == []


def test_pending_file_never_renames_over_a_device():
    assert files.PendingFile("/dev/null", "out").direct
    assert files.PendingFile("/dev/full", "out").direct
