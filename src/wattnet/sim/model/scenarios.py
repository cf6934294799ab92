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


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("baseline", "The params file as written.", "-"),
        Scenario(
            "demand-shock",
            "Charging demand -50 % in every region for a quarter (91 days) from day 730.",
            "fee revenue and treasury income during the quarter",
            {
                "model.shocks.demand_shock_start_day": 730,
                "model.shocks.demand_shock_days": 91,
                "model.shocks.demand_shock_factor_bps": 5_000,
            },
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
            {
                "model.concentration_region": "paris",
                "model.adversaries.concentration_share_bps": 7_000,
            },
        ),
        Scenario(
            "fraud-wave",
            "15 % of stations wash-trade and 10 % have meters inflating energy by 50 % "
            "(model.adversaries.broken_meter_share_bps of them certified meters signing the "
            "inflated readings, the rest uncertified), detection halved.",
            "share of fraudulent energy rewarded",
            {
                "model.adversaries.wash_station_share_bps": 1_500,
                "model.adversaries.inflated_meter_share_bps": 1_000,
                "model.adversaries.inflation_bps": 15_000,
                "model.adversaries.detection_bps_per_epoch": 250,
            },
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
