"""A real browser plays the pictures: headless Chromium opens the gallery's index.html
and an animated SVG, and screenshots taken at two moments are neither blank nor alike.

Needs Debian's `chromium` (`.ci/run` tries `apt-get install -y chromium` when none is
found); skipped, with the reason, only when no browser could be had. Locally:
`sudo apt-get install chromium && python -m pytest tests/test_browser.py`.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from cnnrnn_cli.cli.main import cli

BROWSER = next(
    (
        path
        for name in ("chromium", "chromium-browser", "google-chrome")
        if (path := shutil.which(name))
    ),
    None,
)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no Chromium here (apt-get install chromium): cannot play the SVGs"
)


def screenshot(page: Path, png: Path, at_ms: int, size="900,700") -> bytes:
    """The page after `at_ms` of (virtual) time, as PNG bytes."""
    subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--virtual-time-budget={at_ms}",
            f"--window-size={size}",
            f"--screenshot={png}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return png.read_bytes()


def pixels(png: bytes) -> bytes:
    """The raw scanlines of a PNG (filter bytes and all): enough to tell blank from not."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    at, data = 8, b""
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        if kind == b"IDAT":
            data += png[at + 8 : at + 8 + length]
        at += 12 + length
    return zlib.decompress(data)


def assert_plays(page: Path, folder: Path) -> None:
    """Shots at 0.2 s and 2.7 s (frame 6 at 2 frames a second) are not blank and differ.
    A loaded machine may start the clock late: one more shot, later, before failing."""
    early = pixels(screenshot(page, folder / "a.png", 200))
    later = [pixels(screenshot(page, folder / "b.png", 2700))]
    if later[0] == early:
        later.append(pixels(screenshot(page, folder / "c.png", 3700)))
    for raw in (early, later[-1]):
        assert len(set(raw)) > 8, "a blank screenshot"
    assert later[-1] != early, "the picture did not move"


def test_the_notes_example_plays(tmp_path):
    movie = tmp_path / "conv.svg"
    result = CliRunner().invoke(cli, ["conv", "--example", "--animate", str(movie), "--fps", "2"])
    assert result.exit_code == 0, result.output
    assert_plays(movie, tmp_path)


def test_the_gallery_page_plays(tmp_path):
    folder = tmp_path / "gallery"
    result = CliRunner().invoke(cli, ["gallery", str(folder), "--fps", "2"])
    assert result.exit_code == 0, result.output
    assert_plays(folder / "index.html", tmp_path)
