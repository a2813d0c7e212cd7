"""`cnnrnn gallery`: conv_arithmetic's configurations, each one a real command line."""

from __future__ import annotations

import json
import re
import shlex
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from cnnrnn_cli.cli.gallery import PICTURES
from cnnrnn_cli.cli.main import cli

# conv_arithmetic's sizes (input, kernel, stride, padding → output), from its README.
ARITHMETIC = {
    "no_padding_no_strides": (4, 2),
    "arbitrary_padding_no_strides": (5, 6),
    "same_padding_no_strides": (5, 5),
    "full_padding_no_strides": (5, 7),
    "no_padding_strides": (5, 2),
    "padding_strides": (5, 3),
    "padding_strides_odd": (6, 3),
    "dilation": (7, 3),
    "no_padding_no_strides_transposed": (2, 4),
    "arbitrary_padding_no_strides_transposed": (6, 5),
    "same_padding_no_strides_transposed": (5, 5),
    "full_padding_no_strides_transposed": (7, 5),
    "no_padding_strides_transposed": (2, 5),
    "padding_strides_transposed": (3, 5),
    "padding_strides_odd_transposed": (3, 6),
}


class Sources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.scripts = [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        if tag == "script":
            self.scripts += 1


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_listing_has_conv_arithmetic_sizes():
    entries = json.loads(run("gallery", "-f", "json"))["result"]
    assert len(entries) >= 15
    sizes = {e["file"][:-4]: (e["input"][0], e["output"][0]) for e in entries}
    for stem, expected in ARITHMETIC.items():
        assert sizes[stem] == expected, stem
    strided = next(e for e in entries if e["file"] == "padding_strides.svg")
    assert strided["formula"] == "(5 + 2·1 − 3)/2 + 1 = 3"
    odd = next(e for e in entries if e["file"] == "padding_strides_odd.svg")
    assert odd["formula"] == "⌊(6 + 2·1 − 3)/2⌋ + 1 = ⌊2.5⌋ + 1 = 3"
    assert {e["kind"] for e in entries} == {
        "convolution",
        "transposed convolution",
        "pooling",
    }


@pytest.mark.parametrize("stem, what, line", PICTURES, ids=[p[0] for p in PICTURES])
def test_each_listed_command_draws_its_picture(tmp_path, stem, what, line):
    movie = tmp_path / f"{stem}.svg"
    argv = shlex.split(line)
    result = CliRunner().invoke(cli, [*argv, "--animate", str(movie), "-f", "json"])
    assert result.exit_code == 0, result.output
    root = ET.fromstring(movie.read_text())
    frames = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("class") == "f"]
    data = json.loads(result.output)["result"]
    cells = len(re.findall(r"-?\d+(?:\.\d+)?", json.dumps(data)))
    image = argv[1]
    pixels = len(image.replace(";", " ").split())
    assert len(frames) == (pixels if "--transposed" in argv else cells)


def test_folder_holds_index_and_every_picture(tmp_path):
    folder = tmp_path / "gallery"
    run("gallery", str(folder), "--fps", "2")
    parser = Sources()
    parser.feed((folder / "index.html").read_text())
    assert parser.scripts == 0
    assert len(parser.images) == len(PICTURES) >= 15
    for name in parser.images:
        assert (folder / name).is_file(), name
        svg = (folder / name).read_text()
        ET.fromstring(svg)
        assert "<script" not in svg and "href" not in svg
    assert sorted(p.name for p in folder.iterdir()) == sorted(parser.images + ["index.html"])
    # A second run may replace its own gallery; a folder with other files is refused.
    run("gallery", str(folder))
    (folder / "mine.txt").write_text("keep")
    result = CliRunner().invoke(cli, ["gallery", str(folder)])
    assert result.exit_code == 2 and "other files" in result.output
    assert (folder / "mine.txt").read_text() == "keep"


def test_listing_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run("gallery", "-f", "rich")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "folder, fragment",
    [("", "empty"), ("/dev/null", "not a folder"), ("/no/such/place/g", "no folder")],
)
def test_a_folder_it_cannot_use_is_one_error(folder, fragment):
    result = CliRunner().invoke(cli, ["gallery", folder])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error:") and fragment in result.output
    assert result.output.count("\n") == 1
