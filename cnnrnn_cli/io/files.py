"""Files the tool writes (`--svg`; `--animate`, `--frames` and `gallery` alike): whole,
or not at all.

A file is written in full under a temporary name in its own folder and flushed to disk
(`stage`), then renamed over its target (`commit`) once the command has succeeded; a
failure before that (a full disk, Ctrl-C, an error found later) removes the temporary
file (`discard`) and leaves the old file as it was.

- A symlink is followed: its target is replaced, the link stays a link.
- A device or a FIFO (`/dev/null`, `/dev/stdout`, a named pipe) is written directly at
  commit, never renamed over: as root, a rename would replace `/dev/null` itself with a
  regular file.
- A regular file that is one of the command's inputs, or its standard output, is refused.
- `-` and an empty name are refused: `-` is not standard output here.

No Click here: errors are `InputError(source, ...)`, `source` being the option's name.
"""

from __future__ import annotations

import errno
import os
import re
import stat

from cnnrnn_cli.errors import InputError


def check_name(path: str, source: str) -> None:
    """Refuse the names that cannot be meant as a file to write."""
    if path == "":
        raise InputError(source, "the file name is empty; give a file name")
    if path == "-":
        raise InputError(
            source,
            "- would be a file named '-', not standard output; give a "
            "file name (./- for a file of that name)",
        )
    if "\x00" in path:
        raise InputError(source, "the file name holds a NUL character")


class PendingFile:
    """One file to write: `stage(data)`, then `commit()` or `discard()`.

    path:   the name as given (a new name, a regular file, a symlink, a device or FIFO).
    source: the option that names it, for the error messages (`svg`).
    inputs: the command's input paths (`-` for standard input), which it may not replace.
    """

    def __init__(self, path: str, source: str, *, inputs=()):
        check_name(path, source)
        self.path, self.source = path, source
        self._temp: str | None = None
        self._data: bytes | None = None
        try:
            self._old = os.stat(path)  # through any symlinks
        except FileNotFoundError:
            self._old = None
        except OSError as err:
            raise self._error(err) from None
        old = self._old
        if old is not None and stat.S_ISDIR(old.st_mode):
            raise InputError(source, f"{path} is a folder; give a file name")
        self.direct = old is not None and not stat.S_ISREG(old.st_mode)
        if self.direct:
            self.target = path
            self._is_stdout = _same_file(old, ()) is not None  # /dev/stdout on a pipe
            return
        self.target = os.path.realpath(path)
        if old is None:
            folder = os.path.dirname(self.target)
            if not os.path.isdir(folder):
                raise InputError(source, f"cannot write {path}: there is no folder {folder}")
            return
        # A regular file: is it the very file that realpath names (not so through a
        # /proc/self/fd link), and is it none of the command's inputs or its output?
        try:
            same = os.path.samestat(os.stat(self.target), old)
        except OSError:
            same = False
        if not same:
            raise InputError(source, f"cannot tell which file {path} is; give its own path")
        clash = _same_file(old, inputs)
        if clash is not None:
            raise InputError(
                source, f"{path} is {clash}; it would be overwritten; give another file name"
            )

    def stage(self, data: bytes) -> None:
        """Write `data` under a temporary name beside the target, and flush it to disk."""
        if self.direct:
            self._data = data
            return
        folder, name = os.path.split(self.target)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
        try:
            for _ in range(100):
                temp = os.path.join(folder, f".{name[:80]}.{os.urandom(4).hex()}.tmp")
                try:
                    fd = os.open(temp, flags, 0o666)  # the umask applies, as to any new file
                    break
                except FileExistsError:
                    continue
            else:  # pragma: no cover (100 random names all taken)
                raise FileExistsError(17, "no free temporary name")
            self._temp = temp
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            if self._old is not None:
                _copy_owner_and_mode(self._old, temp)
        except OSError as err:
            self.discard()
            raise self._error(err) from None
        except BaseException:
            self.discard()
            raise

    def commit(self) -> None:
        """Put the staged file in place (a device or FIFO is written now)."""
        try:
            if self.direct:
                _write_through(self.target, self._data or b"")
            else:
                if self._temp is None:
                    raise RuntimeError("commit() before stage()")
                os.replace(self._temp, self.target)
                self._temp = None
                _sync_folder(os.path.dirname(self.target))
        except OSError as err:
            self.discard()
            if self.direct and self._is_stdout and err.errno == errno.EPIPE:
                raise  # `--svg /dev/stdout | head`: a closed pipe, quiet as ever
            raise self._error(err) from None

    def discard(self) -> None:
        """Remove the temporary file, if any: the target is left as it was."""
        temp, self._temp = self._temp, None
        if temp is not None:
            try:
                os.unlink(temp)
            except OSError:
                pass

    def _error(self, err: OSError) -> InputError:
        return InputError(self.source, f"cannot write {self.path}: {err.strerror or err}")


def write_file(path: str, data: bytes, source: str, *, inputs=()) -> None:
    """Write one file at once, whole or not at all (see the module's docstring)."""
    pending = PendingFile(path, source, inputs=inputs)
    pending.stage(data)
    pending.commit()


def _same_file(st: os.stat_result, inputs) -> str | None:
    """How to name the input or output that `st` is, if it is one."""
    for given in inputs:
        try:
            other = os.fstat(0) if given == "-" else os.stat(given)
        except (OSError, ValueError):
            continue
        if os.path.samestat(st, other):
            return (
                "standard input, an input of this command"
                if given == "-"
                else f"an input of this command (@{given})"
            )
    try:
        if os.path.samestat(st, os.fstat(1)):
            return "the standard output's file"
    except OSError:
        pass
    return None


def _copy_owner_and_mode(old: os.stat_result, path: str) -> None:
    """The new file keeps the old one's permissions (and owner, where we may set it)."""
    try:
        os.chown(path, old.st_uid, old.st_gid)
    except OSError:
        pass
    os.chmod(path, stat.S_IMODE(old.st_mode))


def _write_through(path: str, data: bytes) -> None:
    """Write to a device or FIFO as it is: no temporary file, no truncation, no rename."""
    fd = os.open(path, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (where the file system allows)."""
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


FRAME_NAME = re.compile(r"frame-\d+\.svg\Z")


class PendingFolder:
    """A folder of frames (`--frames DIR`, `gallery DIR`): written whole beside DIR, then
    put in place.

    DIR may be new, empty, or hold only files of an earlier run (names matching `ours`,
    `frame-NNN.svg` by default), which the new ones replace; a folder that holds anything
    else is refused before any work.
    `stage(files)` writes {name: bytes} into a temporary folder beside DIR; `commit()`
    swaps it in (the old frames go only once the new ones are complete).
    """

    def __init__(self, path: str, source: str, *, ours=FRAME_NAME):
        check_name(path, source)
        self.path, self.source = path, source
        self.target = os.path.realpath(path)
        self._temp: str | None = None
        if os.path.lexists(path) and not os.path.isdir(path):
            raise InputError(source, f"{path} is not a folder; give a folder name")
        if os.path.isdir(path):
            try:
                others = [n for n in os.listdir(path) if not ours.match(n)]
            except OSError as err:
                raise self._error(err) from None
            if others:
                raise InputError(
                    source,
                    f"{path} holds other files ({others[0]}…); give a new or empty folder",
                )
        elif not os.path.isdir(os.path.dirname(self.target)):
            folder = os.path.dirname(self.target)
            raise InputError(source, f"cannot write {path}: there is no folder {folder}")
        else:  # a new name: one the folder cannot hold would fail only at the last rename
            parent, name = os.path.split(self.target)
            try:
                too_long = len(os.fsencode(name)) > os.pathconf(parent, "PC_NAME_MAX")
            except (OSError, ValueError):
                too_long = False  # no limit known: the rename will say
            if too_long:
                raise self._error(OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG)))

    def stage(self, files) -> None:
        """Write `files` ({name: bytes}, or (name, bytes) pairs made one at a time) into
        a temporary folder beside DIR."""
        import tempfile

        parent, name = os.path.split(self.target)
        pairs = files.items() if isinstance(files, dict) else files
        try:
            self._temp = tempfile.mkdtemp(prefix=f".{name[:80]}.", suffix=".tmp", dir=parent)
            for file_name, data in pairs:
                with open(os.path.join(self._temp, file_name), "wb") as fh:
                    fh.write(data)
        except OSError as err:
            self.discard()
            raise self._error(err) from None
        except BaseException:
            self.discard()
            raise

    def commit(self) -> None:
        """Swap the staged folder in: DIR's old frames are removed only after."""
        import shutil

        old = None
        try:
            if os.path.isdir(self.target):
                old = f"{self._temp}.old"
                os.rename(self.target, old)
            os.rename(self._temp, self.target)
            os.chmod(self.target, 0o777 & ~_umask())
            self._temp = None
        except OSError as err:
            if old is not None and not os.path.exists(self.target):
                os.rename(old, self.target)
                old = None
            self.discard()
            raise self._error(err) from None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def discard(self) -> None:
        import shutil

        temp, self._temp = self._temp, None
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)

    def _error(self, err: OSError) -> InputError:
        return InputError(self.source, f"cannot write {self.path}: {err.strerror or err}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
