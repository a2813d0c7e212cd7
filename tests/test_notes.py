"""The lecture notes' own worked examples, reproduced exactly, LaTeX included."""

import re
from pathlib import Path

import pytest

NOTES = Path(__file__).resolve().parents[2] / "shared" / "notes" / "lecture-notes.md"


def notes_formulas() -> list[str]:
    if not NOTES.exists():
        pytest.skip("the shared lecture notes are not beside this checkout")
    return [m.strip() for m in re.findall(r"\$\$(.*?)\$\$", NOTES.read_text(), flags=re.S)]


CONV = (
    r"\begin{array}{|c|c|c|} \hline 1 & 0 & 1 \\ \hline 0 & 1 & 0 \\ \hline 1 & 0 & 1 \\ "
    r"\hline \end{array} \cdot \begin{array}{|c|c|c|c|c|} \hline 1 & 1 & 1 & 0 & 0 \\ "
    r"\hline 0 & 1 & 1 & 1 & 0 \\ \hline 0 & 0 & 1 & 1 & 1 \\ \hline 0 & 0 & 1 & 1 & 0 "
    r"\\ \hline 0 & 1 & 1 & 0 & 0 \\ \hline \end{array} \rightarrow "
    r"\begin{array}{|c|c|c|} \hline 4 & 3 & 4 \\ \hline 2 & 4 & 3 \\ \hline 2 & 3 & 4 "
    r"\\ \hline \end{array}"
)


def test_convolution_latex_is_the_notes_formula(run):
    out = run("conv", "--example", "-f", "latex", fmt=None).stdout
    assert f"$${CONV}$$" in out
    assert CONV in notes_formulas()


def test_pooling_latex_is_the_notes_formula(run):
    first = run("pool", "--example", "-f", "latex", fmt=None).stdout.split("\n")[0]
    assert first.strip("$") in notes_formulas()


def test_padding_example_latex_is_the_notes_formula(run):
    line = run("outsize", "3", "-k", "2", "-p", "1", "-f", "latex", fmt=None).stdout.strip()
    assert line.strip("$") in notes_formulas()
