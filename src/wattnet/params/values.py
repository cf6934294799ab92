"""Parameter values: units, bounds constants and the frozen dataclasses of every section."""


import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from wattnet.econ.units import BPS as BPS  # re-exported: the params' unit of shares
from wattnet.econ.units import EPOCH_LENGTH as EPOCH_LENGTH
from wattnet.econ.units import MAX_CREDIT_DECIMALS, MAX_TARIFF_PER_KWH
from wattnet.econ.weight import region_multiplier

WATT_DECIMALS = 18
WEI_PER_WATT = 10**WATT_DECIMALS
GEOHASH_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz"
_DURATION = re.compile(r"^\s*(\d+)\s*([dhms])\s*$")
_DURATION_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
MAX_DURATION = 10 * 365 * 86_400
MAX_WATT = Decimal(10) ** 12
PARAMS_DIR_ENV = "WATTNET_PARAMS_DIR"
_DAY = 86_400

# The contracts' own bounds (OperatorStaking, StationRegistry, EnergyCredits, WattGovernor
# constants), so that a file this loader accepts deploys and a change set it accepts executes.
# tests/offchain/sim/test_params.py checks them against wattnet.governance.table, whose chain
# bounds tests/contracts/e2e/test_params_calls.py reads from the deployed contracts.
STAKE_WATT = (Decimal(1), Decimal(10_000_000))  # min stake per station, equivocation slash
UNBONDING_DELAY_S = (3_600, 90 * _DAY)
MAX_BOUNTY_BPS = 5_000
REDEMPTION_DELAY_S = (0, 90 * _DAY)
SETTLEMENT_DELAY_S = (3_600, 30 * _DAY)
SESSION_DURATION_S = (3_600, 7 * _DAY)
MIN_OPERATOR_SHARE_BPS = 5_000
MAX_REFERRER_SHARE_BPS = 2_000
STATION_CAP_BPS = (1_000, 10_000)
VOTING_DELAY_S = (60, 30 * _DAY)
VOTING_PERIOD_S = (300, 60 * _DAY)
TIMELOCK_DELAY_S = (60, 30 * _DAY)
LATE_QUORUM_S = (60, 30 * _DAY)
MAX_PROPOSAL_THRESHOLD_WATT = Decimal(10_000_000)
QUORUM_PERCENT = (1, 50)
# Proof of physical work (StationRegistry, RewardsEngine).
UNCERTIFIED_REWARD_BPS = (0, 2_000)
# StationRegistry.MIN/MAX_RELEASE_DELAY. The lower bound already outlasts an epoch plus the longest
# challenge window (7 + 90 days) and the longest unbonding delay (90 days): no cross-check needed.
RELEASE_DELAY_S = (97 * _DAY, 365 * _DAY)
STAKE_PER_KW_WATT = (Decimal(0), Decimal(100_000))
OVERLAP_TOLERANCE_S = (0, 300)
CHALLENGE_WINDOW_S = (_DAY, 90 * _DAY)
FEE_MULTIPLE_BPS = (1, 10_000)
PRICE_FLOOR_USD = (Decimal("0.000000000001"), Decimal(1_000_000))  # USD per WATT
TARIFF_PER_KWH = (1, MAX_TARIFF_PER_KWH)  # StationRegistry: min >= 1, max fits uint88
CREDIT_DECIMALS = (0, MAX_CREDIT_DECIMALS)  # EnergyCredits.listCredit
GEOHASH_PREFIX_CHARS = (1, 8)  # StationRegistry: a bytes8 geohash prefix
REGION_MULTIPLIER_BPS = (5_000, 30_000)  # StationRegistry.MIN/MAX_MULTIPLIER_BPS; 0 = not set
# OracleCommittee.MIN_STAKE_FLOOR/MAX_STAKE_CEILING, MIN/MAX_UNBONDING, MAX_BOUNTY_BPS, MAX_MEMBERS.
COMMITTEE_STAKE_WATT = (Decimal(1_000), Decimal(10_000_000))
COMMITTEE_UNBONDING_S = (7 * _DAY, 90 * _DAY)
COMMITTEE_BOUNTY_BPS = 5_000
COMMITTEE_MEMBERS = (1, 31)


class SlashDestination(StrEnum):
    TREASURY = "treasury"
    BURN = "burn"


# ---- values -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TokenParams:
    cap: Decimal  # WATT


@dataclass(frozen=True, slots=True)
class StakingParams:
    min_stake_per_station: Decimal  # WATT
    unbonding_delay: int  # s
    slash_destination: SlashDestination
    equivocation_slash: Decimal  # WATT
    equivocation_bounty_bps: int
    stake_per_kw: Decimal = Decimal(0)  # WATT per kW of station power (certified if bound)
    overlap_tolerance: int = 0  # s: overlaps this short are a charger's clock step


@dataclass(frozen=True, slots=True)
class RegistryParams:
    region_multipliers: tuple[tuple[str, int], ...]  # (geohash prefix, bps), sorted
    min_tariff_per_kwh: int  # credit units per kWh
    max_tariff_per_kwh: int
    uncertified_reward_bps: int = 0  # weight of a station without a certified meter
    release_delay: int = 120 * _DAY  # s: an inactive station's id and keys free up after this

    def multiplier_for(self, geohash: str) -> int:
        """The bps multiplier of the longest listed prefix of ``geohash`` (10000 if none):
        ``StationRegistry.regionMultiplier``."""
        return region_multiplier(self.region_multipliers, geohash)


@dataclass(frozen=True, slots=True)
class Stablecoin:
    symbol: str
    decimals: int
    credit_id: int


@dataclass(frozen=True, slots=True)
class CreditsParams:
    redemption_delay: int  # s
    stablecoins: tuple[Stablecoin, ...]


@dataclass(frozen=True, slots=True)
class SettlementParams:
    operator_share_bps: int
    treasury_share_bps: int
    referrer_share_bps: int
    max_settlement_delay: int  # s
    max_session_duration: int  # s


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    epochs: int
    emission_per_epoch: Decimal  # WATT, first epoch of the phase
    decay_bps: int  # per-epoch multiplicative decay inside the phase


@dataclass(frozen=True, slots=True)
class RewardsParams:
    epoch_length: int
    phases: tuple[Phase, ...]
    station_epoch_cap_bps: int
    genesis_supply: Decimal  # WATT, minted to the treasury at deployment
    challenge_window: int = 30 * _DAY  # s of escrow after each epoch
    fee_multiple_bps: int = 5_000  # a station's reward is worth at most this share of its fees
    watt_price_floor: Decimal = Decimal("0.10")  # USD per WATT, the lowest rewards are valued at


@dataclass(frozen=True, slots=True)
class GovernanceParams:
    voting_delay: int  # s
    voting_period: int  # s
    proposal_threshold: Decimal  # WATT
    quorum_percent: int
    timelock_delay: int  # s
    late_quorum_extension: int  # s


@dataclass(frozen=True, slots=True)
class CommitteeParams:
    """The oracle committee (OracleCommittee): deployed beside the protocol; it takes over
    ``ORACLE_ROLE`` once ``threshold`` staked nodes are admitted (a governance change)."""

    min_stake: Decimal  # WATT a node must bond to be admitted
    unbonding_delay: int  # s before a node that left may withdraw (still slashable)
    bounty_bps: int  # share of a slashed node's stake paid to whoever proved it
    threshold: int  # k: votes a batch needs once the committee settles


@dataclass(frozen=True, slots=True)
class Params:
    """Every protocol parameter of one network, validated; ``model`` is the raw model section
    (validated by :func:`wattnet.sim.model.config.parse_model` when the model needs it)."""

    network: str
    source: str
    token: TokenParams
    staking: StakingParams
    registry: RegistryParams
    credits: CreditsParams
    settlement: SettlementParams
    rewards: RewardsParams
    governance: GovernanceParams
    model: Mapping[str, Any]
    committee: CommitteeParams | None = None
