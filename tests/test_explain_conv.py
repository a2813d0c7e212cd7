"""The rich views of conv and pool: every channel of a window, layouts that hold at 60 to 140
columns, one notation per grid column, highlights that survive without colour, only the
notes that apply; and their messages (-p -1, commas read as one long row, --only output)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console

from cnnrnn_cli.cli.main import cli
from cnnrnn_cli.explain.common import Equation, Fitted, Formula, grid
from conftest import assert_error

WIDTHS = (60, 80, 100, 140)
SOBEL = "1 0 -1; 2 0 -2; 1 0 -1"
TWO_CHANNELS = ("1 2; 3 4 | 5 6; 7 8", "-k", "1 0; 0 1 | 0 1; 1 0")


def rich(*args, width: int = 80, color: bool = False) -> str:
    """The rich view of `cnnrnn ARGS` at `width` columns (no colour unless asked)."""
    argv = [*args, "-f", "rich"] + ([] if color else ["--no-color"])
    env = {"COLUMNS": str(width), "LINES": "50"}
    result = CliRunner().invoke(cli, argv, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def grids_in(text: str) -> list[list[str]]:
    """The grids drawn in `text`, each as its lines from ┌ to └ (only the columns of the
    grid: a grid beside another is cut out by the column of its ┌)."""
    lines = text.splitlines()
    found = []
    for y, line in enumerate(lines):
        for x, char in enumerate(line):
            if char != "┌":
                continue
            end = line.index("┐", x) + 1
            box = []
            for row in lines[y:]:
                box.append(row[x:end])
                if row[x : x + 1] == "└":
                    break
            found.append(box)
    return found


def cells_of(box: list[str]) -> list[list[str]]:
    return [[c.strip() for c in row.strip("│").split("│")] for row in box if row.startswith("│")]


@pytest.fixture(scope="module")
def img200(tmp_path_factory):
    path = tmp_path_factory.mktemp("img") / "img200.npy"
    np.save(path, np.random.default_rng(0).integers(0, 10, (200, 200)).astype(float))
    return str(path)


# --- 1. every channel of a window -----------------------------------------------------------


def test_a_two_channel_window_is_lit_in_both_channels_beside_its_kernel_slices():
    out = rich("conv", *TWO_CHANNELS)
    window = out[out.index("Window by window") :]
    boxes = [cells_of(b) for b in grids_in(window)]
    # kernel [1], image [1] with its whole 2×2 window lit, kernel [2], image [2] lit
    assert boxes == [
        [["1", "0"], ["0", "1"]],
        [["[1]", "[2]"], ["[3]", "[4]"]],
        [["0", "1"], ["1", "0"]],
        [["[5]", "[6]"], ["[7]", "[8]"]],
    ]
    for title in ("kernel [1]", "image [1]", "kernel [2]", "image [2]"):
        assert title in window
    assert "18 = (1·1 + 0·2 + 0·3 + 1·4) + (0·5 + 1·6 + 1·7 + 0·8)" in window


def test_each_filter_draws_its_own_slices_and_the_padded_planes():
    kernel = "[[[[1,0],[0,1]],[[2,0],[0,2]]],[[[0,3],[3,0]],[[0,4],[4,0]]]]"
    out = rich("conv", "1 2; 3 4 | 5 6; 7 8", "-k", kernel, "-p", "1", "--at", "2,1,1")
    window = out[out.index("Window by window") :]
    assert "filter 2 [1]" in window and "filter 2 [2]" in window
    assert "padded [1]" in window and "padded [2]" in window
    boxes = [cells_of(b) for b in grids_in(window)]
    assert boxes[0] == [["0", "3"], ["3", "0"]] and boxes[2] == [["0", "4"], ["4", "0"]]
    lit = [[c for row in b for c in row if c.startswith("[")] for b in (boxes[1], boxes[3])]
    assert lit == [["[0]", "[0]", "[0]", "[1]"], ["[0]", "[0]", "[0]", "[5]"]]


def test_many_channels_draw_the_first_with_a_note_saying_which():
    image = " | ".join(f"{c} {c + 1}; {c + 2} {c + 3}" for c in range(6))
    kernel = " | ".join("1 0; 0 1" for _ in range(6))
    out = rich("conv", image, "-k", kernel)
    window = out[out.index("Window by window") :]
    assert "channel 1 of 6 drawn; the sum runs over all 6" in window
    assert "image [1]" in window and "image [2]" not in window
    assert window.count("(1·") == 6  # the sum still runs over all six


def test_depthwise_draws_the_one_channel_of_the_cell():
    out = rich("conv", *TWO_CHANNELS[:1], "-k", "1 0; 0 1", "--at", "2,1,1")
    window = out[out.index("Window by window") :]
    assert "image [2]" in window and "image [1]" not in window
    assert [cells_of(b) for b in grids_in(window)] == [[["[5]", "[6]"], ["[7]", "[8]"]]]


def test_pool_windows_are_drawn_in_their_own_channel():
    out = rich("pool", "1 2; 3 4 | 8 7; 6 5", "-k", "2", "--at", "2,1,1")
    window = out[out.index("Window by window") :]
    assert [cells_of(b) for b in grids_in(window)] == [[["«8»", "[7]"], ["[6]", "[5]"]]]


# --- 2. layout at 60, 80, 100, 140 columns -----------------------------------------------------

CASES = {
    "conv example": ("conv", "--example"),
    "conv sobel 200": ("conv", "@IMG", "-k", SOBEL, "--steps", "2"),
    "conv same 200": ("conv", "@IMG", "-k", SOBEL, "-p", "same", "-s", "2", "--steps", "2"),
    "conv channels": ("conv", *TWO_CHANNELS),
    "conv filters": ("conv", "1 2 3; 4 5 6; 7 8 9", "-k", "1 0; 0 1 | 2 2; 2 2 | 0 1; 1 0"),
    "conv wide numbers": (
        "conv",
        "123456.789 -0.000012345 3; 4 5 6; 7 8 9.87654321",
        "-k",
        "1.5 -2.25; 3.125 4",
        "--precision",
        "8",
    ),
    "pool example": ("pool", "--example"),
    "pool 200": ("pool", "@IMG", "-k", "3", "-s", "2", "-p", "1", "--steps", "2"),
    "pool grad": ("pool", "4 3 4; 2 4 3; 2 3 4", "-k", "2", "-s", "1", "--grad", "1 2; 3 4"),
    "pool channels": ("pool", "1 2 3; 4 5 6; 7 8 9 | 9 8 7; 6 5 4; 3 2 1", "--mode", "avg"),
}


def _case(name: str, img200: str) -> list[str]:
    return [arg.replace("@IMG", "@" + img200) for arg in CASES[name]]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(CASES))
def test_no_line_overflows_and_no_number_is_cut(name, width, img200):
    out = rich(*_case(name, img200), width=width)
    for line in out.splitlines():
        assert len(line.rstrip()) <= width, (width, line)
        assert not re.search(r"[0-9.]…|…[0-9]", line), line  # '…' never replaces a digit


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", list(CASES))
def test_operators_stay_beside_their_operands(name, width, img200):
    lines = rich(*_case(name, img200), width=width).splitlines()
    for n, line in enumerate(lines):
        text = line.rstrip()
        if re.fullmatch(r"\s*[·→]( .*→)?", text):  # an operator on its own line ...
            assert lines[n + 1].strip(), ("operator before a blank", width, text)  # ... above
            continue
        assert not re.search(r"(^|\s)[·→]$", text), ("dangling operator", width, text)
        # an operator between grids sits on a row of numbers of the grid after it
        for match in re.finditer(r"(?:^| )([·→]) (?=[│┌├└ ])", line):
            after = line[match.end() :]
            assert after.startswith("│"), ("operator beside no row", width, line)
    # nothing floats after a run of blank lines
    assert "\n\n\n" not in "\n".join(line.rstrip() for line in lines)


@pytest.mark.parametrize("width", WIDTHS)
def test_the_sobel_kernel_is_drawn_whole_beside_its_operator(width, img200):
    out = rich("conv", "@" + img200, "-k", SOBEL, "--steps", "1", width=width)
    boxes = [cells_of(b) for b in grids_in(out)]
    assert boxes[0] == [["1", "0", "-1"], ["2", "0", "-2"], ["1", "0", "-1"]]
    assert "·" in out and "→" in out
    # the output's first and last values are shown in full
    x = np.load(img200)
    first = sum(
        w * x[u, v] for (u, v), w in np.ndenumerate(np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]]))
    )
    assert boxes[2][0][0] == str(int(first))


def test_wrapped_lines_keep_their_indent():
    out = rich("conv", "--example", "-p", "same", "-s", "2", "--at", "1,1", width=60)
    lines = out.splitlines()
    start = next(n for n, line in enumerate(lines) if "padding 'same'" in line)
    assert lines[start].startswith("  padding 'same'")
    assert lines[start + 1].startswith("      ") and lines[start + 1].strip()
    cell = next(n for n, line in enumerate(lines) if line.startswith("cell (1,1): "))
    if len(lines[cell]) > 50:  # a long sum goes on, indented, starting with its operator
        assert lines[cell + 1].startswith("    ") and lines[cell + 1].strip()[0] in "+−="


def test_a_long_sum_breaks_before_an_operator_with_its_indent():
    console = Console(width=30, record=True, color_system=None)
    console.print(Formula(("cell (1,1): ", "bold"), "4 = 1·1 + 0·1 + 1·1 + 0·0 + 1·1 + 0·1"))
    lines = console.export_text().splitlines()
    assert lines == ["cell (1,1): 4 = 1·1 + 0·1", "    + 1·1 + 0·0 + 1·1 + 0·1"]


def test_an_equation_stacks_with_the_operator_before_its_operand():
    big = Fitted(np.arange(12.0).reshape(2, 6), 4, title="b")
    small = Fitted(np.eye(2), 4, title="a")
    console = Console(width=30, record=True, color_system=None)
    console.print(Equation([small], "·", [big]))
    lines = console.export_text().splitlines()
    assert lines[0].strip() == "a" and lines[6].strip() == "b"  # stacked: a, then · b
    operator = [n for n, line in enumerate(lines) if "·" in line]
    assert len(operator) == 1 and operator[0] in (8, 10)  # on a row of b's numbers
    assert lines[operator[0]].startswith("· │") and all(len(line) <= 30 for line in lines)
    wide = Console(width=80, record=True, color_system=None)
    wide.print(Equation([small], "·", [big]))
    assert len(wide.export_text().splitlines()) == 6  # side by side when it fits


# --- 3. one notation per grid column --------------------------------------------------------


def test_one_notation_per_grid_column():
    m = np.array([[562949953421312.0, 1.5, 1e-9], [5.629499534213125e14, 2.0, 0.5], [0, 3, 0]])
    rows = cells_of(grid(m, 4).plain.splitlines())
    columns = list(zip(*rows, strict=True))
    assert columns[0] == ("5.629e+14", "5.629e+14", "0")
    assert columns[1] == ("1.5", "2", "3")  # a fixed column stays fixed
    assert columns[2] == ("1e-09", "5e-01", "0")
    for column in columns:
        kinds = {"e" in c for c in column if c != "0"}
        assert len(kinds) == 1, column


def test_grid_columns_fit_the_width_and_keep_the_first_and_last():
    m = np.arange(40.0).reshape(2, 20) * 1000.25
    for width in (20, 40, 60):
        text = grid(m, 4, width=width).plain
        assert max(len(line) for line in text.splitlines()) <= width
        first = cells_of(text.splitlines())[0]
        assert first[0] == "0" and "⋯" in first
        assert width == 20 or first[-1] == "19004.75"
    assert "⋯" not in grid(m[:, :12], 4, width=200).plain  # 12 columns fit: all shown


# --- 4. text that does not apply is not printed -------------------------------------------------


def test_pool_notes_only_where_they_apply():
    plain = rich("pool", "1 2 3; 4 5 6; 7 8 9", "-k", "2", "-s", "1")
    assert "padding holds" not in plain and "tie" not in plain
    padded = rich("pool", "1 2 3; 4 5 6; 7 8 9", "-k", "2", "-s", "1", "-p", "1")
    assert "padding holds −∞, never 0" in padded
    minimum = rich("pool", "1 2 3; 4 5 6; 7 8 9", "-k", "2", "--mode", "min", "-p", "1")
    assert "padding holds +∞, never 0" in minimum
    tie = rich("pool", "--example", "--steps", "0")  # window (1,2) holds two 4s
    assert "a tie goes to the first in row-major order" in tie
    avg = rich("pool", "1 2 3 4; 5 6 7 8", "-k", "2", "--mode", "avg")
    assert "divisor" not in avg and "padding" not in avg
    ceil = rich("pool", "1 2 3; 4 5 6; 7 8 9", "-k", "2", "--mode", "avg", "--ceil")
    assert "divisor: the window clipped to the padded edge" in ceil
    counted = rich("pool", "1 2 3; 4 5 6; 7 8 9", "-k", "2", "--mode", "avg", "-p", "1", "-s", "1")
    assert "the padding holds 0 and counts in the divisor 2·2" in counted
    excluded = rich(
        "pool", "1 2; 3 4", "-k", "2", "-s", "1", "--mode", "avg", "-p", "1",
        "--no-count-include-pad",
    )  # fmt: skip
    assert "divisor: the window clipped to the padded edge, counting image pixels only" in excluded


def test_pool_latex_notes_follow_the_same_facts():
    def latex(*args):
        return CliRunner().invoke(cli, [*args, "-f", "latex"], catch_exceptions=False).stdout

    assert "padding holds" not in latex("pool", "1 2 3; 4 5 6; 7 8 9", "-k", "2")
    assert "The padding holds $-\\infty$" in latex("pool", "1 2 3; 4 5 6; 7 8 9", "-p", "1")
    assert "divisor" not in latex("pool", "1 2 3 4; 5 6 7 8", "--mode", "avg")


def test_pool_at_help_speaks_of_windows_not_filters():
    result = CliRunner().invoke(cli, ["pool", "--help"], env={"COLUMNS": "200"})
    at = next(line for line in result.stdout.splitlines() if "--at" in line)
    assert "filter" not in at and "window" in at


# --- 5. messages ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["conv", "pool", "outsize"])
@pytest.mark.parametrize("padding", ["-1", "-1x2", "2x-3"])
def test_a_negative_padding_must_be_0_or_more(command, padding):
    args = {"conv": ["1 2; 3 4", "-k", "1"], "pool": ["1 2; 3 4"], "outsize": ["5", "-k", "3"]}
    result = CliRunner().invoke(cli, [command, *args[command], "-p", padding])
    assert_error(result, "padding", "must be 0 or more")


def test_a_padding_that_is_no_number_lists_the_words():
    result = CliRunner().invoke(cli, ["conv", "1 2; 3 4", "-k", "1", "-p", "sam"])
    assert_error(result, "same, valid, full")


def test_commas_as_row_separators_fail_with_a_hint():
    result = CliRunner().invoke(cli, ["conv", "1 2 3, 4 5 6, 7 8 9", "-k", "1 0; 0 1"])
    assert_error(result, "exceeds the padded input", "one row of 9 values", "';' or newlines")
    result = CliRunner().invoke(cli, ["conv", "1 2 3; 4 5 6; 7 8 9", "-k", "1 0, 0 1"])
    assert_error(result, "the kernel was read as one row of 4 values")
    result = CliRunner().invoke(cli, ["pool", "1 2 3, 4 5 6, 7 8 9"])
    assert_error(result, "the input was read as one row of 9 values")
    result = CliRunner().invoke(cli, ["conv", "1 2 3 4 5 6 7 8 9", "-k", "1 0; 0 1"])
    assert_error(result, "the image was read as one row of 9 values")


def test_commas_as_row_separators_that_compute_warn():
    result = CliRunner().invoke(cli, ["conv", "1 2 3, 4 5 6", "-k", "1 1", "-f", "plain"])
    assert result.exit_code == 0 and result.stdout == "3 5 7 9 11\n"
    assert result.stderr.startswith("Warning: the image was read as one row of 6 values")
    result = CliRunner().invoke(cli, ["pool", "1 2 3, 4 5 6, 7 8 9", "-k", "1"])
    assert "Warning: the input was read as one row of 9 values" in result.stderr


@pytest.mark.parametrize(
    "image, kernel",
    [("1 2 3", "1 1"), ("1, 2, 3", "1 1"), ("[1, 2, 3, 4]", "1 1"), ("1 2 3 4", "1, 1")],
)
def test_valid_one_row_inputs_are_left_alone(image, kernel):
    result = CliRunner().invoke(cli, ["conv", image, "-k", kernel, "-f", "plain"])
    assert result.exit_code == 0 and result.stderr == ""


@pytest.mark.parametrize("command", [["conv", "--example"], ["pool", "--example"]])
def test_only_output_is_the_result(command):
    def run(*extra):
        result = CliRunner().invoke(cli, [*command, *extra], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        return result.stdout

    assert run("--only", "output") == run("--only", "result") == run("-f", "plain")
    assert run("--only", "output", "-f", "json") == run("--only", "result", "-f", "json")


# --- 7. highlights without colour --------------------------------------------------------------


def test_every_window_keeps_its_brackets_without_colour():
    out = rich("conv", "--example")
    boxes = grids_in(out[out.index("Window by window") :])
    assert len(boxes) == 9 and len({"\n".join(b) for b in boxes}) == 9
    for n, box in enumerate(boxes):
        lit = [(i, j) for i, row in enumerate(cells_of(box)) for j, c in enumerate(row) if "[" in c]
        r, c = divmod(n, 3)
        assert lit == [(r + u, c + v) for u in range(3) for v in range(3)]


def test_pool_winners_and_windows_keep_their_marks_without_colour():
    out = rich("pool", "--example")
    boxes = [cells_of(b) for b in grids_in(out[out.index("Window by window") :])]
    assert len(boxes) == 4
    for box in boxes:
        marks = [c for row in box for c in row if c[0] in "[«"]
        assert len(marks) == 4 and sum(c.startswith("«") for c in marks) == 1
        assert "«4»" in marks  # the winner, the first 4 in row-major order


def test_colour_lights_cells_instead_of_bracketing_them():
    console = Console(width=80, record=True, color_system="truecolor", force_terminal=True)
    styles = {(0, 0): "bold black on yellow"}
    console.print(Fitted(np.eye(2), 4, styles=styles))
    assert "\x1b[" in console.export_text(styles=True, clear=False)
    assert "[1]" not in console.export_text()
    marked = grid(np.eye(2), 4, styles=styles, marks=True).plain
    assert "[1]" in marked


def test_a_padded_window_says_it_is_drawn_in_the_padded_image():
    out = rich("conv", "1 2; 3 4", "-k", "1 1; 1 1", "-p", "1", "--at", "1,1")
    window = out[out.index("Window by window") :]
    assert "padded image" in window
    assert cells_of(grids_in(window)[0])[0] == ["[0]", "[0]", "0", "0"]
    assert "padded" not in rich("conv", "--example", "--at", "1,1").split("Window by window")[1]


def test_a_grouped_window_is_drawn_in_its_groups_channels():
    from cnnrnn_cli.core.conv import conv2d
    from cnnrnn_cli.explain import conv as explain
    from cnnrnn_cli.explain.style import Style

    x = np.arange(36.0).reshape(4, 3, 3)
    res = conv2d(x, np.arange(32.0).reshape(4, 2, 2, 2), groups=2)
    console = Console(width=80, record=True, color_system=None)
    console.print(explain.rich(res, Style(color=False, at=(2, 0, 0))))
    out = console.export_text()
    assert "2 groups: filters 1–2 see channels 1–2, filters 3–4 see channels 3–4" in out
    window = out[out.index("Window by window") :]
    assert "image [3]" in window and "image [4]" in window and "image [1]" not in window
    boxes = [cells_of(b) for b in grids_in(window)]
    assert boxes[0] == [["16", "17"], ["18", "19"]] and boxes[1][0] == ["[18]", "[19]", "20"]
    assert "3908 = (16·18 + 17·19 + 18·21 + 19·22) + (20·27 + 21·28 + 22·30" in window
