"""End-of-run outcomes per run from the per-station state: payback and yield by region, the
distribution of rewards across operators (Gini, largest shares)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wattnet.sim.model.state import DAYS_PER_EPOCH, F64, I64, Inputs, Stations, region_counts

SERIES = (
    "price",
    "supply",
    "emission",
    "minted",
    "rewarded",
    "fees",
    "treasury_income",
    "treasury_credits",
    "stations",
    "capacity_kw",
    "utilization",
    "reward_per_kwh",
    "breakeven_price",
    "fraud_reward_share",
    "burned",
    "staked",
    "wash_active",
    "wash_pays",
    "breakeven_wash",  # per attack variant (attacks.VARIANTS), credit units per WATT
    "breakeven_fake",
    "breakeven_power",
    "attack_gain",  # credit units per epoch: the attackers' gain, cash cost, forfeits + slashes
    "attack_cost",
    "attack_loss",
    "cluster_votes",  # WATT the concentrating operator holds (votes), cumulative
    "quorum",  # WATT: governance.quorum_percent of the supply
    "kwh",  # energy served, kWh per epoch
)
LEDGER = ("minted", "emitted", "treasury", "pool", "operators", "staked", "watchers", "burned")
# the rest are uWATT: accrued at settlement (the fee-bounded shares), of which rewards were
# claimed (= minted), forfeited by findings or are still escrowed at the horizon; fraud_rewards
# is the part of the claimed rewards paid for fraudulent energy; withheld is the part of the
# weight shares the fee bound withheld (never minted); slashed is the stake findings took
FEES = (
    "fees",
    "operator_fees",
    "treasury_fees",
    "referrer_fees",
    "accrued",
    "rewards",
    "fraud_rewards",
    "forfeited",
    "escrowed",
    "withheld",
    "slashed",
)


@dataclass(frozen=True, slots=True)
class Batch:
    """Results of some runs: per-epoch series (runs, epochs), ledgers (runs,), per-station."""

    run_ids: list[int]
    series: dict[str, F64] = field(default_factory=dict)
    ledger: dict[str, I64] = field(default_factory=dict)
    fees: dict[str, I64] = field(default_factory=dict)
    payback_days: F64 = field(default_factory=lambda: np.zeros(0))  # (runs, G) median
    yield_: F64 = field(default_factory=lambda: np.zeros(0))  # (runs, G) annual cash/outlay
    gini: F64 = field(default_factory=lambda: np.zeros(0))  # (runs,)
    top_operator_share: F64 = field(default_factory=lambda: np.zeros(0))
    top_regional_share: F64 = field(default_factory=lambda: np.zeros(0))  # max over regions
    # per run (runs,) or per run and region (runs, G): honest_payback_days (median over the
    # stations that attack nobody and are not the cluster's), attackers (stations),
    # cluster_pnl (cash - outlay of the cluster's stations, credit units), region_kwh and
    # region_rewards (runs, epochs, G: kWh served, WATT accrued), region_cap_kwh (runs, G)
    extra: dict[str, F64] = field(default_factory=dict)


def gini_coefficient(x: NDArray[Any]) -> float:
    if x.size == 0 or x.sum() <= 0:
        return 0.0
    s = np.sort(x)
    n = s.size
    return float((2 * np.arange(1, n + 1) - n - 1).dot(s) / (n * s.sum()))


def finish(
    inp: Inputs,
    st: Stations,
    run_ids: list[int],
    ser: dict[str, F64],
    led: dict[str, I64],
    fees: dict[str, I64],
    rows: NDArray[np.int64],
    kwh_g: F64,
    rew_g: F64,
    cap_kwh_g: F64,
) -> Batch:
    n_r, n_g = len(run_ids), len(inp.cfg.regions)
    counts = region_counts(inp)
    payback = np.full((n_r, n_g), np.nan)
    yld = np.full((n_r, n_g), np.nan)
    deployed = st.deploy_epoch >= 0
    # Payback is measured on the stations deployed in the first half of the horizon, so each is
    # observed for at least half of it (late stations would count as "never" for lack of time).
    cohort = deployed & (st.deploy_epoch <= inp.epochs // 2)
    pb_days = np.where(
        st.payback_epoch >= 0, (st.payback_epoch - st.deploy_epoch + 1) * DAYS_PER_EPOCH, np.inf
    )
    life_years = np.where(deployed, (inp.epochs - st.deploy_epoch) * DAYS_PER_EPOCH / 365.0, 0.0)
    regional = np.zeros(n_r)
    lo = 0
    for g, c in enumerate(counts):
        sl = slice(lo, lo + c)
        lo += c
        for r in range(n_r):
            m = deployed[r, sl]
            if m.any():
                w = np.bincount(st.operator[r, sl][m], weights=st.rewards_u[r, sl][m].astype(float))
                if w.sum() > 0:
                    regional[r] = max(regional[r], w.max() / w.sum())
                if cohort[r, sl].any():
                    payback[r, g] = float(np.median(pb_days[r, sl][cohort[r, sl]]))
                denom = float((st.outlay[r, sl][m] * life_years[r, sl][m]).sum())
                yld[r, g] = float(st.cash[r, sl][m].sum()) / denom if denom > 0 else np.nan
    attackers = st.wash | st.inflated | st.fake | st.power | st.spoof | st.selfref
    cluster = st.operator == inp.cfg.operators
    honest = cohort & ~attackers & ~cluster
    extra = {
        "honest_payback_days": np.array(
            [float(np.median(pb_days[r][honest[r]])) if honest[r].any() else np.nan
             for r in range(n_r)]),
        "attackers": attackers.sum(axis=1).astype(np.float64),
        "cluster_pnl": np.where(cluster & deployed, st.cash - st.outlay, 0).sum(axis=1)
        .astype(np.float64),
        "region_kwh": kwh_g,  # (runs, epochs, G)
        "region_rewards": rew_g,  # (runs, epochs, G) WATT accrued at settlement
        "region_cap_kwh": cap_kwh_g,
    }
    gini = np.zeros(n_r)
    top = np.zeros(n_r)
    for r in rows:
        m = deployed[r]
        per_op = np.bincount(st.operator[r][m], weights=st.rewards_u[r][m].astype(np.float64))
        per_op = per_op[np.bincount(st.operator[r][m]) > 0]
        gini[r] = gini_coefficient(per_op)
        top[r] = per_op.max() / per_op.sum() if per_op.sum() > 0 else 0.0
    return Batch(
        run_ids=run_ids,
        series=ser,
        ledger=led,
        fees=fees,
        payback_days=payback,
        yield_=yld,
        gini=gini,
        top_operator_share=top,
        top_regional_share=regional,
        extra=extra,
    )
