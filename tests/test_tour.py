"""tour: every section of the notes, in order, through the real commands."""

import json

from cnnrnn_cli.cli.tour import SECTIONS


def test_tour_runs_every_section_in_the_notes_order(run):
    out = run("tour", "--no-color", fmt="rich").stdout
    positions = [
        out.index(title)
        for title in (
            "Convolution",
            "Max pooling",
            "Output size with padding",
            "Inception module",
            "Skip connection in ResNet",
            "Recurrent neural networks",
            "Gated recurrent unit",
        )
    ]
    assert positions == sorted(positions)
    for command in (
        "$ cnnrnn conv --example",
        "$ cnnrnn pool --example",
        "$ cnnrnn outsize 3 -k 2 -p 1",
        "$ cnnrnn inception --preset 3a",
        "$ cnnrnn resblock --example",
        "$ cnnrnn bptt --example --lr 0.1",
        "$ cnnrnn gru-step --example",
    ):
        assert command in out, command
    assert "a 4×4 output for a 3×3 input" in out
    assert "vanishing gradient" in out and "exploding gradient" in out


def test_tour_section_and_formats(run):
    doc = json.loads(run("tour", "--section", "padding", "-f", "json", fmt=None).stdout)
    assert doc["result"]["padding"]["result"]["output"] == 4
    assert run("tour", "--section", "pool").stdout == "4 4\n4 4\n"
    latex = run("tour", "-f", "latex", fmt=None).stdout
    assert latex.count("\\section*{") == len(SECTIONS)
    assert "\\texttt{cnnrnn conv --example --steps 3}" in latex
    assert "·" not in latex.split("$$")[0]  # prose symbols are turned into LaTeX math


def test_tour_svg(run, tmp_path):
    svg = tmp_path / "tour.svg"
    run("tour", "--section", "gru", "--svg", str(svg))
    assert svg.read_text().startswith("<svg")
