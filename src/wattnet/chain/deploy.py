"""Deploy and wire the protocol with Ape.

Used by tests, the demo, benchmarks and scripts/deploy.py.

Order follows the dependencies: WATT -> staking -> rewards -> registry -> credits (the ledger
with settlement built in), then the one-time links and the roles. Everything here takes integers
in on-chain units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wattnet.chain import roles
from wattnet.params import (
    Params,
    SlashDestination,
    apply_overrides,
    contract_phases,
    load_params,
    to_chain_units,
)

WAD = 10**18
DAY = 86_400
WEEK = 7 * DAY


@dataclass(frozen=True, slots=True)
class Phase:
    start_epoch: int
    end_epoch: int
    decay_bps: int
    emission_per_epoch: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.start_epoch, self.end_epoch, self.decay_bps, self.emission_per_epoch)


@dataclass(frozen=True, slots=True)
class DeployConfig:
    """Protocol parameters in on-chain units (wei, seconds, basis points), read from a params
    file (:meth:`from_params`): it has no values of its own. Tests that need another value
    state it with ``dataclasses.replace`` (or ``apply_overrides`` on the params first, which
    also checks it against the contracts' bounds)."""

    cap: int
    genesis_supply: int
    min_stake_per_station: int
    unbonding_delay: int
    equivocation_slash: int
    equivocation_bounty_bps: int
    slash_to_burn: bool
    redemption_delay: int
    max_settlement_delay: int
    max_session_duration: int
    min_tariff_per_kwh: int
    max_tariff_per_kwh: int
    operator_share_bps: int
    referrer_share_bps: int
    station_epoch_cap_bps: int
    phases: tuple[Phase, ...]
    region_multipliers: tuple[tuple[str, int], ...]
    challenge_window: int
    fee_multiple_bps: int
    price_floor: int  # USD wei per WATT
    uncertified_reward_bps: int
    release_delay: int  # s; 0 keeps the registry's own default (120 days)
    stake_per_kw: int  # WATT wei per kW of station power, on top of min_stake_per_station
    overlap_tolerance: int  # s: overlaps this short are a clock step, not equivocation
    credits_uri: str = "ipfs://wattnet-credits/{id}.json"  # metadata, not a parameter

    @classmethod
    def from_params(cls, params: Params) -> DeployConfig:
        """The values of ``params`` (``load_params("local")``) in chain units."""
        u = to_chain_units(params)
        st, rg, cr, se, rw = (u[k] for k in ("staking", "registry", "credits", "settlement",
                                             "rewards"))
        return cls(
            cap=u["token"]["cap"],
            genesis_supply=rw["genesis_supply"],
            min_stake_per_station=st["min_stake_per_station"],
            unbonding_delay=st["unbonding_delay"],
            equivocation_slash=st["equivocation_slash"],
            equivocation_bounty_bps=st["equivocation_bounty_bps"],
            slash_to_burn=params.staking.slash_destination is SlashDestination.BURN,
            redemption_delay=cr["redemption_delay"],
            max_settlement_delay=se["max_settlement_delay"],
            max_session_duration=se["max_session_duration"],
            min_tariff_per_kwh=rg["min_tariff_per_kwh"],
            max_tariff_per_kwh=rg["max_tariff_per_kwh"],
            operator_share_bps=se["operator_share_bps"],
            referrer_share_bps=se["referrer_share_bps"],
            station_epoch_cap_bps=rw["station_epoch_cap_bps"],
            phases=tuple(Phase(*p) for p in contract_phases(params.rewards)),
            region_multipliers=params.registry.region_multipliers,
            challenge_window=rw["challenge_window"],
            fee_multiple_bps=rw["fee_multiple_bps"],
            price_floor=rw["watt_price_floor"],
            uncertified_reward_bps=rg["uncertified_reward_bps"],
            release_delay=rg["release_delay"],
            stake_per_kw=st["stake_per_kw"],
            overlap_tolerance=st["overlap_tolerance"],
        )


def local_config(overrides: Mapping[str, Any] | None = None) -> DeployConfig:
    """``params/local.yaml`` in chain units, the demo's and the unit tests' parameters; a test
    module that needs other values names them in the file's keys and units (``overrides``),
    which the loader checks against the contracts' bounds like any change set."""
    params = load_params("local")
    return DeployConfig.from_params(apply_overrides(params, overrides) if overrides else params)


@dataclass(slots=True)
class Protocol:
    """The deployed contracts (Ape contract instances)."""

    watt: Any
    staking: Any
    rewards: Any
    registry: Any
    credits: Any

    @property
    def settlement(self) -> Any:
        """Settlement is built into the credit ledger (EnergyCredits)."""
        return self.credits

    def as_dict(self) -> dict[str, Any]:
        return {
            "WattToken": self.watt,
            "OperatorStaking": self.staking,
            "RewardsEngine": self.rewards,
            "StationRegistry": self.registry,
            "EnergyCredits": self.credits,
        }


def geohash_bytes8(geohash: str) -> bytes:
    """A geohash as the registry stores it: ASCII, left aligned, zero padded to 8 bytes."""
    raw = geohash.encode("ascii")
    if not 1 <= len(raw) <= 8:
        raise ValueError(f"geohash must have 1 to 8 characters, got {geohash!r}")
    return raw.ljust(8, b"\x00")


def deploy_protocol(
    project: Any,
    deployer: Any,
    treasury: str,
    cfg: DeployConfig | None = None,
    *,
    genesis: int,
) -> Protocol:
    """Deploy every contract with `deployer` as admin and wire them together.

    The deployer keeps DEFAULT_ADMIN_ROLE and PARAMS_ROLE; handing them to the timelock is the
    governance step of scripts/deploy.py.
    """
    cfg = cfg or local_config()
    tx = {"sender": deployer}
    me = deployer.address
    watt = project.WattToken.deploy(me, cfg.cap, treasury, cfg.genesis_supply, **tx)
    staking = project.OperatorStaking.deploy(
        me,
        watt.address,
        treasury,
        cfg.min_stake_per_station,
        cfg.unbonding_delay,
        cfg.equivocation_slash,
        cfg.equivocation_bounty_bps,
        **tx,
    )
    rewards = project.RewardsEngine.deploy(
        me,
        watt.address,
        genesis,
        cfg.cap - cfg.genesis_supply,
        [p.as_tuple() for p in cfg.phases],
        **tx,
    )
    registry = project.StationRegistry.deploy(
        me, staking.address, cfg.min_tariff_per_kwh, cfg.max_tariff_per_kwh, **tx
    )
    timing = (cfg.redemption_delay, cfg.max_settlement_delay, cfg.max_session_duration)
    credits = project.EnergyCredits.deploy(
        me,
        treasury,
        timing,
        cfg.credits_uri,
        registry.address,
        rewards.address,
        cfg.operator_share_bps,
        cfg.referrer_share_bps,
        cfg.station_epoch_cap_bps,
        **tx,
    )
    watt.grantRole(roles.MINTER_ROLE, rewards.address, **tx)
    staking.grantRole(roles.REGISTRY_ROLE, registry.address, **tx)
    staking.setRegistry(registry.address, **tx)
    staking.setSettlement(credits.address, **tx)
    staking.setRewards(rewards.address, **tx)
    rewards.grantRole(roles.FINDINGS_ROLE, staking.address, **tx)
    registry.setCredits(credits.address, **tx)
    rewards.setWeightSource(credits.address, **tx)
    for contract in (staking, registry, rewards, credits):
        contract.grantRole(roles.PARAMS_ROLE, me, **tx)
    if cfg.slash_to_burn:
        staking.setSlashDestination(1, **tx)
    rewards.setChallengeWindow(cfg.challenge_window, **tx)
    rewards.setFeeMultipleBps(cfg.fee_multiple_bps, **tx)
    rewards.setPriceFloor(cfg.price_floor, **tx)
    if cfg.overlap_tolerance:
        staking.setOverlapTolerance(cfg.overlap_tolerance, **tx)
    if cfg.stake_per_kw:
        staking.setStakePerKw(cfg.stake_per_kw, **tx)
    if cfg.uncertified_reward_bps:
        registry.setUncertifiedRewardBps(cfg.uncertified_reward_bps, **tx)
    if cfg.release_delay:
        registry.setReleaseDelay(cfg.release_delay, **tx)
    for prefix, bps in cfg.region_multipliers:
        registry.setRegionMultiplier(geohash_bytes8(prefix), bps, **tx)
    return Protocol(watt, staking, rewards, registry, credits)


def deploy_local_stack(
    project: Any, chain: Any, deployer: Any, treasury: Any, oracle: Any
) -> tuple[Protocol, Any]:
    """A local network ready for sessions: the protocol with params/local.yaml's parameters,
    `oracle` holding ORACLE_ROLE, and a 6-decimal mock USDC listed as credit id 1. Returns
    (protocol, usdc)."""
    p = deploy_protocol(
        project, deployer, treasury.address, local_config(), genesis=chain.blocks.head.timestamp
    )
    p.credits.grantRole(roles.ORACLE_ROLE, oracle, sender=deployer)
    usdc = project.MockStablecoin.deploy("USD Coin", "USDC", 6, sender=deployer)
    p.credits.listCredit(usdc, sender=deployer)
    return p, usdc
