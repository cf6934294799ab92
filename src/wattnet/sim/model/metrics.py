"""What a designer asks of a model run, as percentiles over the Monte Carlo runs.

Money is reported in whole units of credit id 1 (e.g. USDC), tokens in WATT, times in days.
``inf`` means "not within the horizon" (never paid back, never crossed, never ran out).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from wattnet.sim.model.attacks import VARIANTS
from wattnet.sim.model.montecarlo import ModelRun
from wattnet.sim.model.outcomes import Batch
from wattnet.sim.model.state import DAYS_PER_EPOCH

PCTS = (5, 50, 95)


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    label: str
    unit: str
    p5: float
    p50: float
    p95: float


@dataclass(frozen=True, slots=True)
class RegionRow:
    region: str
    stations: int  # slots
    payback_days_p50: float
    payback_days_p5: float
    payback_days_p95: float
    yield_p50: float  # annual operator cash / outlay
    multiplier_bps: int = 10_000  # registry.region_multipliers for its geohash
    utilization_p50: float = float("nan")  # energy served / (capacity x horizon)
    reward_per_kwh_p50: float = float("nan")  # WATT accrued per kWh served (fee-bounded)
    # its WATT per kWh over the network's in the same epochs (kWh-weighted): 1 = average
    relative_reward_p50: float = float("nan")


@dataclass(frozen=True, slots=True)
class Summary:
    scenario: str
    network: str
    runs: int
    stations: int
    days: int
    seed: int
    metrics: tuple[Metric, ...]
    regions: tuple[RegionRow, ...]
    conservation_ok: bool

    def metric(self, key: str) -> Metric:
        return next(m for m in self.metrics if m.key == key)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _jsonable(asdict(self))
        return out


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not np.isfinite(x):
        return None if np.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def pct(values: NDArray[Any]) -> tuple[float, float, float]:
    """5th/50th/95th percentiles without interpolating across inf; nan if no finite value."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if v.size == 0:
        nan = float("nan")
        return nan, nan, nan
    p5, p50, p95 = (float(np.percentile(v, p, method="nearest")) for p in PCTS)
    return p5, p50, p95


def bands(series: NDArray[Any]) -> NDArray[np.float64]:
    """(3, epochs) percentile bands of a (runs, epochs) series."""
    return np.asarray(np.percentile(series, PCTS, axis=0), dtype=np.float64)


def first_epoch(mask: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Per run, the day at the end of the first epoch where ``mask`` holds, else inf."""
    hit = mask.any(axis=1)
    idx = mask.argmax(axis=1)
    return np.where(hit, (idx + 1) * DAYS_PER_EPOCH, np.inf).astype(np.float64)


def conservation_ok(run: ModelRun) -> bool:
    led, fees = run.batch.ledger, run.batch.fees
    held = sum(led[k] for k in ("treasury", "pool", "operators", "staked", "watchers", "burned"))
    tokens = np.array_equal(run.inputs.genesis_u + led["minted"], held)
    # only rewards claimed are minted, never more than the schedule; every accrued uWATT is
    # claimed, forfeited or still in escrow; the fee bound's withheld part (and rounding dust)
    # stays unminted
    accrued = np.array_equal(
        fees["accrued"], fees["rewards"] + fees["forfeited"] + fees["escrowed"]
    )
    minted = (
        accrued
        and np.array_equal(led["minted"], fees["rewards"])
        and bool((fees["accrued"] + fees["withheld"] <= led["emitted"]).all())
        and bool((fees["fraud_rewards"] <= fees["rewards"]).all())
    )
    split = np.array_equal(
        fees["fees"], fees["operator_fees"] + fees["treasury_fees"] + fees["referrer_fees"]
    )
    return bool(tokens and minted and split)


def summarize(run: ModelRun) -> Summary:
    b: Batch = run.batch
    s = b.series
    unit = 10.0**run.inputs.credit_decimals
    cur, per_watt = run.inputs.credit_symbol, f"{run.inputs.credit_symbol}/WATT"
    years = [y for y in (1, 3, 5, 10) if y * 365 <= run.inputs.days]
    emission_value = s["emission"] * s["price"]  # credits per epoch
    crossover = first_epoch(s["treasury_income"] >= emission_value)
    depleted = first_epoch(s["treasury_credits"] < 0)
    income_rate = s["treasury_income"][:, -13:].mean(axis=1) / DAYS_PER_EPOCH
    opex = run.inputs.cfg.treasury["opex_per_day"]
    burn = np.maximum(opex - income_rate, 0.0)
    final = s["treasury_credits"][:, -1]
    runway_end = np.where(burn > 0, np.maximum(final, 0) / np.where(burn > 0, burn, 1), np.inf)
    fraud_share = np.divide(
        b.fees["fraud_rewards"].astype(np.float64),
        b.fees["rewards"].astype(np.float64),
        out=np.zeros(len(b.run_ids)),
        where=b.fees["rewards"] > 0,
    )
    # the fee bound makes the profitable prices a window (break-even .. where the bound binds
    # again), so the dynamics record whether it pays rather than price > break-even
    wash_pays = s["wash_pays"].mean(axis=1)
    accrued = b.fees["accrued"].astype(np.float64)
    forfeited = np.divide(
        b.fees["forfeited"], accrued, out=np.zeros_like(accrued), where=accrued > 0
    )
    emitted = b.ledger["emitted"].astype(np.float64)
    withheld = np.divide(
        b.fees["withheld"], emitted, out=np.zeros_like(emitted), where=emitted > 0
    )
    rows: list[Metric] = []

    def add(key: str, label: str, unit_: str, values: NDArray[Any]) -> None:
        rows.append(Metric(key, label, unit_, *pct(values)))

    add("price_final", "WATT price at the end", per_watt, s["price"][:, -1] / unit)
    for y in years:
        e = y * 365 // DAYS_PER_EPOCH - 1
        add(
            f"breakeven_y{y}",
            f"self-charging break-even WATT price, year {y}",
            per_watt,
            s["breakeven_price"][:, e] / unit,
        )
        add(f"price_y{y}", f"WATT price, year {y}", per_watt, s["price"][:, e] / unit)
    shocks = run.inputs.cfg.shocks
    n_e = run.inputs.epochs
    lo = min(int(shocks["demand_shock_start_day"]) // DAYS_PER_EPOCH, n_e - 1)
    width = max(int(shocks["demand_shock_days"]), 91) // DAYS_PER_EPOCH
    add(
        "fees_shock_window",
        f"fees in the demand-shock window (epochs {lo}..{lo + width - 1})",
        cur,
        s["fees"][:, lo : lo + width].sum(axis=1) / unit,
    )
    crash = min(int(shocks["price_crash_day"]) // DAYS_PER_EPOCH + 4, n_e - 1)
    add(
        "price_after_crash_day",
        f"WATT price 4 weeks after the crash day (epoch {crash})",
        per_watt,
        s["price"][:, crash] / unit,
    )
    add("wash_profitable_share", "share of epochs where self-charging pays", "ratio", wash_pays)
    add("crossover_day", "treasury fee income overtakes emission value", "day", crossover)
    add("treasury_depleted_day", "treasury runs out of credits", "day", depleted)
    add("treasury_runway_end", "treasury runway after the horizon", "day", runway_end)
    add("treasury_final", "treasury credits at the end", cur, final / unit)
    add("fraud_reward_share", "share of rewards paid for fraudulent energy", "ratio", fraud_share)
    add(
        "forfeited_share",
        "share of accrued rewards forfeited by findings in escrow (never minted)",
        "ratio",
        forfeited,
    )
    add(
        "emission_withheld_share",
        "share of scheduled emission the fee bound withheld (never minted)",
        "ratio",
        withheld,
    )
    add("gini_rewards", "Gini of rewards across operators", "ratio", b.gini)
    add("top_operator_share", "largest operator's share of rewards", "ratio", b.top_operator_share)
    add(
        "top_regional_operator_share",
        "largest operator's share of one region's rewards",
        "ratio",
        b.top_regional_share,
    )
    add("stations_final", "active stations at the end", "stations", s["stations"][:, -1])
    add("supply_final", "WATT supply at the end", "WATT", s["supply"][:, -1])
    add("burned_total", "WATT burned (buy-back and slashing)", "WATT", s["burned"][:, -1])
    add("fees_total", "fees paid by drivers", cur, b.fees["fees"] / unit)
    add("utilization_final", "network utilization, last epoch", "ratio", s["utilization"][:, -1])
    x = b.extra
    add("honest_payback_days", "median payback of honest stations", "day",
        x["honest_payback_days"])
    pnl = s["attack_gain"] - s["attack_cost"] - s["attack_loss"]
    add("attackers", "attacking stations", "stations", x["attackers"])
    add("attack_pnl", "attackers' P&L over the horizon", cur, pnl.sum(axis=1) / unit)
    add("attack_gain", "attackers' gain (rewards, drivers' fees)", cur,
        s["attack_gain"].sum(axis=1) / unit)
    add("attack_cost", "attackers' cash cost", cur, s["attack_cost"].sum(axis=1) / unit)
    add("attack_loss", "attackers' forfeits and slashes", cur,
        s["attack_loss"].sum(axis=1) / unit)
    for k in VARIANTS:
        add(f"breakeven_{k}_min", f"lowest break-even price, {k}", per_watt,
            s[f"breakeven_{k}"].min(axis=1) / unit)
    add("cluster_pnl", "cluster's cash less outlay", cur, x["cluster_pnl"] / unit)
    add("cluster_votes_final", "cluster's votes at the end", "WATT", s["cluster_votes"][:, -1])
    add("cluster_quorum_share", "cluster's votes / quorum at the end", "ratio",
        s["cluster_votes"][:, -1] / np.maximum(s["quorum"][:, -1], 1e-9))
    add("capture_day", "cluster's votes reach the quorum", "day",
        first_epoch((s["cluster_votes"] >= s["quorum"]) & (s["cluster_votes"] > 0)))
    last_year = slice(max(0, n_e - 52), n_e)
    staking = np.divide(s["rewarded"][:, last_year].sum(axis=1) * 52 / (last_year.stop
                        - last_year.start), s["staked"][:, -1], out=np.zeros(len(b.run_ids)),
                        where=s["staked"][:, -1] > 0)
    add("staking_yield", "WATT rewards / WATT staked, last year", "ratio/yr", staking)
    add("staking_excess", "staking yield over the risk-free rate", "ratio/yr",
        staking - run.inputs.cfg.market["risk_free_rate"])
    counts = _region_counts(run)
    kwh, rew = b.extra["region_kwh"], b.extra["region_rewards"]  # (runs, epochs, G)
    tot_kwh, tot_rew = kwh.sum(axis=1), rew.sum(axis=1)
    per_kwh = np.divide(tot_rew, tot_kwh, out=np.full(tot_kwh.shape, np.nan), where=tot_kwh > 0)
    # against the network's WATT per kWh in the same epochs: timing (the early epochs pay far
    # more per kWh) cancels, what is left is the multiplier and the fee bound
    net = kwh.sum(axis=2)
    net_rate = np.divide(rew.sum(axis=2), net, out=np.zeros_like(net), where=net > 0)
    expected = (kwh * net_rate[:, :, None]).sum(axis=1)
    rel = np.divide(tot_rew, expected, out=np.full(expected.shape, np.nan), where=expected > 0)
    util = tot_kwh / np.maximum(b.extra["region_cap_kwh"], 1e-9)
    regions = tuple(
        RegionRow(r.name, counts[g], *_pb(b.payback_days[:, g]), pct(b.yield_[:, g])[1],
                  int(run.inputs.region_mult_bps[g]), pct(util[:, g])[1], pct(per_kwh[:, g])[1],
                  pct(rel[:, g])[1])
        for g, r in enumerate(run.inputs.cfg.regions)
    )
    return Summary(
        scenario=run.scenario,
        network=run.params.network,
        runs=run.runs,
        stations=run.inputs.stations,
        days=run.inputs.days,
        seed=run.seed,
        metrics=tuple(rows),
        regions=regions,
        conservation_ok=conservation_ok(run),
    )


def _pb(values: NDArray[Any]) -> tuple[float, float, float]:
    p5, p50, p95 = pct(values)
    return p50, p5, p95


def _region_counts(run: ModelRun) -> list[int]:
    from wattnet.sim.model.state import region_counts

    return region_counts(run.inputs)
