"""Benchmark of `wattnet params diff --simulate` at its default size (the params file's own
``model.stations`` x ``model.horizon_days``): the model runs twice (current, proposed).

Usage: python bench/params_simulate.py [--params NETWORK] [--runs N]
Prints the size used and, last, ``params_simulate_s=<seconds>`` (best of 2).
"""

from __future__ import annotations

import argparse
import time

from wattnet.governance.changeset import parse_change_set, proposed
from wattnet.governance.simulate import SimSettings, compare
from wattnet.params import load_params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", default="local")
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    before = load_params(args.params)
    change = parse_change_set({"description": "bench", "changes": {
        "settlement.operator_share_bps": 7800}}, "bench")
    after, _ = proposed(change, before)
    settings = SimSettings(runs=args.runs).sized_for(before)
    print(f"size: {settings.runs} runs x {settings.stations:,} stations x {settings.days} days, "
          "current and proposed")
    best = float("inf")
    for _ in range(2):
        start = time.perf_counter()
        compare(before, after, settings)
        best = min(best, time.perf_counter() - start)
    print(f"params_simulate_s={best:.1f}")


if __name__ == "__main__":
    main()
