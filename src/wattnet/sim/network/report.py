"""The network run in the model's report format: a ``Summary`` whose rows carry the model's keys
where the quantity is the same (fees, utilization, stations, rewards' Gini and concentration,
WATT supply), computed from what happened on chain, plus rows only a real run has (sessions
settled, gas, throughput). One run: p5 = p50 = p95. Plots and ``report.html`` as the model's."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from wattnet.sim.model.metrics import Metric, RegionRow, Summary
from wattnet.sim.model.outcomes import gini_coefficient
from wattnet.sim.network.run import NetworkResult

WAD = 10**18


def summarize_network(r: NetworkResult) -> Summary:
    plan, act = r.plan, r.actual
    unit = 10**6
    sessions = plan.sessions
    energy_wh = sum(s.energy_wh for s in sessions)
    fees = sum(s.cost for s in sessions)
    op_fees = sum(act.get("operator owed", {}).values()) + sum(
        act.get("operator stablecoin", {}).values())
    rewards = np.array([v for v in act.get("operator WATT (rewards)", {}).values()],
                       dtype=np.float64)
    capacity_wh = sum(c.rated_power_w for c in plan.chargers) * plan.days * 24
    settled = sum(act.get("settled once", {}).values())
    rows: list[tuple[str, str, str, float]] = [
        ("sessions_settled", "sessions settled exactly once on chain", "sessions", settled),
        ("sessions_planned", "sessions driven over OCPP", "sessions", len(sessions)),
        ("energy_total", "energy delivered", "kWh", energy_wh / 1000),
        ("fees_total", "fees paid by drivers", "USDC", fees / unit),
        ("operator_fees", "operators' share of fees", "USDC", op_fees / unit),
        ("treasury_fees", "treasury's share of fees", "USDC",
         (fees - op_fees) / unit),
        ("utilization_final", "network utilization", "ratio",
         energy_wh / capacity_wh if capacity_wh else 0.0),
        ("stations_final", "active stations at the end", "stations", len(plan.chargers)),
        ("rewards_minted", "WATT claimed by operators", "WATT", float(rewards.sum()) / WAD),
        ("gini_rewards", "Gini of rewards across operators", "ratio",
         gini_coefficient(rewards)),
        ("top_operator_share", "largest operator's share of rewards", "ratio",
         float(rewards.max() / rewards.sum()) if rewards.size and rewards.sum() else 0.0),
        ("supply_final", "WATT supply at the end", "WATT", r.watt_supply / WAD),
        ("redeemed_total", "credits redeemed by drivers", "USDC",
         sum(act.get("driver stablecoin", {}).values()) / unit),
        ("escrow_final", "stablecoin held in escrow", "USDC",
         act.get("totals", {}).get("stablecoin in escrow", 0) / unit),
        ("gas_per_session", "settlement gas per session", "gas",
         r.gas_used / settled if settled else float("nan")),
        ("reverted_settlements", "settlement transactions that reverted", "txs",
         r.reverted_settlements),
        ("sessions_per_s", "sessions carried end to end per wall second", "sessions/s",
         len(sessions) / r.stats.wall_s if r.stats.wall_s else float("nan")),
        ("differences", "reconciliation differences", "entries", len(r.differences)),
    ]
    metrics = tuple(Metric(k, label, u, float(v), float(v), float(v)) for k, label, u, v in rows)
    per_region: dict[str, int] = defaultdict(int)
    fees_region: dict[str, int] = defaultdict(int)
    for c in plan.chargers:
        per_region[c.region] += 1
    for s in sessions:
        fees_region[plan.chargers[s.charger].region] += s.cost
    nan = float("nan")
    regions = tuple(RegionRow(g, n, nan, nan, nan, nan) for g, n in sorted(per_region.items()))
    return Summary(scenario="network", network=r.params.network, runs=1,
                   stations=len(plan.chargers), days=plan.days, seed=plan.seed, metrics=metrics,
                   regions=regions, conservation_ok=r.ok)


def plot_network(r: NetworkResult, out: Path) -> list[Path]:
    """Sessions per simulated hour, energy by region, fees and rewards by operator."""
    import matplotlib.pyplot as plt

    from wattnet.sim.model import plots  # noqa: F401  (sets the Agg backend and cache dir)

    out.mkdir(parents=True, exist_ok=True)
    plan = r.plan
    paths = []
    hours = np.array([(s.end - plan.t0) / 3600 for s in plan.sessions])
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=90)
    ax.hist(hours, bins=max(1, plan.days * 24), color="#4c72b0")
    ax.set_title("Sessions settled on chain, by simulated hour of their end")
    ax.set_xlabel("simulated hours")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    paths.append(out / "network-sessions.png")
    fig.savefig(paths[-1])
    plt.close(fig)

    energy: dict[str, float] = defaultdict(float)
    for s in plan.sessions:
        energy[plan.chargers[s.charger].region] += s.energy_wh / 1000
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=90)
    ax.bar(list(energy), list(energy.values()), color="#55a868")
    ax.set_title("Energy delivered by region (kWh)")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    paths.append(out / "network-energy.png")
    fig.savefig(paths[-1])
    plt.close(fig)

    owed = r.actual.get("operator owed", {})
    paid = r.actual.get("operator stablecoin", {})
    watt = r.actual.get("operator WATT (rewards)", {})
    ops = list(plan.operators)
    x = np.arange(len(ops))
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=90)
    ax.bar(x - 0.2, [(owed.get(o, 0) + paid.get(o, 0)) / 1e6 for o in ops], 0.4,
           label="fees earned (USDC)")
    ax2 = ax.twinx()
    ax2.bar(x + 0.2, [watt.get(o, 0) / WAD for o in ops], 0.4, color="#c44e52",
            label="WATT claimed")
    ax.set_title("Operators: fees earned and WATT claimed")
    ax.set_xlabel("operator")
    ax.legend(loc="upper left", fontsize=8)
    ax2.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    paths.append(out / "network-operators.png")
    fig.savefig(paths[-1])
    plt.close(fig)
    return paths
