"""PNG plots of a model run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

# matplotlib caches its font list in MPLCONFIGDIR, by default under the home folder; keep it in
# the temporary directory unless the user chose a place.
os.environ.setdefault(
    "MPLCONFIGDIR", str(Path(tempfile.gettempdir()) / f"wattnet-matplotlib-{os.getuid()}")
)

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import NDArray

from wattnet.sim.model.metrics import bands, pct
from wattnet.sim.model.montecarlo import ModelRun
from wattnet.sim.model.state import DAYS_PER_EPOCH

log = logging.getLogger(__name__)


def _band(ax: Axes, x: NDArray[np.float64], series: NDArray[np.float64], label: str) -> None:
    lo, mid, hi = bands(series)
    line = ax.plot(x, mid, label=f"{label} (p50)")[0]
    ax.fill_between(x, lo, hi, alpha=0.2, color=line.get_color(), label=f"{label} (p5-p95)")


def plot_run(run: ModelRun, out: Path) -> list[Path]:
    """Write the standard figures of ``run`` into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    s = run.batch.series
    unit = 10.0**run.inputs.credit_decimals
    cur = run.inputs.credit_symbol
    x = (np.arange(run.inputs.epochs) + 1) * DAYS_PER_EPOCH / 365.0
    never = not np.isfinite(s["breakeven_price"]).any()  # under the fee bound: at no price
    figures: list[tuple[str, str, list[tuple[NDArray[np.float64], str]], bool]] = [
        (
            "price",
            f"WATT price vs self-charging break-even ({cur}/WATT)",
            [
                (s["price"] / unit, "price"),
                (s["breakeven_price"] / unit, "break-even (never pays)" if never else "break-even"),
            ],
            True,
        ),
        (
            "crossover",
            f"Treasury fee income vs value of emission ({cur} per epoch)",
            [
                (s["treasury_income"] / unit, "treasury fee income"),
                (s["emission"] * s["price"] / unit, "emission value"),
                (s["minted"] * s["price"] / unit, "minted value (fee-bounded)"),
                (s["fees"] / unit, "all fees"),
            ],
            True,
        ),
        ("treasury", f"Treasury ({cur})", [(s["treasury_credits"] / unit, "treasury")], False),
        ("stations", "Active stations", [(s["stations"], "stations")], False),
        (
            "supply",
            "WATT supply and burned",
            [(s["supply"], "supply"), (s["burned"], "burned"), (s["staked"], "staked")],
            False,
        ),
        (
            "fraud",
            "Share of epoch rewards paid for fraudulent energy",
            [(s["fraud_reward_share"], "fraud share")],
            False,
        ),
    ]
    paths: list[Path] = []
    for name, title, lines, log_y in figures:
        fig, ax = plt.subplots(figsize=(8, 4.2), dpi=90)
        for series, label in lines:
            _band(ax, x, np.where(np.isfinite(series), series, np.nan), label)
        ax.set_title(f"{title} - {run.scenario}")
        ax.set_xlabel("years")
        if log_y:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = out / f"{run.scenario}-{name}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=90)
    names = [r.name for r in run.inputs.cfg.regions]
    pb = np.array([pct(run.batch.payback_days[:, g])[1] for g in range(len(names))])
    never = ~np.isfinite(pb)
    bars = ax.bar(names, np.where(never, run.inputs.days, np.nan_to_num(pb)))
    for bar, hatch in zip(bars, never, strict=True):
        if hatch:
            bar.set_hatch("//")
            bar.set_alpha(0.4)
    ax.set_title(
        f"Median operator payback by region, days (hatched: not within horizon) - {run.scenario}",
        fontsize=9,
    )
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    path = out / f"{run.scenario}-payback.png"
    fig.savefig(path)
    plt.close(fig)
    paths.append(path)
    log.info("wrote %d plots to %s", len(paths), out)
    return paths
