"""Named scenarios: each is a set of validated overrides on top of a params file.

A scenario is data, not code: the same dotted keys a sweep or a DAO change set uses, so every
scenario is reproducible from the YAML alone and can be combined with sweeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wattnet.errors import ConfigError
from wattnet.params import Params, apply_overrides


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    moves: str  # the metric the scenario should move, relative to baseline
    overrides: Mapping[str, Any] = field(default_factory=dict)
    # whose profit and loss the report shows: "attack" (the attacking stations' gain less
    # cost, forfeits and slashes), "cluster" (the concentrating operator's cash less outlay)
    attacker: str = ""


FRAUD_WAVE: dict[str, Any] = {
    "model.adversaries.wash_station_share_bps": 1_500,
    "model.adversaries.inflated_meter_share_bps": 1_000,
    "model.adversaries.inflation_bps": 15_000,
    "model.adversaries.detection_bps_per_epoch": 250,
}
CONCENTRATION: dict[str, Any] = {
    "model.concentration_region": "paris",
    "model.adversaries.concentration_share_bps": 7_000,
}
DEMAND_SHOCK: dict[str, Any] = {
    "model.shocks.demand_shock_start_day": 730,
    "model.shocks.demand_shock_days": 91,
    "model.shocks.demand_shock_factor_bps": 5_000,
}

THIN_POOL: dict[str, Any] = {"model.market.pool_watt": 20_000_000}

# an attack scenario has only its own attackers, so its P&L and fraudulent share are the
# attack's alone (the baseline keeps the params file's background wash traders and inflaters)
ALONE: dict[str, Any] = {
    "model.adversaries.wash_station_share_bps": 0,
    "model.adversaries.inflated_meter_share_bps": 0,
}

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "baseline",
            "The params file as written, with its model section's background adversaries "
            "(2 % wash traders, 1 % inflating meters by default). Every other scenario runs "
            "with it, same seed, and is reported as its deltas against it.",
            "-",
        ),
        Scenario(
            "demand-shock",
            "Charging demand -50 % in every region for a quarter (91 days) from day 730.",
            "fee revenue and treasury income during the quarter",
            DEMAND_SHOCK,
        ),
        Scenario(
            "token-crash",
            "The WATT price falls 80 % on day 730 (liquidity leaves the pool).",
            "WATT price and operator yield after the crash",
            {"model.shocks.price_crash_day": 730, "model.shocks.price_crash_factor_bps": 2_000},
        ),
        Scenario(
            "emission-transitions",
            "Abrupt emission phases: launch 2 M/epoch for a year, then halvings each phase.",
            "reward per kWh and the self-charging break-even price at each transition",
            {
                "rewards.phases": [
                    {"name": "launch", "epochs": 52, "emission_per_epoch": 2_000_000},
                    {"name": "halving-1", "epochs": 52, "emission_per_epoch": 1_000_000},
                    {"name": "halving-2", "epochs": 104, "emission_per_epoch": 500_000},
                    {"name": "tail", "epochs": 312, "emission_per_epoch": 200_000},
                ]
            },
        ),
        Scenario(
            "operator-concentration",
            "One operator owns 70 % of the station slots of the first region (paris by default).",
            "Gini of rewards across operators and the top operator's share",
            CONCENTRATION,
            "cluster",
        ),
        Scenario(
            "fraud-wave",
            "15 % of stations wash-trade and 10 % have meters inflating energy by 50 % "
            "(model.adversaries.broken_meter_share_bps of them certified meters signing the "
            "inflated readings, the rest uncertified), detection halved.",
            "share of fraudulent energy rewarded",
            FRAUD_WAVE,
            "attack",
        ),
        Scenario(
            "fake-sessions",
            "5 % of stations have a certified meter whose key was extracted and sign sessions "
            "that delivered no electricity, paid by the operator's own driver at the minimum "
            "tariff and referred to an alias: each fake kWh costs only the treasury's share. "
            "The readings verify, so no fraud proof exists; only a finding by the slashing "
            "authority (detection_bps_per_epoch) forfeits the escrow and slashes. They fake "
            "only the kWh that fill the fee-bound room their honest traffic leaves, when that "
            "pays at last epoch's reward rate.",
            "fraudulent share of rewards and the attackers' P&L",
            {**ALONE, "model.adversaries.fake_session_share_bps": 500},
            "attack",
        ),
        Scenario(
            "declared-power-abuse",
            "5 % of stations run uncertified meters and declare 2 MW (the registry's maximum; "
            "they bond stake_per_kw for it) to lift their weight cap and plausibility limit, "
            "then claim self-paid sessions up to it. Without a certificate they earn "
            "registry.uncertified_reward_bps of the weight: set here to 2000, the highest the "
            "bounds allow (0 in the params files). Earning weight needs a readings commitment, "
            "which a fraud proof refutes (proveBadReadings: the key was never bound): "
            "proof_bps_per_epoch, equivocation_slash with the prover's bounty.",
            "fraudulent share of rewards and the attackers' P&L",
            {
                **ALONE,
                "model.adversaries.declared_power_share_bps": 500,
                "registry.uncertified_reward_bps": 2_000,
            },
            "attack",
        ),
        Scenario(
            "location-spoofing",
            "5 % of stations outside the most boosted region claim its location; the boost "
            "needs the slashing authority's attestation, which half of them obtain by fooling "
            "the attester (spoof_attested_bps). An attested spoofer earns the boosted "
            "multiplier on real energy until a finding withdraws it (forfeit, slash).",
            "fraudulent share of rewards and the attackers' P&L",
            {**ALONE, "model.adversaries.spoof_share_bps": 500},
            "attack",
        ),
        Scenario(
            "self-referral",
            "Drivers chose a referrer for 30 % of the fees; 20 % of stations name their "
            "operator (or an alias nobody chose) as referrer on every receipt. _settleOne pays "
            "that share to the treasury, not the station: the attack only takes it from the "
            "drivers' referrers, and the treasury's larger take raises the station's fee bound.",
            "referrer fees (down), the attackers' P&L (about zero)",
            {
                **ALONE,
                "model.demand.referred_share_bps": 3_000,
                "model.adversaries.self_referral_share_bps": 2_000,
            },
            "attack",
        ),
        Scenario(
            "cluster-demand-drop",
            "One operator owns 70 % of the first region's slots and demand falls 50 % in every "
            "region for a quarter from day 730 (the seed guide's two adversarial cases at "
            "once).",
            "the cluster's share of rewards, fees in the shock window, honest payback",
            {**CONCENTRATION, **DEMAND_SHOCK},
            "cluster",
        ),
        Scenario(
            "token-up-shock",
            "The WATT price jumps 5x on day 730 (a buyer enters the pool): the fee bound caps "
            "rewards in credits, so fewer WATT are paid per kWh.",
            "WATT price, emission withheld by the fee bound",
            {"model.shocks.price_crash_day": 730, "model.shocks.price_crash_factor_bps": 50_000},
        ),
        Scenario(
            "no-slashing-at-launch",
            "The fraud-wave attackers and 5 % fake-session meters at a launch where no "
            "slashing authority holds SLASHER_ROLE or FINDINGS_ROLE and no fraud proof can "
            "forfeit: nothing is ever found or proven (detection and proof rates 0).",
            "fraudulent share of rewards and the attackers' P&L (vs fraud-wave)",
            {
                **FRAUD_WAVE,
                "model.adversaries.fake_session_share_bps": 500,
                "model.adversaries.detection_bps_per_epoch": 0,
                "model.adversaries.proof_bps_per_epoch": 0,
            },
            "attack",
        ),
        Scenario(
            "operator-churn",
            "Each active station's operator leaves with probability 1 % a week (a mean stay "
            "of about two years), unbonds its stake and leaves the slot empty.",
            "active stations, capacity and fees",
            {"model.deployment.churn_bps_per_epoch": 100},
        ),
        Scenario(
            "low-demand-growth",
            "Drivers grow at a quarter of each region's driver_growth_per_year.",
            "fees, treasury income, stations deployed",
            {"model.demand.growth_scale": 0.25},
        ),
        Scenario(
            "buyback-off-thin-pool",
            "No buy-back (buyback_share_bps 0) and a pool of 20 M WATT (40 % of local.yaml's): "
            "operators' reward sales meet finite liquidity with no buyer.",
            "WATT price (down), burned (none)",
            {"model.treasury.buyback_share_bps": 0, **THIN_POOL},
        ),
        Scenario(
            "buyback-on-thin-pool",
            "Buy-back with 30 % of treasury fee income into the same 20 M WATT pool: the "
            "treasury as the buyer of last resort against the operators' sales.",
            "WATT price (up against buyback-off-thin-pool), burned",
            {"model.treasury.buyback_share_bps": 3_000, **THIN_POOL},
        ),
        Scenario(
            "staking-vs-risk-free",
            "A risk-free alternative pays 8 % a year: operators deploy only where the station's "
            "return beats hurdle_rate plus that rate.",
            "stations deployed, staking yield over the risk-free rate",
            {"model.market.risk_free_rate": 0.08},
        ),
        Scenario(
            "governance-capture",
            "One operator owns 70 % of the first region's slots and keeps every WATT it earns "
            "to vote (staked WATT sits in OperatorStaking and does not vote): how close its "
            "votes come to the quorum (governance.quorum_percent of the supply). Whatever it "
            "passes stays inside the contracts' parameter bounds.",
            "the cluster's votes against the quorum",
            {**CONCENTRATION, "model.adversaries.cluster_holds_rewards": 1},
            "cluster",
        ),
    )
}


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ConfigError(
            f"unknown scenario {name!r} (one of: {', '.join(SCENARIOS)}; "
            "see `wattnet sim scenarios`)"
        ) from None


def apply_scenario(params: Params, name: str) -> Params:
    """``params`` with the scenario's overrides applied (validated like any override)."""
    scenario = get_scenario(name)
    if not scenario.overrides:
        return params
    if "model.concentration_region" in scenario.overrides:
        regions = params.model.get("regions")
        if isinstance(regions, list) and regions and isinstance(regions[0], Mapping):
            first = regions[0].get("name")
            overrides = {**scenario.overrides, "model.concentration_region": first}
            return apply_overrides(params, overrides)
    return apply_overrides(params, scenario.overrides)
