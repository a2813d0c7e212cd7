"""The hostile user's probes, and a runner that executes each one as a real `cnnrnn` process.

Each `Case` is one command line with its files, standard streams and expectation. The
runner starts it under an address-space limit (`RLIMIT_AS`, with `OPENBLAS_NUM_THREADS=1`
so that BLAS thread buffers do not eat the limit), measures its peak RSS with `os.wait4`,
kills it after a timeout (a hang detector, not a speed test) and checks the contract:
exit 2 with exactly one `Error:` line, or a result with only `Warning:` lines, never a
traceback, and never more memory than the case allows.

Big or special inputs are made without the test process holding them: the zip bomb is a
deflate stream of zeros written chunk by chunk, infinite inputs are pipes fed by a
thread, FIFOs get a writer thread, and `/dev/full` stands in for a full disk.
"""

from __future__ import annotations

import os
import resource
import signal
import stat
import struct
import subprocess
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MB = 1 << 20
# A hang detector, not a speed test: no case needs more than a few seconds of CPU. The
# limit is on CPU time (RLIMIT_CPU), so that a busy machine does not fail a case; a process
# that has run TIMEOUT seconds of wall clock and used no CPU for BLOCKED seconds is hung
# (blocked on a read, say) and killed; WALL_FACTOR × TIMEOUT is the ceiling either way.
TIMEOUT = 60.0
BLOCKED = 20.0
WALL_FACTOR = 10

# What the case expects.
ERROR = "error"  # exit 2, exactly one `Error:` line, other stderr lines are warnings
OK = "ok"  # exit 0, stderr holds only `Warning:` lines
CLEAN = "clean"  # either of the two: the contract leaves the outcome open
QUIET = "quiet"  # a closed pipe: nothing on stderr
INTERRUPTED = "interrupted"  # Ctrl-C: exit 130, no traceback
SILENT_FAILURE = "silent-failure"  # exit 2 with no stderr to say why (stderr closed)

# Peak RSS over the start-up baseline that a case may reach.
LOOSE = 200  # MB: refusals and small results
TIGHT = 64  # MB: "refused before the process uses more than 64 MB beyond start-up"

BAD_IN_STDERR = (
    "Traceback",
    "Exception ignored",
    "MemoryError",
    "Unable to allocate",
    "RecursionError",
    "maximum recursion depth",
    "Exceeds the limit (4300",
    "out of memory",
)


@dataclass
class Case:
    id: str
    argv: list[str]
    expect: str = ERROR
    fragments: tuple[str, ...] = ()  # every one must be in the Error line
    absent: tuple[str, ...] = ()  # none may be in stderr (wrong or unclear messages)
    setup: Callable[[Path], None] | None = None  # makes the case's files in its folder
    # stdin: None (/dev/null), bytes, a generator function of chunks, "closed", "@name" (a
    # file in the case's folder), "dir" (the folder itself), "dev:/dev/zero" (any path)
    stdin: object = None
    # stdout: "file", "null", "full" (/dev/full), "closed", "head" (read 1 byte and close),
    # "readonly" (a descriptor opened for reading only)
    stdout: str = "file"
    stderr: str = "file"  # or "closed"
    env: dict = field(default_factory=dict)
    rss_mb: float = LOOSE
    as_mb: float = 700  # address space over the baseline's VmPeak
    fsize: int | None = None  # RLIMIT_FSIZE in bytes: a disk that fills up
    sigint_after: float | None = None  # seconds after start (or after `sigint_on`)
    sigint_on: str | None = None  # wait for this in /proc/PID/maps (a module being loaded)
    timeout: float = TIMEOUT
    max_error_len: int = 1000
    check: Callable[[Path, bytes, bytes], None] | None = None  # extra checks on success


@dataclass
class Outcome:
    case: Case
    argv: list[str]
    returncode: int
    stdout: bytes
    stderr: bytes
    rss_mb: float
    seconds: float
    timed_out: bool
    folder: Path
    interrupted_at: float | None = None
    cpu: float = 0.0

    def describe(self) -> str:
        err = self.stderr.decode("utf-8", "replace")
        if len(err) > 3000:
            err = err[:1500] + "\n...\n" + err[-1500:]
        out = self.stdout[:300].decode("utf-8", "replace")
        shown = [
            a
            if len(a) <= 80
            else a[:60] + f"...({len(a)} chars)".encode()
            if isinstance(a, bytes)
            else a[:60] + f"...({len(a)} chars)"
            for a in self.argv
        ]
        return (
            f"case {self.case.id}: {' '.join(map(repr, shown))}\n"
            f"exit {self.returncode}, peak RSS {self.rss_mb:.0f} MB, {self.seconds:.1f} s"
            f"{', TIMED OUT' if self.timed_out else ''}\nstderr:\n{err}\nstdout:\n{out}"
        )


# --- the runner -----------------------------------------------------------------------


class Baseline:
    """Start-up cost of `cnnrnn conv --example -f plain`: peak RSS (MB) and VmPeak (MB)."""

    rss_mb: float = 0.0
    vm_mb: float = 0.0

    @classmethod
    def measure(cls, env: dict) -> None:
        rss = []
        for _ in range(2):
            proc = subprocess.Popen(
                ["cnnrnn", "conv", "--example", "-f", "plain"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            _, _, usage = os.wait4(proc.pid, 0)
            proc.returncode = 0
            rss.append(usage.ru_maxrss / 1024)
        cls.rss_mb = max(rss)
        code = (
            "import sys\nfrom cnnrnn_cli.cli.main import main\n"
            "sys.argv = ['cnnrnn', 'conv', '--example', '-f', 'plain']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "peak = [l for l in open('/proc/self/status') if l.startswith('VmPeak')][0]\n"
            "sys.stderr.write(peak.split()[1])\n"
        )
        import sys

        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, env=env, timeout=TIMEOUT
        )
        cls.vm_mb = int(out.stderr.decode().strip().splitlines()[-1]) / 1024


def base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("_CNNRNN", "COLUMNS"))}
    env.update(
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        LC_ALL="C.UTF-8",
        PYTHONIOENCODING="utf-8",
        NO_COLOR="1",
        TERM="dumb",
        COLUMNS="100",
    )
    env.pop("PYTHONWARNINGS", None)
    return env


def _feed(pipe, source) -> None:
    """Write `source` (bytes, or a generator function of byte chunks) into a pipe."""
    try:
        if isinstance(source, (bytes, bytearray)):
            view = memoryview(source)
            for at in range(0, len(view), MB):
                pipe.write(view[at : at + MB])
        else:
            for chunk in source():
                pipe.write(chunk)
    except (BrokenPipeError, OSError, ValueError):
        pass
    finally:
        try:
            pipe.close()
        except OSError:
            pass


def run_case(case: Case, root: Path) -> Outcome:
    folder = root / case.id
    folder.mkdir(parents=True, exist_ok=True)
    if case.setup is not None:
        case.setup(folder)
    env = {**base_env(), **case.env}
    argv = ["cnnrnn", *case.argv]
    as_bytes = int((Baseline.vm_mb + case.as_mb) * MB)

    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (as_bytes, as_bytes))
        cpu = int(case.timeout) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        if case.fsize is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # write() fails with EFBIG
            resource.setrlimit(resource.RLIMIT_FSIZE, (case.fsize, case.fsize))
        if case.stdin == "closed":
            os.close(0)
        if case.stdout == "closed":
            os.close(1)
        if case.stderr == "closed":
            os.close(2)

    opened = []

    def open_file(path, mode):
        handle = open(path, mode)
        opened.append(handle)
        return handle

    raw_fds = []
    if case.stdin is None or case.stdin == "closed":
        stdin = subprocess.DEVNULL
    elif isinstance(case.stdin, str) and case.stdin.startswith("@"):
        stdin = open_file(folder / case.stdin[1:], "rb")
    elif case.stdin == "dir":
        stdin = os.open(folder, os.O_RDONLY)
        raw_fds.append(stdin)
    elif isinstance(case.stdin, str) and case.stdin.startswith("dev:"):
        stdin = open_file(case.stdin[4:], "rb")
    else:
        stdin = subprocess.PIPE
    out_path, err_path = folder / ".stdout", folder / ".stderr"
    stdout = {
        "file": None,
        "full": None,
        "closed": subprocess.DEVNULL,
        "readonly": None,
        "null": subprocess.DEVNULL,
        "head": subprocess.PIPE,
    }[case.stdout]
    if case.stdout == "file":
        stdout = open_file(out_path, "wb")
    elif case.stdout == "full":
        stdout = open_file("/dev/full", "wb")
    elif case.stdout == "readonly":
        out_path.write_bytes(b"")
        stdout = open_file(out_path, "rb")
    stderr = subprocess.DEVNULL if case.stderr == "closed" else open_file(err_path, "wb")

    start = time.monotonic()
    proc = subprocess.Popen(
        argv, stdin=stdin, stdout=stdout, stderr=stderr, cwd=folder, env=env, preexec_fn=limits
    )
    for handle in opened:
        handle.close()
    for fd in raw_fds:
        os.close(fd)
    threads = []
    if stdin is subprocess.PIPE:
        threads.append(threading.Thread(target=_feed, args=(proc.stdin, case.stdin), daemon=True))
    head = bytearray()
    if case.stdout == "head":

        def read_then_close():
            try:
                head.extend(proc.stdout.read(1))
            finally:
                proc.stdout.close()

        threads.append(threading.Thread(target=read_then_close, daemon=True))
    for thread in threads:
        thread.start()

    done = threading.Event()
    timed_out = []
    interrupted_at = []

    def kill():
        if not done.is_set():
            timed_out.append(True)
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def interrupt():
        if not done.is_set():
            interrupted_at.append(time.monotonic())
            try:
                os.kill(proc.pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def watch():
        ticks = os.sysconf("SC_CLK_TCK")
        history = []
        while not done.wait(1.0):
            elapsed = time.monotonic() - start
            try:
                with open(f"/proc/{proc.pid}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                cpu = (int(fields[11]) + int(fields[12])) / ticks
            except (OSError, IndexError, ValueError):
                return
            history.append((elapsed, cpu))
            before = [c for t, c in history if t <= elapsed - BLOCKED]
            if elapsed > case.timeout * WALL_FACTOR or (
                elapsed > case.timeout and before and cpu - before[-1] < 0.2
            ):
                kill()
                return

    timers = []
    threads.append(threading.Thread(target=watch, daemon=True))
    threads[-1].start()
    if case.sigint_on is not None:

        def interrupt_when_loaded():
            maps = f"/proc/{proc.pid}/maps"
            while not done.is_set():
                try:
                    with open(maps) as handle:
                        if case.sigint_on in handle.read():
                            break
                except OSError:
                    return
                time.sleep(0.0005)
            time.sleep(case.sigint_after or 0)
            interrupt()

        threads.append(threading.Thread(target=interrupt_when_loaded, daemon=True))
        threads[-1].start()
    elif case.sigint_after is not None:
        timers.append(threading.Timer(case.sigint_after, interrupt))
    for timer in timers:
        timer.daemon = True
        timer.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    seconds = time.monotonic() - start
    for timer in timers:
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for thread in threads:
        thread.join(timeout=10)
    if proc.stdin is not None:
        try:
            proc.stdin.close()
        except OSError:
            pass
    stdout_bytes = bytes(head)
    if case.stdout == "file":
        with open(out_path, "rb") as handle:
            stdout_bytes = handle.read(1 << 16)
    stderr_bytes = b"" if case.stderr == "closed" else err_path.read_bytes()
    return Outcome(
        case,
        argv,
        proc.returncode,
        stdout_bytes,
        stderr_bytes,
        usage.ru_maxrss / 1024,
        seconds,
        bool(timed_out),
        folder,
        interrupted_at[0] - start if interrupted_at else None,
        usage.ru_utime + usage.ru_stime,
    )


def verdict(outcome: Outcome) -> list[str]:
    """Every way the outcome breaks the contract (empty: it keeps it)."""
    case = outcome.case
    problems = []
    err = outcome.stderr.decode("utf-8", "replace")
    lines = [line for line in err.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    others = [line for line in lines if not line.startswith(("Error: ", "Warning: "))]
    if outcome.timed_out:
        problems.append(
            f"hung: no answer after {outcome.seconds:.0f} s, the last "
            f"{BLOCKED:.0f} without CPU (killed)"
        )
    if outcome.returncode == -signal.SIGXCPU:
        problems.append(f"more than {case.timeout:.0f} s of CPU (killed by RLIMIT_CPU)")
    for bad in BAD_IN_STDERR:
        if bad in err:
            problems.append(f"{bad!r} on stderr")
    for text in case.absent:
        if text in err:
            problems.append(f"stderr says {text!r}")
    rss_delta = outcome.rss_mb - Baseline.rss_mb
    if rss_delta > case.rss_mb:
        problems.append(
            f"peak RSS {outcome.rss_mb:.0f} MB is {rss_delta:.0f} MB over start-up "
            f"(allowed {case.rss_mb:.0f})"
        )
    expect = case.expect
    code = outcome.returncode
    check = case.check
    if expect == CLEAN:  # a check on the result applies only when there is one
        expect = ERROR if code == 2 else OK
        check = check if expect == OK else None
    if expect == ERROR:
        if code != 2:
            problems.append(f"exit {code}, expected 2")
        if len(errors) != 1:
            problems.append(f"{len(errors)} Error: lines, expected exactly one")
        if others:
            problems.append(f"stray stderr lines: {others[:3]!r}")
        for line in errors[:1]:
            for fragment in case.fragments:
                if fragment not in line:
                    problems.append(f"the Error line lacks {fragment!r}")
            if len(line) > case.max_error_len:
                problems.append(f"the Error line is {len(line)} characters long")
    elif expect == OK:
        if code != 0:
            problems.append(f"exit {code}, expected 0")
        if errors or others:
            problems.append("stderr holds more than warnings")
        if check is not None and not problems:
            try:
                check(outcome.folder, outcome.stdout, outcome.stderr)
            except AssertionError as exc:
                problems.append(f"wrong result: {exc}")
    elif expect == QUIET:
        if err.strip():
            problems.append("a closed pipe is not quiet")
        if code < 0 and code != -signal.SIGPIPE:
            problems.append(f"killed by signal {-code}")
    elif expect == INTERRUPTED:
        if code not in (130, -signal.SIGINT):
            problems.append(f"exit {code} after Ctrl-C, expected 130")
        if (
            outcome.interrupted_at is not None
            and code in (130, -signal.SIGINT)
            and outcome.seconds - outcome.interrupted_at > 5
        ):
            problems.append(f"Ctrl-C took {outcome.seconds - outcome.interrupted_at:.1f} s")
        if errors:
            problems.append("an Error: line after Ctrl-C")
    elif expect == SILENT_FAILURE:
        if code != 2:
            problems.append(f"exit {code}, expected 2")
    if check is not None and expect != OK and not problems:
        try:
            check(outcome.folder, outcome.stdout, outcome.stderr)
        except AssertionError as exc:
            problems.append(f"check failed: {exc}")
    return problems


# --- input makers ---------------------------------------------------------------------


_SHARED: dict[str, Path] = {}
_SHARED_LOCK = threading.Lock()
_SHARED_ROOT: list[Path] = []


def set_shared_root(path: Path) -> None:
    _SHARED_ROOT[:] = [path]


def npy_header(shape, dtype="<f8") -> bytes:
    """A version 1.0 .npy header for a C-ordered array of `shape`."""
    text = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {tuple(shape)!r}, }}"
    pad = 64 - (10 + len(text) + 1) % 64
    text = text + " " * pad + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text.encode("latin1")


def _deflate(header: bytes, zero_bytes: int, data: bytes = b"") -> tuple[bytes, int, int]:
    """Raw deflate of header + zeros + data, in chunks: (compressed, crc32, size)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [comp.compress(header)]
    crc = zlib.crc32(header)
    chunk = bytes(8 * MB)
    left = zero_bytes
    while left:
        piece = chunk if left >= len(chunk) else chunk[:left]
        parts.append(comp.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(comp.compress(data))
    crc = zlib.crc32(data, crc)
    parts.append(comp.flush())
    return b"".join(parts), crc, len(header) + zero_bytes + len(data)


def write_zip(path: Path, members) -> None:
    """A zip of (name, compressed, crc, size) deflated members, without zipfile's help."""
    local, central = [], []
    offset = 0
    for name, data, crc, size in members:
        raw = name.encode()
        head = (
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data), size, len(raw), 0
            )
            + raw
        )
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(raw),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw
        )
        local.append(head + data)
        offset += len(head) + len(data)
    directory = b"".join(central)
    end = struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), offset, 0
    )
    path.write_bytes(b"".join(local) + directory + end)


BOMB_NAMES = (
    "arr_0.npy",
    "xs.npy",
    "a0.npy",
    "w1.npy",
    "weight_ih.npy",
    "x.npy",
    "b1_w.npy",
    "wh.npy",
)


def _build(name: str, path: Path) -> None:
    if name == "bomb.npz":
        # One member's deflate stream, reused under every name a command might look for:
        # 2e8 float64 zeros (1.6 GB) behind a valid header, about 1.5 MB on disk.
        data, crc, size = _deflate(npy_header((20000, 10000)), 20000 * 10000 * 8)
        write_zip(path, [(member, data, crc, size) for member in BOMB_NAMES])
    elif name == "ones-2M.txt":
        with open(path, "wb") as handle:
            for _ in range(2):
                handle.write(b"1\n" * 1_000_000)
    elif name == "ones-20M.txt":
        with open(path, "wb") as handle:
            for _ in range(20):
                handle.write(b"1\n" * 1_000_000)
    elif name == "token-10MB.txt":
        with open(path, "wb") as handle:
            handle.write(b"1 2 ")
            for _ in range(10):
                handle.write(b"x" * MB)
            handle.write(b"\n3 4 5 6\n")
    elif name == "digits-10MB.txt":
        with open(path, "wb") as handle:
            for _ in range(10):
                handle.write(b"7" * MB)
            handle.write(b"\n")
    elif name == "random-1000.txt":
        rng = np.random.default_rng(0)
        np.savetxt(path, rng.standard_normal((1000, 1000)), fmt="%.17g")
    elif name == "spaces-100MB.txt":
        with open(path, "wb") as handle:
            for _ in range(100):
                handle.write(b" " * MB)
            handle.write(b"1 2\n3 4\n")
    elif name == "comment-100MB.txt":
        with open(path, "wb") as handle:
            handle.write(b"# ")
            for _ in range(100):
                handle.write(b"c" * MB)
            handle.write(b"\n1 2\n3 4\n")
    else:
        raise KeyError(name)


def shared(name: str) -> Path:
    """A big input file, made once per session (thread-safe)."""
    with _SHARED_LOCK:
        if name not in _SHARED:
            path = _SHARED_ROOT[0] / name
            _build(name, path)
            _SHARED[name] = path
        return _SHARED[name]


def link(name: str, as_name: str | None = None):
    """setup: a hard link to a shared big file in the case's folder."""

    def make(folder: Path) -> None:
        target = folder / (as_name or name)
        source = shared(name)
        try:
            os.link(source, target)
        except OSError:
            target.symlink_to(source)

    make.heavy = True
    return make


def weight(case: Case) -> float:
    """A guess at how long a case runs, to start the long ones first."""
    return (
        case.timeout
        + case.rss_mb
        + 100 * bool(getattr(case.setup, "heavy", False))
        + 50 * callable(case.stdin)
        + 20 * (case.sigint_after is not None)
    )


def files(**contents):
    """setup: files named by the keywords (`__` in a name is a dot), bytes or text."""

    def make(folder: Path) -> None:
        for key, value in contents.items():
            path = folder / key.replace("__", ".")
            if callable(value):
                value(path)
            elif isinstance(value, bytes):
                path.write_bytes(value)
            else:
                path.write_text(value, encoding="utf-8")

    return make


def chain(*steps):
    def make(folder: Path) -> None:
        for step in steps:
            step(folder)

    return make


def npy(array, **kwargs):
    def make(path: Path) -> None:
        with open(path, "wb") as handle:
            np.save(handle, array, **kwargs)

    return make


def npz(**arrays):
    def make(path: Path) -> None:
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)

    return make


def raw_zip(**members):
    """A zip whose members hold the given bytes (names: `__` is a dot)."""

    def make(path: Path) -> None:
        entries = []
        for key, value in members.items():
            data, crc, size = _deflate(value, 0)
            entries.append((key.replace("__", "."), data, crc, size))
        write_zip(path, entries)

    return make


HOLD = b"hold"  # a FIFO writer that writes nothing and keeps its end open


def fifo(name: str, payload: bytes | None):
    """setup: a FIFO with a writer thread that writes `payload` (None: opens, writes nothing;
    HOLD: writes nothing and holds the FIFO open until the case's timeout).

    The writer opens non-blocking in a loop, so it never hangs the suite when the command
    does not read: it gives up after the case's timeout.
    """

    def make(folder: Path) -> None:
        path = folder / name
        os.mkfifo(path)

        def writer():
            deadline = time.monotonic() + TIMEOUT * WALL_FACTOR + 5
            fd = None
            while time.monotonic() < deadline:
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
                    break
                except OSError:  # ENXIO: no reader yet
                    time.sleep(0.02)
            if fd is None:
                return
            os.set_blocking(fd, True)
            try:
                if payload is HOLD:
                    time.sleep(TIMEOUT)
                elif payload:
                    os.write(fd, payload)
            except OSError:
                pass
            finally:
                os.close(fd)

        threading.Thread(target=writer, daemon=True).start()

    return make


def symlink(name: str, target: str):
    def make(folder: Path) -> None:
        (folder / name).symlink_to(target)

    return make


def mkdir(name: str):
    def make(folder: Path) -> None:
        (folder / name).mkdir()

    return make


def forever(chunk: bytes, limit: int = 4 << 30):
    """A generator function: `chunk` again and again (stops at `limit` bytes)."""

    def generate():
        sent = 0
        while sent < limit:
            yield chunk
            sent += len(chunk)

    return generate


def urandom_forever(limit: int = 4 << 30):
    def generate():
        sent = 0
        block = os.urandom(MB)
        while sent < limit:
            yield block
            sent += len(block)
            block = block[1:] + block[:1]

    return generate


def then(prefix_gen, tail: bytes):
    def generate():
        yield from prefix_gen()
        yield tail

    return generate


# --- checks on results and files ------------------------------------------------------


def strict_json(folder, out, err):
    """The JSON output parses with NaN and Infinity refused."""
    import json

    def refuse(word):
        raise AssertionError(f"{word} in the JSON")

    json.loads(out.decode(), parse_constant=refuse)


def stdout_is(expected: str):
    def check(folder, out, err):
        assert out.decode() == expected, out[:200]

    return check


def file_unchanged(name: str, content: bytes):
    def check(folder, out, err):
        path = folder / name
        assert path.exists(), f"{name} is gone"
        assert path.read_bytes() == content, f"{name} was changed"

    return check


def no_file(name: str):
    def check(folder, out, err):
        assert not os.path.lexists(folder / name), f"{name} was written"

    return check


def svg_written(name: str):
    def check(folder, out, err):
        text = (folder / name).read_text()
        assert "<svg" in text and text.rstrip().endswith("</svg>"), text[:100]

    return check


def only_files(*names):
    """No temporary or stray file is left in the folder."""

    def check(folder, out, err):
        left = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".std"))
        assert left == sorted(names), left

    return check


def is_char_device(path: str):
    def check(folder, out, err):
        assert stat.S_ISCHR(os.stat(path).st_mode), f"{path} is no longer a device"

    return check


def all_of(*checks):
    def check(folder, out, err):
        for one in checks:
            one(folder, out, err)

    return check


def lacks(text: str):
    def check(folder, out, err):
        assert text not in out.decode("utf-8", "replace"), f"{text!r} in the output"

    return check


def still_symlink(name: str):
    def check(folder, out, err):
        assert (folder / name).is_symlink(), f"the symlink {name} was replaced"

    return check
