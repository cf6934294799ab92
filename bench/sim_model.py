"""Benchmark of the token-economy model: station-days simulated per second.

Target: 10,000 stations x 3,650 days x 100 Monte Carlo runs in under 60 s on 2 cores, i.e.
``sim_station_days_per_s >= 60,000,000``. Every station keeps its own state (deployment epoch,
region, power class, operator, fraud flags, stake, cash, rewards); see docs/economics.md.
Usage: python bench/sim_model.py [--runs N] [--stations N] [--days N] [--params NETWORK]
"""

from __future__ import annotations

import argparse
import os

from rich.console import Console
from rich.table import Table

from wattnet.params import load_params
from wattnet.sim.model.metrics import conservation_ok
from wattnet.sim.model.montecarlo import run_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=3_650)
    parser.add_argument("--params", default="local")
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args()
    console = Console()
    params = load_params(args.params)
    # Timed from the user's point of view: worker start-up (spawn) and merging included.
    run = run_model(
        params,
        "baseline",
        runs=args.runs,
        seed=1,
        days=args.days,
        stations=args.stations,
        workers=args.workers,
    )
    rate = run.station_days / run.elapsed_s
    table = Table(title="wattnet sim model benchmark (baseline scenario)")
    for col in ("runs", "stations", "days", "workers", "wall s", "station-days/s", "conserved"):
        table.add_column(col, justify="right")
    table.add_row(
        str(run.runs),
        f"{run.inputs.stations:,}",
        f"{run.inputs.days:,}",
        str(args.workers or os.cpu_count()),
        f"{run.elapsed_s:.1f}",
        f"{rate:,.0f}",
        str(conservation_ok(run)),
    )
    console.print(table)
    console.out(f"sim_station_days_per_s={rate:.0f}", highlight=False)


if __name__ == "__main__":
    main()
