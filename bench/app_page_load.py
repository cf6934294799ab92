"""Web app page load: the stations page (the largest: figures, list, map) in headless Debian
chromium, from navigation until its chain data is on the page (``body[data-ready]``), against
`wattnet app` on a local anvil with the protocol deployed and stations registered (the browser
tests' network, tests/web/stack.py), or with ``--demo`` on the demo network (``wattnet sim
network --serve-app`` with the demo's 20 chargers, 100 drivers, 3 oracle nodes: the app served
beside its gateways, oracle nodes and chargers on call). Each load is a fresh browser context
(cold cache).

    python bench/app_page_load.py [--loads 10] [--demo]

Prints one line per load, then exactly ``app_page_load_ms=<median>`` and
``app_page_load_max_ms=<max>``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from collections.abc import Iterator  # noqa: E402

from wattnet.sim.network.node import stop_process  # noqa: E402

# the browser tests' network (a file of tests/, loaded by path: `tests` is no installed package)
_spec = importlib.util.spec_from_file_location("web_stack", ROOT / "tests" / "web" / "stack.py")
assert _spec is not None and _spec.loader is not None
stack = importlib.util.module_from_spec(_spec)
sys.modules["web_stack"] = stack  # dataclasses look their module up while the class is made
_spec.loader.exec_module(stack)


DEMO = {"chargers": 20, "drivers": 100, "seed": 1}  # as `make demo`


@contextlib.contextmanager
def served(tmp: Path, demo: bool) -> Iterator[str]:
    """The app's URL: on the demo network, or on the browser tests' two-station network."""
    if demo:
        with stack.serve_demo(tmp, within_s=1_800, **DEMO) as (url, _rpc):
            yield url
        return
    anvil, net = stack.start_network(tmp)
    proc = None
    try:
        proc, url = stack.start_app(net, tmp)
        yield url
    finally:
        stop_process(proc)
        anvil.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loads", type=int, default=10)
    ap.add_argument("--demo", action="store_true",
                    help="on the demo network (20 chargers, 100 drivers, 3 oracle nodes)")
    args = ap.parse_args()
    exe = shutil.which("chromium")
    if exe is None:
        print("error: no system chromium: apt-get install -y chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    times = []
    with tempfile.TemporaryDirectory() as tmp, served(Path(tmp), args.demo) as url, \
            sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        for i in range(args.loads):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(url)
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            ms = (time.perf_counter() - t0) * 1000
            rows = page.locator("#stations tbody tr").count()
            context.close()
            times.append(ms)
            print(f"load {i + 1}: {ms:.0f} ms ({rows} stations listed)")
        browser.close()
    print(f"app_page_load_ms={statistics.median(times):.0f}")
    print(f"app_page_load_max_ms={max(times):.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
