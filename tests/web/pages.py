"""Page helpers for the browser tests: screenshots at the widths people use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

SHOTS = Path(__file__).resolve().parents[2] / "out" / "web"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def screenshot(page: Any, name: str) -> None:
    """The page at desktop and phone widths, into out/web/ (the test output); at each width
    nothing may stick out sideways (no horizontal scrolling on a phone)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= size["width"], f"{name} at {label} width is {wide} px wide"
    page.set_viewport_size(VIEWPORTS["desktop"])
