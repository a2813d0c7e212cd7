"""--animate, --frames: the SVGs parse, hold nothing external, have one frame per output
cell (or --steps), and every number in every frame is the computed one."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import naive_conv2d

from cnnrnn_cli import api
from cnnrnn_cli.cli.main import cli
from cnnrnn_cli.explain import animate
from cnnrnn_cli.explain.common import num

NS = "{http://www.w3.org/2000/svg}"
NOTES = "1 1 1 0 0; 0 1 1 1 0; 0 0 1 1 1; 0 0 1 1 0; 0 1 1 0 0"


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def assert_self_contained(svg: str) -> None:
    for bad in ("<script", "href", "url(", "@import", "@font-face", "<image", "<foreignObject"):
        assert bad not in svg, bad
    assert re.findall(r"https?://[^\s\"']+", svg) == ["http://www.w3.org/2000/svg"]


def texts(root, cls: str) -> list[str]:
    return [t.text for t in root.iter(f"{NS}text") if cls in t.get("class", "").split()]


def sum_of(frame_root) -> str:
    return " ".join(line.strip() for line in texts(frame_root, "sum"))


def products(text: str) -> list[tuple[float, float]]:
    rhs = text.split(" = ", 1)[1]
    return [(float(a), float(b)) for a, b in re.findall(r"(-?[\d.e+-]+)·(-?[\d.e+-]+)", rhs)]


def window_cells(root, layout) -> set:
    """(channel, row, col) of the highlighted window cells in a still frame."""
    cells = set()
    for rect in root.iter(f"{NS}rect"):
        if rect.get("class") == "win":
            x, y = float(rect.get("x")), float(rect.get("y"))
            channel = max(n for n, x0 in enumerate(layout.input_x) if x0 <= x)
            col = round((x - layout.input_x[channel]) / animate.CELL)
            row = round((y - layout.input_y) / animate.CELL)
            cells.add((channel, row, col))
    return cells


def check_conv_frames(res, precision=4):
    """Every still frame of `res`: the window's cells and numbers, the value, the sum."""
    scene = animate.scene(res, precision)
    layout = animate._Layout(scene)
    out = res.output.reshape((-1,) + res.output.shape[-2:])
    assert len(scene.frames) == out.size
    for n, frame in enumerate(scene.frames):
        root = parse(animate.still(scene, n))
        k, i, j = frame.out
        line = sum_of(root)
        assert line.startswith("cell (")
        assert f": {num(out[k, i, j], precision)} = " in line
        weights, patch = res.window(k, i, j)
        pairs = products(line)
        assert [w for w, _ in pairs] == [float(num(w, precision)) for w in weights.reshape(-1)]
        assert [x for _, x in pairs] == [float(num(x, precision)) for x in patch.reshape(-1)]
        # The highlighted cells are the window's, on each channel the filter reads.
        chans = res.channels_of(k) if res.mode != "depthwise" else range(k, k + 1)
        (sh, sw), (dh, dw) = res.stride, res.dilation
        fh, fw = weights.shape[-2:]
        expected = {
            (c, i * sh + dh * u, j * sw + dw * v)
            for c in chans
            for u in range(fh)
            for v in range(fw)
        }
        assert window_cells(root, layout) == expected
        # Outputs filled so far: exactly frames 0..n, each with its value.
        assert texts(root, "ov") == [num(f.value, precision) for f in scene.frames[: n + 1]]


def test_notes_example_frames():
    image = np.array([[float(v) for v in row.split()] for row in NOTES.split(";")])
    kernel = np.array([[1.0, 0, 1], [0, 1, 0], [1, 0, 1]])
    res = api.conv2d(image, kernel)
    check_conv_frames(res)
    assert [f.value for f in animate.scene(res).frames] == [4, 3, 4, 2, 4, 3, 2, 3, 4]


@settings(max_examples=25, deadline=None)
@given(
    c=st.integers(1, 3),
    h=st.integers(3, 7),
    w=st.integers(3, 7),
    f=st.integers(1, 3),
    s=st.integers(1, 3),
    p=st.integers(0, 2),
    d=st.integers(1, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_random_conv_frames_hold_the_computed_numbers(c, h, w, f, s, p, d, seed):
    if d * (f - 1) + 1 > min(h, w) + 2 * p:
        return
    rng = np.random.default_rng(seed)
    image = rng.integers(-5, 6, (c, h, w)).astype(float)
    kernel = rng.integers(-2, 3, (c, f, f)).astype(float)
    res = api.conv2d(image, kernel, s, p, d)
    np.testing.assert_allclose(
        res.output, naive_conv2d(image, kernel[None], None, (s, s), ((p, p), (p, p)), (d, d))[0]
    )
    check_conv_frames(res)


def test_filters_and_groups_frames():
    rng = np.random.default_rng(1)
    image = rng.integers(-3, 4, (2, 4, 4)).astype(float)
    kernel = rng.integers(-2, 3, (3, 2, 2, 2)).astype(float)
    check_conv_frames(api.conv2d(image, kernel, 1, 0))


def test_pool_frames():
    x = np.array([[1.0, 5, 2, 0], [3, 4, 9, 1], [0, 8, 7, 6], [2, 2, 3, 1]])
    res = api.pool2d(x, 2, 2, 0, "max")
    scene = animate.scene(res)
    assert len(scene.frames) == 4
    for n, frame in enumerate(scene.frames):
        root = parse(animate.still(scene, n))
        line = sum_of(root)
        window = res.window(0, *frame.out[1:]).reshape(-1)
        assert f"max({', '.join(num(v, 4) for v in window)})" in line
        assert f": {num(window.max(), 4)} = " in line
        best = [r for r in root.iter(f"{NS}rect") if r.get("class") == "best"]
        assert len(best) == 1  # the winner is marked
    res = api.pool2d(x, 3, 1, 1, "avg")
    for frame in animate.scene(res).frames:
        divisor = float(re.search(r"\)/([\d.]+)$", frame.terms).group(1))
        values = [float(v) for v in re.findall(r"-?[\d.]+", frame.terms.split(")/")[0])]
        assert sum(values) / divisor == pytest.approx(frame.value)


def run(args, **kw):
    return CliRunner().invoke(cli, args, **kw)


def test_cli_animate_and_frames(tmp_path):
    movie, folder = tmp_path / "conv.svg", tmp_path / "frames"
    result = run(["conv", "--example", "--animate", str(movie), "--frames", str(folder)])
    assert result.exit_code == 0, result.output
    svg = movie.read_text()
    assert_self_contained(svg)
    root = parse(svg)
    assert len([g for g in root.iter(f"{NS}g") if g.get("class") == "f"]) == 9
    assert texts(root, "ov") == ["4", "3", "4", "2", "4", "3", "2", "3", "4"]
    names = sorted(p.name for p in folder.iterdir())
    assert names == [f"frame-{n:03d}.svg" for n in range(1, 10)]
    for name in names:
        assert_self_contained((folder / name).read_text())
    assert "\\animategraphics" in result.stderr and "frame-}{001}{009}" in result.stderr
    # A second run replaces the frames (a folder of frames only may be reused).
    result = run(["conv", "--example", "--frames", str(folder), "--steps", "2"])
    assert result.exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == ["frame-001.svg", "frame-002.svg"]


def test_explicit_steps_caps_frames_default_does_not(tmp_path):
    movie = tmp_path / "p.svg"
    assert run(["pool", "--example", "--animate", str(movie), "--steps", "3"]).exit_code == 0
    assert len([g for g in parse(movie.read_text()).iter(f"{NS}g") if g.get("class") == "f"]) == 3
    image = "; ".join(" ".join(str((r * 7 + c) % 5) for c in range(6)) for r in range(6))
    assert run(["conv", image, "-k", "1 0; 0 1", "--animate", str(movie)]).exit_code == 0
    root = parse(movie.read_text())
    assert len([g for g in root.iter(f"{NS}g") if g.get("class") == "f"]) == 25  # not 9


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--animate", ""], "animate"),
        (["--animate", "-"], "animate"),
        (["--fps", "0"], "fps"),
        (["--max-elements", "100", "--animate", "x.svg"], "animation"),
    ],
)
def test_bad_animation_options_are_one_error(tmp_path, extra, fragment):
    result = run(["conv", "--example", *extra])
    assert result.exit_code == 2
    assert result.output.startswith("Error:") and fragment in result.output


def test_frames_refuses_a_folder_with_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = run(["conv", "--example", "--frames", str(tmp_path)])
    assert result.exit_code == 2 and "other files" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_a_folder_name_too_long_is_refused_before_any_output(tmp_path):
    """The last rename would fail after the numbers were printed: refused first, as --svg
    refuses its file."""
    name = tmp_path / ("f" * 300)
    result = run(["conv", "--example", "-f", "plain", "--frames", str(name)])
    assert result.exit_code == 2 and result.stdout == ""
    assert "File name too long" in result.output and list(tmp_path.iterdir()) == []


def test_a_failed_command_leaves_no_picture(tmp_path):
    movie = tmp_path / "m.svg"
    result = run(["conv", "1 2; 3 4", "-k", "1 2 3; 4 5 6; 7 8 9", "--animate", str(movie)])
    assert result.exit_code == 2 and not movie.exists()


@settings(max_examples=20, deadline=None)
@given(
    h=st.integers(1, 4),
    f=st.integers(1, 3),
    s=st.integers(1, 3),
    p=st.integers(0, 2),
    d=st.integers(1, 2),
    k=st.integers(1, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_transposed_frames_stamp_the_computed_numbers(h, f, s, p, d, k, seed):
    from cnnrnn_cli.core.transposed import conv_transpose2d

    op = 1 if s > 1 else 0
    if (h - 1) * s - 2 * p + d * (f - 1) + op + 1 < 1 or op >= max(s, d):
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(-3, 4, (2, h, h)).astype(float)
    w = rng.integers(-2, 3, (2, k, f, f)).astype(float)
    res = conv_transpose2d(x, w, s, p, op, d)
    scene = animate.scene(res)
    assert len(scene.frames) == x.size  # one frame per input pixel
    final = {}
    for frame in scene.frames:
        c, i, j = frame.out
        assert frame.value == x[c, i, j]
        assert len(frame.stamp) == k * f * f  # its stamp: x·W on every output channel
        for kk, y, q, label, running in frame.stamp:
            u, v = divmod(y - i * s, d)[0], divmod(q - j * s, d)[0]
            assert label == f"+{num(x[c, i, j], 4)}·{num(w[c, kk, u, v], 4)}"
            final[kk, y, q] = running
    out = res.output.reshape(k, *res.output.shape[-2:])
    for (kk, y, q), value in final.items():
        if 0 <= y - p < out.shape[1] and 0 <= q - p < out.shape[2]:
            assert value == pytest.approx(out[kk, y - p, q - p])
    # The last still shows every cell's final sum; the SVGs parse.
    root = parse(animate.still(scene, len(scene.frames) - 1))
    assert len(texts(root, "ov")) == len(final)
    assert_self_contained(animate.animated(scene))


def test_a_failed_run_leaves_earlier_frames_and_pictures_as_they_were(tmp_path):
    folder, movie = tmp_path / "frames", tmp_path / "m.svg"
    assert (
        run(["conv", "--example", "--frames", str(folder), "--animate", str(movie)]).exit_code == 0
    )
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    old_movie = movie.read_bytes()
    # Refused by the budget after the folder and file were accepted: nothing changes.
    result = run(
        ["conv", "--example", "--frames", str(folder), "--animate", str(movie), "--steps", "2"]
        + ["--max-elements", "60"]
    )
    assert result.exit_code == 2
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert movie.read_bytes() == old_movie
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("frames", "m.svg")]
    assert leftovers == []  # no temporary file or folder left behind


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--animate", "a.svg", "--steps", "0"], "no frame"),
        (["--frames", "f", "--steps", "0"], "no frame"),
        (["--animate", "same", "--frames", "same"], "also the --animate file"),
        (["--svg", "same.svg", "--animate", "same.svg"], "also the --svg file"),
    ],
)
def test_refused_before_anything_is_written(tmp_path, monkeypatch, extra, fragment):
    monkeypatch.chdir(tmp_path)
    result = run(["conv", "--example", *extra])
    assert result.exit_code == 2 and fragment in result.output, result.output
    assert list(tmp_path.iterdir()) == []


def test_frames_are_budgeted_by_what_they_write(tmp_path):
    image = "; ".join(" ".join("1" for _ in range(60)) for _ in range(60))
    result = run(["conv", image, "-k", "1 1 1; 1 1 1; 1 1 1", "--frames", str(tmp_path / "f")])
    assert result.exit_code == 2 and "still frames" in result.output and "--steps" in result.output
    assert not (tmp_path / "f").exists()
    capped = ["--steps", "5", "--frames", str(tmp_path / "f")]
    assert run(["conv", image, "-k", "1 1 1; 1 1 1; 1 1 1", *capped]).exit_code == 0
    assert len(list((tmp_path / "f").iterdir())) == 5


def test_a_picture_not_named_svg_gets_a_warning(tmp_path):
    result = run(["conv", "--example", "--animate", str(tmp_path / "a.png")])
    assert result.exit_code == 0 and "Warning: --animate writes an SVG picture" in result.stderr
