"""Issue 12's scenarios: each runs, conserves tokens, reports the attacker's P&L, the fraudulent
share and the honest payback, and moves what it claims against the baseline (same seed)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pytest

from wattnet.params import Params, apply_overrides
from wattnet.sim.model.attacks import VARIANTS, breakevens, variant_costs
from wattnet.sim.model.bound import FeeBound
from wattnet.sim.model.metrics import Summary, conservation_ok, pct, summarize
from wattnet.sim.model.montecarlo import ModelRun, run_model
from wattnet.sim.model.scenarios import SCENARIOS, apply_scenario
from wattnet.sim.model.state import build_inputs

DAYS = 1_092  # three years: every default shock day falls inside


@pytest.fixture(scope="module")
def run(small_local: Params) -> Callable[..., ModelRun]:
    @cache
    def go(name: str, **overrides: object) -> ModelRun:
        """``name``, with ``overrides`` on top of the scenario's own."""
        if not overrides:
            return run_model(small_local, name, runs=4, seed=11, workers=1, days=DAYS)
        params = apply_overrides(apply_scenario(small_local, name), overrides)
        return run_model(params, "baseline", runs=4, seed=11, workers=1, days=DAYS)

    return go


@pytest.fixture(scope="module")
def p50(run: Callable[..., ModelRun]) -> Callable[..., float]:
    @cache
    def summary(name: str, **overrides: object) -> Summary:
        return summarize(run(name, **overrides))

    def value(name: str, key: str, **overrides: object) -> float:
        return summary(name, **overrides).metric(key).p50

    return value


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_scenario__runs_conserves_and_reports_pnl_fraud_share_and_honest_payback(
    name: str, run: Callable[..., ModelRun]
) -> None:
    r = run(name)
    assert conservation_ok(r)
    keys = {m.key for m in summarize(r).metrics}
    assert {"attack_pnl", "fraud_reward_share", "honest_payback_days", "cluster_pnl",
            "capture_day", *(f"breakeven_{k}_min" for k in VARIANTS)} <= keys
    assert SCENARIOS[name].description.strip() and SCENARIOS[name].moves


def test_fake_sessions__lift_the_fraudulent_share_and_cost_the_treasury_share(
    p50: Callable[..., float],
) -> None:
    assert p50("fake-sessions", "fraud_reward_share") > 5 * p50("baseline", "fraud_reward_share")
    assert p50("fake-sessions", "attack_cost") > 0  # the treasury's share of each fake kWh
    # a finding forfeits and slashes: here that exceeds what the fake kWh earned
    assert p50("fake-sessions", "attack_loss") > p50("fake-sessions", "attack_gain") > 0
    assert p50("fake-sessions", "attack_pnl") < 0


def test_declared_power__earns_nothing_uncertified_and_is_proven_with_a_bounty(
    p50: Callable[..., float], run: Callable[..., ModelRun]
) -> None:
    # at the params file's uncertified_reward_bps (0) a 2 MW declaration buys no weight
    assert p50("declared-power-abuse", "attack_gain", **{"registry.uncertified_reward_bps": 0}) == 0
    # at the bound's maximum (the scenario) it buys some, and readings proofs pay bounties
    assert p50("declared-power-abuse", "attack_gain") > 0
    assert (run("declared-power-abuse").batch.ledger["watchers"] > 0).all()
    assert (run("fake-sessions").batch.ledger["watchers"] == 0).all()  # findings pay none
    assert np.isfinite(p50("declared-power-abuse", "breakeven_power_min"))
    assert p50("baseline", "breakeven_power_min") == np.inf


def test_location_spoofing__gains_only_with_a_fooled_attester(p50: Callable[..., float]) -> None:
    unattested = {"model.adversaries.spoof_attested_bps": 0}
    assert p50("location-spoofing", "attack_gain", **unattested) == 0
    assert p50("location-spoofing", "attack_loss", **unattested) == 0  # no boost, no fraud
    assert p50("location-spoofing", "attack_gain") > 0
    assert p50("location-spoofing", "attack_pnl") < 0  # findings take more than the boost gave


def test_self_referral__takes_from_referrers_pays_the_treasury_and_earns_the_station_nothing(
    p50: Callable[..., float], run: Callable[..., ModelRun]
) -> None:
    honest = {"model.adversaries.self_referral_share_bps": 0}
    ref = run("self-referral").batch.fees["referrer_fees"]
    ref0 = run("self-referral", **honest).batch.fees["referrer_fees"]
    # a fifth of the stations divert their drivers' referrer share to the treasury
    assert 0.7 < float(np.median(ref / ref0)) < 0.9
    assert p50("self-referral", "attack_cost") == p50("self-referral", "attack_loss") == 0
    # the treasury's larger take does not raise the station's fee bound (the fee record counts
    # the treasury's own share only, SessionSettlement._splitPayment): nothing to gain
    assert p50("self-referral", "attack_gain") == 0
    assert p50("self-referral", "attack_gain", **honest) == 0


def test_no_slashing__nothing_is_found_and_fraud_keeps_more(p50: Callable[..., float]) -> None:
    assert p50("no-slashing-at-launch", "forfeited_share") == 0
    assert p50("no-slashing-at-launch", "attack_loss") == 0
    assert p50("no-slashing-at-launch", "fraud_reward_share") > 2 * p50(
        "fraud-wave", "fraud_reward_share")
    assert p50("no-slashing-at-launch", "attack_pnl") > p50("fraud-wave", "attack_pnl")


def test_cluster_demand_drop__cluster_dominates_and_fees_fall(p50: Callable[..., float]) -> None:
    assert p50("cluster-demand-drop", "top_regional_operator_share") > 0.6
    assert p50("baseline", "top_regional_operator_share") < 0.5
    assert p50("cluster-demand-drop", "fees_shock_window") < 0.6 * p50(
        "baseline", "fees_shock_window")
    assert p50("cluster-demand-drop", "cluster_pnl") != 0


@pytest.mark.parametrize(
    ("name", "key", "low", "high"),
    [
        ("token-up-shock", "price_after_crash_day", 3.0, 10.0),
        ("token-crash", "price_after_crash_day", 0.05, 0.4),
        ("operator-churn", "stations_final", 0.2, 0.7),
        ("low-demand-growth", "fees_total", 0.5, 0.97),
        ("buyback-off-thin-pool", "burned_total", -1e-9, 0.01),  # slashes go to the treasury
        ("buyback-off-thin-pool", "price_final", 0.05, 0.7),
        ("staking-vs-risk-free", "stations_final", 0.5, 0.97),
    ],
)
def test_shock__moves_its_metric_by_a_bounded_factor(
    name: str, key: str, low: float, high: float, p50: Callable[..., float]
) -> None:
    ratio = p50(name, key) / p50("baseline", key)
    assert low < ratio < high, f"{name}: {key} x{ratio:.3g} vs baseline"


def test_buyback__holds_the_price_up_in_a_thin_pool(p50: Callable[..., float]) -> None:
    on, off = p50("buyback-on-thin-pool", "price_final"), p50("buyback-off-thin-pool",
                                                                "price_final")
    assert on > 1.5 * off  # three years of a small network: 1.85x; ten years of 10k: see docs
    assert p50("buyback-on-thin-pool", "burned_total") > 0 == p50("buyback-off-thin-pool",
                                                                   "burned_total")


def test_staking_vs_risk_free__excess_is_yield_less_the_rate(p50: Callable[..., float]) -> None:
    name = "staking-vs-risk-free"
    assert p50(name, "staking_excess") == pytest.approx(p50(name, "staking_yield") - 0.08)


def test_governance_capture__holding_rewards_brings_votes_toward_quorum(
    p50: Callable[..., float], run: Callable[..., ModelRun]
) -> None:
    held, sold = p50("governance-capture", "cluster_votes_final"), p50(
        "operator-concentration", "cluster_votes_final")
    assert held > 2 * sold > 0  # keeps every WATT instead of 40 %
    s = run("governance-capture").batch.series
    assert np.all(np.diff(s["cluster_votes"], axis=1) >= 0)
    share = p50("governance-capture", "cluster_quorum_share")
    assert share == pytest.approx(pct(s["cluster_votes"][:, -1] / s["quorum"][:, -1])[1])


def test_breakevens__each_variant_is_the_hand_formula(small_local: Params) -> None:
    params = apply_scenario(small_local, "declared-power-abuse")
    inp = build_inputs(params)
    elec = np.array([r.electricity_cost_per_kwh for r in inp.cfg.regions], dtype=np.float64)
    tariff = np.array([r.tariff_per_kwh for r in inp.cfg.regions], dtype=np.float64)
    bound = FeeBound.of(inp, tariff, elec)
    rate = np.full((1, elec.size), 0.4) * inp.region_mult_bps / 10_000  # WATT per kWh
    got = breakevens(bound, variant_costs(inp, elec), rate)
    tau = inp.min_tariff * (inp.tr_bps - inp.ref_bps) / 10_000
    cap = bound.honest_cap
    for key, cost, share in (("wash", elec + tau, 1.0), ("fake", tau + 0 * elec, 1.0),
                             ("power", tau + 0 * elec, inp.uncertified_bps / 10_000)):
        r = rate[0] * share
        ok = (cost < cap) & (r * bound.floor < cap)
        expected = min((c / x for c, x, o in zip(cost, r, ok, strict=True) if o), default=np.inf)
        assert got[key][0] == pytest.approx(expected), key
    assert got["fake"][0] < got["wash"][0]  # no electricity to pay
