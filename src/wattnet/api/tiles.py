"""Map tiles for the web app (``wattnet app --tile-url``): a ``{z}/{x}/{y}`` URL template and
its attribution, handed to the browser in ``/api/config``. Without one the app draws its bundled
outline map and fetches nothing from elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from wattnet.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Tiles:
    url: str
    attribution: str

    @classmethod
    def parse(cls, url: str, attribution: str | None = None) -> Tiles:
        """Checked: http(s), with the {z}, {x} and {y} placeholders Leaflet fills in; the
        attribution defaults to the tile server's host (set the one its terms ask for)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"--tile-url {url!r}: give an http(s) URL template, e.g. "
                              "https://tile.example.org/{z}/{x}/{y}.png")
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in url]
        if missing:
            raise ConfigError(f"--tile-url {url!r} lacks {', '.join(missing)}: the template "
                              "needs {z}, {x} and {y}")
        return cls(url, attribution if attribution is not None else f"Tiles: {parts.hostname}")
