"""Deploy and wire the protocol with Ape.

Used by tests, the demo, benchmarks and scripts/deploy.py.

Order follows the dependencies: WATT -> staking -> rewards -> registry -> credits (the ledger
with settlement built in), then the one-time links and the roles. Everything here takes integers
in on-chain units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wattnet.chain import roles

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
    """Protocol parameters in on-chain units (wei, seconds, basis points)."""

    cap: int = 1_000_000_000 * WAD
    genesis_supply: int = 100_000_000 * WAD
    min_stake_per_station: int = 1_000 * WAD
    unbonding_delay: int = 7 * DAY
    equivocation_slash: int = 500 * WAD
    equivocation_bounty_bps: int = 1_000
    slash_to_burn: bool = False
    redemption_delay: int = 5 * DAY
    max_settlement_delay: int = 3 * DAY
    max_session_duration: int = 1 * DAY
    min_tariff_per_kwh: int = 1
    max_tariff_per_kwh: int = 10**24
    operator_share_bps: int = 8_000
    referrer_share_bps: int = 500
    station_epoch_cap_bps: int = 5_000
    phases: tuple[Phase, ...] = field(
        default_factory=lambda: (
            Phase(0, 52, 100, 2_000_000 * WAD),
            Phase(52, 260, 50, 1_000_000 * WAD),
            Phase(260, 520, 20, 250_000 * WAD),
        )
    )
    region_multipliers: tuple[tuple[str, int], ...] = ()
    # Proof of physical work (RewardsEngine, StationRegistry). The unit-test defaults keep the
    # fee bound out of the way of the emission arithmetic (price at its floor, multiple at 1x)
    # and the escrow short; tests of those rules set them.
    challenge_window: int = 1 * DAY
    fee_multiple_bps: int = 10_000
    price_floor: int = 10**6
    uncertified_reward_bps: int = 0
    release_delay: int = 0  # s; 0 keeps the registry's own default (120 days)
    stake_per_kw: int = 0  # WATT wei per kW of station power, on top of min_stake_per_station
    overlap_tolerance: int = 0  # s: overlaps this short are a clock step, not equivocation
    credits_uri: str = "ipfs://wattnet-credits/{id}.json"


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
    cfg = cfg or DeployConfig()
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
    """A local network ready for sessions: the protocol with default parameters, `oracle` holding
    ORACLE_ROLE, and a 6-decimal mock USDC listed as credit id 1. Returns (protocol, usdc)."""
    p = deploy_protocol(
        project, deployer, treasury.address, DeployConfig(), genesis=chain.blocks.head.timestamp
    )
    p.credits.grantRole(roles.ORACLE_ROLE, oracle, sender=deployer)
    usdc = project.MockStablecoin.deploy("USD Coin", "USDC", 6, sender=deployer)
    p.credits.listCredit(usdc, sender=deployer)
    return p, usdc
