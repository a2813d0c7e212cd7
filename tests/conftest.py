import json
import os
import sys
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnrnn_cli.cli.main import cli

# Subprocess tests run `cnnrnn` from the environment running the tests, activated or not.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")


def stable_seed(*parts, modulo: int = 1000) -> int:
    """A seed from the test's parameters that is the same in every run (hash() is not)."""
    return zlib.crc32(repr(parts).encode()) % modulo


@pytest.fixture
def run():
    """Invoke `cnnrnn ARGS...` in-process; returns the Click Result (stdout, stderr apart)."""

    def invoke(*args, input=None, fmt="plain"):
        argv = list(args)
        if fmt and "-f" not in argv and "--format" not in argv:
            argv += ["-f", fmt]
        return CliRunner().invoke(cli, argv, input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def run_json(run):
    def invoke(*args, input=None):
        result = run(*args, "-f", "json", input=input, fmt=None)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    return invoke


def assert_error(result, *fragments):
    """Exit 2, exactly one `Error:` line on stderr containing every fragment, no traceback."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in errors[0], (fragment, errors[0])
