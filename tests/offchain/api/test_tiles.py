"""``wattnet app --tile-url``: the template is checked before anything starts, a bad one is one
line on stderr (exit 2), a good one is what /api/config hands the browser."""

from __future__ import annotations

import subprocess
import sys

import pytest

from wattnet.api.tiles import Tiles
from wattnet.errors import ConfigError


def test_tiles__a_template_with_z_x_y_and_its_attribution() -> None:
    t = Tiles.parse("https://tile.example.org/{z}/{x}/{y}.png", "© Example contributors")
    assert t == Tiles("https://tile.example.org/{z}/{x}/{y}.png", "© Example contributors")
    assert Tiles.parse("http://127.0.0.1:8000/{z}/{x}/{y}.png").attribution == "Tiles: 127.0.0.1"


@pytest.mark.parametrize(("url", "says"), [
    ("tile.example.org/{z}/{x}/{y}.png", "give an http(s) URL template"),
    ("file:///tiles/{z}/{x}/{y}.png", "give an http(s) URL template"),
    ("https://tile.example.org/{z}/{x}.png", "lacks {y}"),
    ("https://tile.example.org/tile.png", "lacks {z}, {x}, {y}"),
])
def test_tiles__a_bad_template_says_what_it_needs(url: str, says: str) -> None:
    with pytest.raises(ConfigError, match=f"--tile-url .*{says}".replace("{", r"\{").replace(
            "}", r"\}").replace("(", r"\(").replace(")", r"\)")):
        Tiles.parse(url)


def test_wattnet_app__a_bad_tile_url_exits_2_with_one_line() -> None:
    proc = subprocess.run([sys.executable, "-m", "wattnet.cli.main", "app", "--tile-url",
                           "https://tile.example.org/tile.png"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: --tile-url 'https://tile.example.org/tile.png' lacks")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
