"""PNG plots of a model run (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

import logging
import math
import os
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

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

from wattnet.sim.model.metrics import Summary, pct
from wattnet.sim.model.montecarlo import ModelRun
from wattnet.sim.model.state import DAYS_PER_EPOCH

log = logging.getLogger(__name__)


def _band(ax: Axes, x: NDArray[np.float64], series: NDArray[np.float64], label: str,
          color: str) -> None:
    if not np.isfinite(series).any():
        ax.plot([], [], color=color, label=label)  # in the legend: e.g. "(never pays)"
        return
    if series.shape[0] == 1:  # one run: its values, no band
        ax.plot(x, series[0], color=color, label=label)
        return
    with warnings.catch_warnings():  # epochs where no run has a finite value stay blank
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, mid, hi = np.nanpercentile(series, (5, 50, 95), axis=0)
    ax.plot(x, mid, color=color, label=f"{label} (p50)")
    ax.fill_between(x, lo, hi, alpha=0.2, color=color, label=f"{label} (p5-p95)")


Lines = list[tuple[NDArray[np.float64], str]]
ZERO_COST = ("inflating meters, location spoofing and self-referral cost nothing per kWh: "
             "no break-even price, only findings (or nothing) stop them")


def _figures(run: ModelRun) -> list[tuple[str, str, Lines, bool]]:
    s = run.batch.series
    unit = 10.0**run.inputs.credit_decimals
    cur = run.inputs.credit_symbol

    def be(key: str, name: str) -> tuple[NDArray[np.float64], str]:
        never = not np.isfinite(s[key]).any()  # under the fee bound: at no price
        return s[key] / unit, f"break-even, {name}" + (" (never pays)" if never else "")

    return [
        (
            "price",
            f"WATT price vs self-charging break-even ({cur}/WATT)",
            [(s["price"] / unit, "price"), be("breakeven_wash", "self-charging")],
            True,
        ),
        (
            "breakeven",
            f"Break-even WATT price of each attack variant vs the price ({cur}/WATT)",
            [
                (s["price"] / unit, "price"),
                be("breakeven_wash", "self-charging"),
                be("breakeven_fake", "fake sessions"),
                be("breakeven_power", "declared power"),
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
        (
            "attack",
            f"Attackers' cumulative P&L ({cur})",
            [(np.cumsum(s["attack_gain"] - s["attack_cost"] - s["attack_loss"], axis=1) / unit,
              "attackers' P&L")],
            False,
        ),
        (
            "votes",
            "Cluster's votes vs quorum (WATT)",
            [(s["cluster_votes"], "cluster's votes"), (s["quorum"], "quorum")],
            False,
        ),
    ]


def _shocks(ax: Axes, run: ModelRun) -> None:
    """Shade the demand-shock window, mark the price-shock day (in years)."""
    shk = run.inputs.cfg.shocks
    if shk["demand_shock_days"] > 0 and shk["demand_shock_factor_bps"] != 10_000:
        lo = shk["demand_shock_start_day"] / 365
        ax.axvspan(lo, lo + shk["demand_shock_days"] / 365, color="red", alpha=0.1,
                   label="demand shock")
    if shk["price_crash_factor_bps"] != 10_000:
        ax.axvline(shk["price_crash_day"] / 365, color="red", ls=":", label="price shock")


def plot_run(run: ModelRun, out: Path, baseline: ModelRun | None = None) -> list[Path]:
    """Write the standard figures of ``run`` into ``out``, each with the baseline's median as a
    dashed line (when given and not the run itself) and the shock window marked."""
    out.mkdir(parents=True, exist_ok=True)
    x = (np.arange(run.inputs.epochs) + 1) * DAYS_PER_EPOCH / 365.0
    base = _figures(baseline) if baseline is not None and baseline is not run else None
    paths: list[Path] = []
    for i, (name, title, lines, log_y) in enumerate(_figures(run)):
        if name == "votes" and not lines[0][0].any():
            continue  # no cluster in this scenario
        fig, ax = plt.subplots(figsize=(8, 4.2), dpi=90)
        for j, (series, label) in enumerate(lines):
            color = f"C{j}"
            _band(ax, x, np.where(np.isfinite(series), series, np.nan), label, color)
            if base is not None:
                b = base[i][2][j][0]
                if b.shape[1] == x.size and np.isfinite(b).any():
                    ax.plot(x, np.median(np.where(np.isfinite(b), b, np.nan), axis=0),
                            ls="--", lw=1, color=color, label=f"{label}, baseline (p50)")
        _shocks(ax, run)
        ax.set_title(f"{title} - {run.scenario}", fontsize=9)
        ax.set_xlabel("years")
        if name == "breakeven":
            fig.text(0.01, 0.005, ZERO_COST, fontsize=6, va="bottom")
        if log_y:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="best")
        fig.tight_layout(rect=(0, 0.03, 1, 1))
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


def moving_metrics(rows: Sequence[tuple[dict[str, Any], Summary]]) -> list[str]:
    """Keys of the metrics whose median differs between sweep points (finite or not)."""
    keys = [m.key for m in rows[0][1].metrics]
    out = []
    for k in keys:
        v = [s.metric(k).p50 for _, s in rows]
        finite = [x for x in v if math.isfinite(x)]
        scale = max((abs(x) for x in finite), default=0.0)
        spread = max(finite) - min(finite) if finite else 0.0
        if spread > 1e-9 * max(scale, 1e-300) or 0 < len(finite) < len(v):
            out.append(k)
    return out


def plot_sweep(rows: Sequence[tuple[dict[str, Any], Summary]], out: Path,
               per_page: int = 12) -> list[Path]:
    """Small multiples of every metric that moves with the swept keys (p50 and p5-p95 over the
    runs at each point), ``per_page`` to a PNG."""
    out.mkdir(parents=True, exist_ok=True)
    keys = moving_metrics(rows)
    axes_keys = list(rows[0][0])
    values = [p[axes_keys[0]] for p, _ in rows]
    numeric = len(axes_keys) == 1 and all(isinstance(v, int | float) for v in values)
    x = np.array(values, dtype=np.float64) if numeric else np.arange(len(rows), dtype=np.float64)
    order = np.argsort(x)
    paths: list[Path] = []
    for page in range(0, len(keys), per_page):
        chunk = keys[page : page + per_page]
        cols = 3
        fig, grid = plt.subplots(math.ceil(len(chunk) / cols), cols, squeeze=False,
                                 figsize=(11, 2.6 * math.ceil(len(chunk) / cols)), dpi=80)
        for ax, key in zip(grid.ravel(), chunk, strict=False):
            m = [s.metric(key) for _, s in rows]
            mid = np.array([q.p50 for q in m])[order]
            lo, hi = np.array([q.p5 for q in m])[order], np.array([q.p95 for q in m])[order]
            fin = np.isfinite(mid)
            ax.plot(x[order][fin], mid[fin], marker="o")
            band = fin & np.isfinite(lo) & np.isfinite(hi)
            ax.fill_between(x[order][band], lo[band], hi[band], alpha=0.2)
            ax.set_title(f"{m[0].label} ({m[0].unit})", fontsize=7)
            ax.tick_params(labelsize=6)
            if not numeric:
                ax.set_xticks(x, [",".join(str(v) for v in p.values()) for p, _ in rows],
                              rotation=30, fontsize=5)
        for ax in grid.ravel()[len(chunk):]:
            ax.set_visible(False)
        fig.suptitle(f"metrics that move with {', '.join(axes_keys)}", fontsize=9)
        fig.tight_layout()
        path = out / f"sweep-{page // per_page + 1}.png"
        fig.savefig(path)
        plt.close(fig)
        paths.append(path)
    return paths
