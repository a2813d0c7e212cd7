"""The CLI contract shared by every command: help, version, formats, svg, man pages,
completion, negative literals and the error edge."""

import filecmp
import os

import click
import pytest
from click.testing import CliRunner

from cnnrnn_cli.cli.main import COMMANDS, CnnrnnCommand, cli, protect_negative_literals
from conftest import assert_error
from manpages import ROOT, generate


def test_help_and_version(run):
    result = run("--help", fmt=None)
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout
    assert run("-h", fmt=None).stdout == result.stdout
    assert run("--version", fmt=None).stdout.startswith("cnnrnn, version ")
    for name in COMMANDS:
        sub = run(name, "--help", fmt=None)
        assert sub.exit_code == 0 and "--format" in sub.stdout and "--example" in sub.stdout


def test_bare_command_prints_the_help(run):
    result = run(fmt=None)
    assert result.exit_code == 0 and "Commands:" in result.stdout and result.stderr == ""


def test_unknown_command(run):
    assert_error(run("convolve", fmt=None), "no command 'convolve'", "did you mean 'conv'")
    assert_error(run("xyz", fmt=None), "No such command 'xyz'")


def test_man_pages_are_current(tmp_path):
    fresh = generate(tmp_path / "man")
    names = sorted(p.name for p in fresh)
    assert names == sorted(p.name for p in (ROOT / "man").glob("*.1")), (
        "man/ is stale: run python tests/manpages.py"
    )
    for path in fresh:
        assert filecmp.cmp(path, ROOT / "man" / path.name, shallow=False), (
            f"man/{path.name} is stale: run python tests/manpages.py"
        )


def test_svg_is_written_and_stdout_keeps_its_format(run, tmp_path):
    svg = tmp_path / "out.svg"
    result = run("outsize", "3", "-k", "2", "-p", "1", "--svg", str(svg))
    assert result.stdout == "4\n"
    text = svg.read_text()
    assert text.startswith("<svg") and "output" in text


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_has_an_example_in_every_format(run, name, tmp_path):
    svg = tmp_path / f"{name}.svg"
    for fmt in ("plain", "json", "csv", "latex"):
        result = run(name, "--example", "-f", fmt, fmt=None)
        assert result.exit_code == 0 and result.stdout.strip(), (name, fmt, result.stderr)
    rich = run(name, "--example", "--svg", str(svg), fmt="rich")
    assert rich.exit_code == 0 and svg.read_text().startswith("<svg")


def test_svg_to_an_unwritable_place(run):
    assert_error(run("outsize", "3", "-k", "2", "--svg", "/no/such/dir/x.svg"), "svg")


def test_no_color_and_NO_COLOR(run, monkeypatch):
    plain = run("outsize", "3", "-k", "2", "--no-color", fmt="rich").stdout
    assert "\x1b[" not in plain
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in run("outsize", "3", "-k", "2", fmt="rich").stdout


def test_default_format_is_plain_when_not_a_terminal():
    result = CliRunner().invoke(cli, ["outsize", "3", "-k", "2"])
    assert result.stdout == "2\n"


def test_shell_completion_lists_commands_and_options():
    runner = CliRunner()
    env = {"_CNNRNN_COMPLETE": "bash_complete", "COMP_WORDS": "cnnrnn out", "COMP_CWORD": "1"}
    result = runner.invoke(cli, [], env=env, prog_name="cnnrnn")
    assert "outsize" in result.stdout
    env = {
        "_CNNRNN_COMPLETE": "bash_complete",
        "COMP_WORDS": "cnnrnn outsize 3 --tra",
        "COMP_CWORD": "3",
    }
    assert "--transposed" in runner.invoke(cli, [], env=env, prog_name="cnnrnn").stdout
    script = runner.invoke(cli, [], env={"_CNNRNN_COMPLETE": "bash_source"}, prog_name="cnnrnn")
    assert "_CNNRNN_COMPLETE=bash_complete" in script.stdout


@pytest.mark.parametrize(
    "words, kind",
    [
        ("cnnrnn conv --svg ou", "file"),
        ("cnnrnn conv --animate ou", "file"),
        ("cnnrnn pool --frames ou", "dir"),
    ],
)
def test_shell_completion_completes_file_and_folder_names(words, kind):
    """The shell completes the names of the files and folders a command writes."""
    env = {"_CNNRNN_COMPLETE": "bash_complete", "COMP_WORDS": words, "COMP_CWORD": "3"}
    out = CliRunner().invoke(cli, [], env=env, prog_name="cnnrnn").stdout
    assert out.split() == [f"{kind},ou"]


def test_only_the_svg_must_be_writable_already(tmp_path, monkeypatch):
    """--animate and --frames replace a read-only file or fill a read-only-named folder
    through a new file and a rename, as before; --svg refuses one (os.access is faked:
    root may write anything)."""
    from cnnrnn_cli.cli.params import PathToWrite

    target = tmp_path / "ro.svg"
    target.write_text("old")
    monkeypatch.setattr("cnnrnn_cli.cli.params.os.access", lambda path, mode: False)
    assert PathToWrite().convert(str(target), None, None) == str(target)
    with pytest.raises(click.BadParameter, match="is not writable"):
        PathToWrite(writable=True).convert(str(target), None, None)
    with pytest.raises(click.BadParameter, match="is a directory"):
        PathToWrite().convert(str(tmp_path), None, None)
    with pytest.raises(click.BadParameter, match="is a file"):
        PathToWrite(folder=True).convert(str(target), None, None)


@click.command(cls=CnnrnnCommand)
@click.argument("image", required=False)
@click.option("-k", "--kernel")
@click.option("--flag", is_flag=True)
def probe(image, kernel, flag):
    click.echo(f"{image}|{kernel}|{flag}")


@pytest.mark.parametrize(
    "args, expected",
    [
        (["-1 2; 3 -4", "-k", "2"], "-1 2; 3 -4|2|False\n"),
        (["-k", "-1 0; 0 1", "5"], "5|-1 0; 0 1|False\n"),
        (["-k", "2", "−1 2"], "−1 2|2|False\n"),
        (["--flag", "-.5 1"], "-.5 1|None|True\n"),
        (["-k", "2", "--", "-3"], "-3|2|False\n"),
        (["-0.5"], "-0.5|None|False\n"),
    ],
)
def test_negative_literals_stand_as_positionals(args, expected):
    result = CliRunner().invoke(probe, args)
    assert result.exit_code == 0, result.output
    assert result.stdout == expected


def test_protect_leaves_ordinary_args_alone():
    ctx = click.Context(probe)
    args = ["img", "-k", "-3", "--flag"]
    assert protect_negative_literals(probe, ctx, args) == args


def test_keyboard_interrupt_exits_130(monkeypatch):
    from cnnrnn_cli.core import sizes

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sizes, "output_size", interrupted)
    result = CliRunner().invoke(cli, ["outsize", "3", "-k", "2"])
    assert result.exit_code == 130
    assert "Traceback" not in result.stderr


def test_python_dash_m_help():
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "cnnrnn_cli", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert out.returncode == 0 and "outsize" in out.stdout


def test_short_options_are_spelled_long_before_click_parses():
    from cnnrnn_cli.cli.main import spell_short_options

    command = cli.get_command(None, "conv")
    ctx = click.Context(command)
    args = ["-k", "-s", "-s", "2", "-f", "json", "--", "-p"]
    # A value that looks like an option stays a value; after `--` nothing changes.
    assert spell_short_options(command, ctx, args) == [
        "--kernel",
        "-s",
        "--stride",
        "2",
        "--format",
        "json",
        "--",
        "-p",
    ]


def test_a_command_with_short_options_imports_no_difflib():
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from cnnrnn_cli.entry import main\n"
        "sys.argv = ['cnnrnn', 'outsize', '224', '-k', '7', '-s', '2', '-p', '3', '-f', 'plain']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('difflib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.split() == ["112", "False"]
