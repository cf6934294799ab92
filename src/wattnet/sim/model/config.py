"""The ``model:`` section of a params file: assumptions only the economic model uses.

Every key has a default here, a unit and bounds; unknown keys and out-of-range values raise
:class:`ConfigError` naming the file and key path, exactly like the protocol sections.
Money is in credit units (smallest units of credit id 1, e.g. USDC 6 decimals), energy in kWh,
power in kW, the WATT price in credit units per whole WATT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wattnet.econ.units import MAX_RATED_POWER_W
from wattnet.errors import ConfigError
from wattnet.params import (
    BPS,
    GEOHASH_ALPHABET,
    Params,
    Reader,
    check_float,
    check_int,
)

_I = 10**15  # generous upper bound for money in credit units


@dataclass(frozen=True, slots=True)
class Region:
    name: str
    geohash: str
    station_share_bps: int  # share of station slots
    drivers: int  # EV drivers using the network on day 0
    driver_growth_per_year: float  # 0.3 = +30 %/year
    kwh_per_driver_per_day: float
    tariff_per_kwh: int  # credit units
    electricity_cost_per_kwh: int  # credit units


@dataclass(frozen=True, slots=True)
class PowerClass:
    name: str
    rated_power_kw: float
    capex: int  # credit units
    opex_per_day: int  # credit units
    share_bps: int


# (key, default, lo, hi) per group; ints when default is int, else floats.
_GROUPS: dict[str, tuple[tuple[str, float | int, float | int, float | int], ...]] = {
    "demand": (
        ("price_elasticity", 0.6, 0.0, 5.0),
        ("reference_tariff_per_kwh", 400_000, 1, _I),
        ("noise_sigma", 0.08, 0.0, 1.0),
        ("max_utilization", 0.6, 0.01, 1.0),
        # sessions whose driver chose a referrer (EnergyCredits.setReferrer) that is not the
        # station's operator: only those pay the referrer share; the rest is the treasury's
        ("referred_share_bps", 0, 0, BPS),
        # multiplies every region's driver_growth_per_year (low-growth scenario)
        ("growth_scale", 1.0, 0.0, 5.0),
    ),
    "deployment": (
        ("hurdle_rate", 0.12, 0.0, 5.0),
        ("sensitivity", 10.0, 0.0, 1000.0),
        ("max_epoch_deploy_bps", 150, 0, BPS),
        ("initial_station_share_bps", 1_000, 0, BPS),
        # chance an active station's operator leaves in an epoch (unbonds, its slot stays empty)
        ("churn_bps_per_epoch", 0, 0, BPS),
    ),
    "market": (
        ("initial_price", 100_000.0, 1e-6, 1e15),
        ("pool_watt", 20_000_000, 1, 10**12),
        ("reward_sell_bps", 6_000, 0, BPS),
        ("noise_sigma", 0.02, 0.0, 1.0),
        # annual return of a risk-free alternative: operators deploy only above it plus hurdle
        ("risk_free_rate", 0.0, 0.0, 1.0),
    ),
    "treasury": (
        ("initial_credits", 5_000_000_000_000, 0, _I),
        ("opex_per_day", 3_000_000_000, 0, _I),
        ("buyback_share_bps", 3_000, 0, BPS),
    ),
    "adversaries": (
        ("wash_station_share_bps", 200, 0, BPS),
        ("inflated_meter_share_bps", 100, 0, BPS),
        ("inflation_bps", 13_000, BPS, 5 * BPS),
        ("broken_meter_share_bps", 1_000, 0, BPS),
        ("detection_bps_per_epoch", 500, 0, BPS),
        ("finding_lag_days", 0, 0, 365),
        ("fraud_slash_bps", BPS, 0, BPS),
        ("concentration_share_bps", 0, 0, BPS),
        # the concentrating operator keeps its rewards (votes) instead of selling them
        ("cluster_holds_rewards", 0, 0, 1),
        # certified meters whose key is extracted, signing sessions that delivered no energy
        ("fake_session_share_bps", 0, 0, BPS),
        # uncertified stations declaring declared_power_kw and claiming sessions up to it
        ("declared_power_share_bps", 0, 0, BPS),
        ("declared_power_kw", 2_000.0, 0.1, MAX_RATED_POWER_W / 1000),
        # chance per epoch that a provable fraud (a readings proof) is proven by someone
        ("proof_bps_per_epoch", 5_000, 0, BPS),
        # stations claiming the location of the model's most boosted region
        ("spoof_share_bps", 0, 0, BPS),
        ("spoof_attested_bps", 5_000, 0, BPS),  # of them, the attester is fooled
        # stations naming their operator (or an alias) as referrer on every receipt
        ("self_referral_share_bps", 0, 0, BPS),
    ),
    "shocks": (
        ("demand_shock_start_day", 730, 0, 100_000),
        ("demand_shock_days", 0, 0, 100_000),
        ("demand_shock_factor_bps", 5_000, 0, 5 * BPS),
        ("price_crash_day", 730, 0, 100_000),
        ("price_crash_factor_bps", BPS, 1, 10 * BPS),  # above 10000: an up-shock
    ),
}
_TOP = (
    "horizon_days",
    "stations",
    "operators",
    "operator_alpha",
    "regions",
    "power_classes",
    "concentration_region",
    *_GROUPS,
)

DEFAULT_REGIONS: tuple[Region, ...] = (
    Region("paris", "u09t", 2_200, 18_000, 0.30, 3.0, 450_000, 180_000),
    Region("berlin", "u33d", 1_800, 13_000, 0.30, 3.0, 420_000, 200_000),
    Region("london", "gcpv", 2_000, 16_000, 0.28, 3.0, 500_000, 220_000),
    Region("oslo", "ukq8", 800, 9_000, 0.20, 3.5, 380_000, 90_000),
    Region("madrid", "ezjm", 1_400, 7_000, 0.35, 2.5, 350_000, 140_000),
    Region("rural-eu", "u0", 1_800, 6_000, 0.25, 2.0, 400_000, 160_000),
)
DEFAULT_CLASSES: tuple[PowerClass, ...] = (
    PowerClass("ac11", 11.0, 3_000_000_000, 1_000_000, 6_000),
    PowerClass("dc50", 50.0, 35_000_000_000, 8_000_000, 3_000),
    PowerClass("hpc150", 150.0, 90_000_000_000, 20_000_000, 1_000),
)


@dataclass(frozen=True, slots=True)
class ModelConfig:
    horizon_days: int
    stations: int  # station slots (the most stations that can ever be deployed)
    operators: int
    operator_alpha: float  # Zipf exponent of operator sizes (0 = all equal)
    regions: tuple[Region, ...]
    power_classes: tuple[PowerClass, ...]
    concentration_region: str  # region where one operator concentrates stations ("" = none)
    demand: Mapping[str, float]
    deployment: Mapping[str, float]
    market: Mapping[str, float]
    treasury: Mapping[str, float]
    adversaries: Mapping[str, float]
    shocks: Mapping[str, float]

    def region_index(self, name: str) -> int:
        return [r.name for r in self.regions].index(name)


def _group(src: str, raw: Any, group: str) -> dict[str, float]:
    spec = _GROUPS[group]
    r = Reader(src, f"model.{group}", raw, tuple(k for k, *_ in spec))
    out: dict[str, float] = {}
    for key, default, lo, hi in spec:
        value = r.get(key, default)
        if isinstance(default, int):
            out[key] = check_int(src, r.key(key), value, int(lo), int(hi))
        else:
            out[key] = check_float(src, r.key(key), value, float(lo), float(hi))
    return out


def _regions(src: str, raw: Any, params: Params) -> tuple[Region, ...]:
    if raw is None:
        return DEFAULT_REGIONS
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{src}: model.regions must be a non-empty list of regions")
    out: list[Region] = []
    lo_t, hi_t = params.registry.min_tariff_per_kwh, params.registry.max_tariff_per_kwh
    for i, item in enumerate(raw):
        r = Reader(src, f"model.regions.{i}", item, Region.__slots__)
        gh = r.text("geohash", None)
        if not 1 <= len(gh) <= 12 or any(c not in GEOHASH_ALPHABET for c in gh):
            raise r.error(r.key("geohash"), f"={gh!r} is not a geohash (1..12 base32 chars)")
        out.append(
            Region(
                name=r.text("name", None),
                geohash=gh,
                station_share_bps=r.integer("station_share_bps", 0, 0, BPS),
                drivers=r.integer("drivers", 10_000, 0, 10**10),
                driver_growth_per_year=check_float(
                    src,
                    r.key("driver_growth_per_year"),
                    r.get("driver_growth_per_year", 0.25),
                    -0.9,
                    5.0,
                ),
                kwh_per_driver_per_day=check_float(
                    src,
                    r.key("kwh_per_driver_per_day"),
                    r.get("kwh_per_driver_per_day", 3.0),
                    0.0,
                    1000.0,
                ),
                tariff_per_kwh=r.integer("tariff_per_kwh", 400_000, lo_t, hi_t),
                electricity_cost_per_kwh=r.integer("electricity_cost_per_kwh", 150_000, 0, _I),
            )
        )
    names = [x.name for x in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"{src}: model.regions names {names} must be unique")
    total = sum(x.station_share_bps for x in out)
    if total != BPS:
        raise ConfigError(f"{src}: model.regions station_share_bps sum to {total}, must be {BPS}")
    return tuple(out)


def _classes(src: str, raw: Any) -> tuple[PowerClass, ...]:
    if raw is None:
        return DEFAULT_CLASSES
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{src}: model.power_classes must be a non-empty list")
    out: list[PowerClass] = []
    for i, item in enumerate(raw):
        r = Reader(src, f"model.power_classes.{i}", item, PowerClass.__slots__)
        out.append(
            PowerClass(
                name=r.text("name", None),
                rated_power_kw=check_float(
                    src, r.key("rated_power_kw"), r.get("rated_power_kw", 11.0), 0.1,
                    MAX_RATED_POWER_W / 1000,  # StationRegistry: declared power up to 2 MW
                ),
                capex=r.integer("capex", 3_000_000_000, 0, _I),
                opex_per_day=r.integer("opex_per_day", 1_000_000, 0, _I),
                share_bps=r.integer("share_bps", 0, 0, BPS),
            )
        )
    total = sum(c.share_bps for c in out)
    if total != BPS:
        raise ConfigError(f"{src}: model.power_classes share_bps sum to {total}, must be {BPS}")
    return tuple(out)


def parse_model(params: Params) -> ModelConfig:
    """Validate ``params.model`` (defaults for what is missing)."""
    src = params.source
    r = Reader(src, "model", params.model, _TOP)
    regions = _regions(src, r.get("regions", None), params)
    conc = r.get("concentration_region", "")
    if conc not in ("", None) and conc not in [x.name for x in regions]:
        raise r.error(
            "model.concentration_region",
            f"={conc!r} is not a region (one of: {', '.join(x.name for x in regions)})",
        )
    cfg = ModelConfig(
        horizon_days=r.integer("horizon_days", 3_650, 7, 36_500),
        stations=r.integer("stations", 10_000, 1, 5_000_000),
        operators=r.integer("operators", 500, 1, 5_000_000),
        operator_alpha=check_float(src, "model.operator_alpha", r.get("operator_alpha", 1.0), 0, 4),
        regions=regions,
        power_classes=_classes(src, r.get("power_classes", None)),
        concentration_region=conc or "",
        **{g: _group(src, r.get(g, None), g) for g in _GROUPS},
    )
    return cfg
