"""One shape for every command: --example is an argv line, and what is given overrides it."""

import json
import shlex

import click
import pytest

from cnnrnn_cli.cli.command import ReportCommand
from cnnrnn_cli.cli.main import COMMANDS, cli
from conftest import assert_error

EXAMPLES = [name for name in COMMANDS if name != "tour"]


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_command_has_the_one_shape(name):
    command = cli.get_command(click.Context(cli), name)
    assert isinstance(command, ReportCommand) and command.example
    options = {p.name for p in command.params}
    assert {"fmt", "precision", "no_color", "svg", "only", "example"} <= options


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_example_line_is_the_example(run, name):
    command = cli.get_command(click.Context(cli), name)
    assert run(name, "--example").stdout == run(name, *shlex.split(command.example)).stdout


@pytest.mark.parametrize(
    "args, field, expected",
    [
        (["bptt", "--example", "--wh", "1.2"], "regime", "exploding"),
        (["bptt", "--example"], "regime", "vanishing"),
        (
            ["conv", "--example", "-k", "2"],
            None,
            [[2, 2, 2, 0, 0], [0, 2, 2, 2, 0], [0, 0, 2, 2, 2], [0, 0, 2, 2, 0], [0, 2, 2, 0, 0]],
        ),
        (["conv", "--example", "-s", "2"], None, [[4, 4], [2, 4]]),
        (["pool", "--example", "-s", "2"], None, [[4]]),
        (["outsize", "--example", "-p", "0"], "output", [2, 2]),
        (["inception", "--example", "--n1x1", "5"], "output_shape", [9, 5, 5]),
        (["inception", "--example", "--preset", "3a"], "output_shape", [256, 28, 28]),
    ],
)
def test_options_given_with_the_example_override_it(run_json, args, field, expected):
    doc = run_json(*args)
    assert (doc["result"] if field is None else doc["result"][field]) == expected


def test_a_sequence_replaces_the_example_input(run_json):
    doc = run_json("gru-step", "--example", "--xs", "1; 1")
    assert len(doc["result"]["h"]) == 2
    one = run_json("gru-step", "--example")
    assert doc["result"]["h"][0] == one["result"]["h"]


def test_random_replaces_the_example_arrays(run_json):
    doc = run_json("bptt", "--example", "--random", "5,2,3", "--seed", "0")
    assert doc["params"]["T"] == 5 and doc["params"]["H"] == 3


def test_an_overridden_example_is_checked_like_any_input(run):
    assert_error(run("resblock", "--example", "--a0", "1"), "w1", "a0 has 1 values")
    assert_error(run("conv", "--example", "--at", "9,9"), "at", "outside the 3×3 output")


def test_max_elements_given_with_the_example_holds(run):
    assert_error(run("conv", "--example", "--max-elements", "20"), "over --max-elements 20")


def test_json_of_the_example_names_the_command(run_json):
    for name in EXAMPLES:
        assert run_json(name, "--example")["command"] == name
    expected = "[[4.0, 3.0, 4.0], [2.0, 4.0, 3.0], [2.0, 3.0, 4.0]]"
    assert json.dumps(run_json("conv", "--example")["result"]) == expected


@pytest.mark.parametrize("typed, meant", [("cnv", "conv"), ("pol", "pool"), ("bpt", "bptt")])
def test_a_mistyped_command_gets_a_suggestion(run, typed, meant):
    assert_error(run(typed, fmt=None), f"no command '{typed}'", f"did you mean '{meant}'")


def test_pool_takes_kernel_like_conv_and_size_as_before(run):
    assert run("pool", "--example", "--kernel", "3", "-s", "1").stdout == "4\n"
    assert run("pool", "--example", "--size", "2").stdout == run("pool", "--example").stdout
