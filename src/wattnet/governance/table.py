"""Every governed parameter of ``params/<network>.yaml``: where it lives on chain, how to read it,
which setter changes it and how that call is encoded.

Values move between two units: the file's (WATT as whole tokens, seconds, bps, credit units,
``treasury``/``burn``) and the chain's (wei, seconds, bps, credit units, enum index). Validation of
a value is :mod:`wattnet.params`'s job (``parse_params``), whose bounds are the contracts' own;
``params_lo``/``params_hi`` here *describe* them for tables (a test checks they agree) and
``chain_lo``/``chain_hi`` are the same in chain units (a test checks them against the deployed
constants).

Some setters take several parameters at once (``setShares``, ``setEquivocationPenalty``,
``setTariffBounds``, ``setTiming``, the committee's ``setParams``): changing one field sends the
combined call with the other fields as they are on chain (:func:`build_calls`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Context, Decimal
from enum import StrEnum
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from wattnet.params import (
    BPS,
    CHALLENGE_WINDOW_S,
    COMMITTEE_BOUNTY_BPS,
    COMMITTEE_MEMBERS,
    COMMITTEE_STAKE_WATT,
    COMMITTEE_UNBONDING_S,
    FEE_MULTIPLE_BPS,
    LATE_QUORUM_S,
    MAX_BOUNTY_BPS,
    MAX_PROPOSAL_THRESHOLD_WATT,
    MAX_REFERRER_SHARE_BPS,
    MIN_OPERATOR_SHARE_BPS,
    OVERLAP_TOLERANCE_S,
    PRICE_FLOOR_USD,
    QUORUM_PERCENT,
    REDEMPTION_DELAY_S,
    RELEASE_DELAY_S,
    SESSION_DURATION_S,
    SETTLEMENT_DELAY_S,
    STAKE_PER_KW_WATT,
    STAKE_WATT,
    STATION_CAP_BPS,
    TARIFF_PER_KWH,
    TIMELOCK_DELAY_S,
    UNBONDING_DELAY_S,
    UNCERTIFIED_REWARD_BPS,
    VOTING_DELAY_S,
    VOTING_PERIOD_S,
    WEI_PER_WATT,
    SlashDestination,
    parse_duration,
    to_wei,
)

STAKING, REGISTRY, CREDITS = "OperatorStaking", "StationRegistry", "EnergyCredits"
REWARDS = "RewardsEngine"
GOVERNOR, TIMELOCK = "WattGovernor", "WattTimelock"
COMMITTEE = "OracleCommittee"  # only in deployments whose params have a committee section
REGION_PREFIX = "registry.region_multipliers."
SCHEDULE_KEY = "rewards.phases"  # RewardsEngine.setSchedule: see wattnet.governance.schedule
TREASURY_SHARE = "settlement.treasury_share_bps"  # derived: the treasury gets the rest
DAY = 86_400

_EXACT = Context(prec=80)  # wei amounts up to 10**30: beyond the default precision
_WEI_DIGITS = 18


class Unit(StrEnum):
    WATT = "WATT"
    SECONDS = "s"
    BPS = "bps"
    TARIFF = "credit units/kWh"
    CHOICE = "treasury|burn"
    PERCENT = "% of supply"
    NODES = "nodes"
    USD = "USD/WATT"


@dataclass(frozen=True, slots=True)
class Param:
    """One governed key. ``getter`` is a Solidity signature returning ``out``; ``field`` picks
    one element of a tuple result; ``args`` of the getter are the region prefix, if any."""

    key: str
    contract: str
    getter: str
    out: str
    setter: str
    unit: Unit
    params_lo: int | Decimal | None = None
    params_hi: int | Decimal | None = None
    chain_lo: int | None = None  # in chain units
    chain_hi: int | None = None
    field: int | None = None
    note: str = ""

    @property
    def bounds(self) -> str:
        """What the params file allows, in its units (cross-field rules in ``note``)."""
        if self.unit is Unit.CHOICE:
            return "treasury | burn"
        return f"{self.params_lo}..{self.params_hi} {self.unit}"

    @property
    def chain_bounds(self) -> str:
        if self.chain_lo is None and self.chain_hi is None:
            return "-"
        lo = "" if self.chain_lo is None else from_chain(self, self.chain_lo)
        hi = "" if self.chain_hi is None else from_chain(self, self.chain_hi)
        return f"{lo}..{hi} {self.unit}"


@dataclass(frozen=True, slots=True)
class Setter:
    """A setter and the keys it takes, in argument order (``tuple_arg``: one struct argument)."""

    contract: str
    signature: str
    keys: tuple[str, ...]
    tuple_arg: bool = False


@dataclass(frozen=True, slots=True)
class Call:
    """One call of a proposal: target contract (by deployment name), signature, arguments."""

    contract: str
    signature: str
    args: tuple[Any, ...]
    keys: tuple[str, ...]

    @property
    def calldata(self) -> bytes:
        return encode_call(self.signature, self.args)


def _p(key: str, contract: str, getter: str, out: str, setter: str, unit: Unit,
       lo: int | Decimal | None, hi: int | Decimal | None, chain_lo: int | None = None,
       chain_hi: int | None = None, field: int | None = None, note: str = "") -> Param:
    return Param(key, contract, getter, out, setter, unit, lo, hi, chain_lo, chain_hi, field, note)


_TIMING = "setTiming((uint40,uint40,uint40))"
_SHARES = "setShares(uint16,uint16)"
_PENALTY = "setEquivocationPenalty(uint256,uint256)"
_TARIFFS = "setTariffBounds(uint256,uint256)"
_COMMITTEE = "setParams(uint256,uint256,uint256)"

def _b(lo_hi: tuple[Any, Any], watt: bool = False) -> tuple[Any, Any, int, int]:
    """(params lo, params hi, chain lo, chain hi): wattnet.params enforces the contracts' bounds,
    so they are the same values, the chain's in wei for WATT amounts."""
    lo, hi = lo_hi
    scale = WEI_PER_WATT if watt else 1
    return lo, hi, int(lo * scale), int(hi * scale)


_TARIFF = _b(TARIFF_PER_KWH)  # StationRegistry: min >= 1, max within uint88

PARAMS: tuple[Param, ...] = (
    _p("staking.min_stake_per_station", STAKING, "minStakePerStation()", "uint256",
       "setMinStakePerStation(uint256)", Unit.WATT, *_b(STAKE_WATT, watt=True),
       note="operators' standing refreshes on their next stake change or refreshStanding"),
    _p("staking.stake_per_kw", STAKING, "stakePerKw()", "uint256", "setStakePerKw(uint256)",
       Unit.WATT, *_b(STAKE_PER_KW_WATT, watt=True),
       note="per kW of station power (certified while a certified meter is bound)"),
    _p("staking.overlap_tolerance", STAKING, "overlapToleranceS()", "uint256",
       "setOverlapTolerance(uint256)", Unit.SECONDS, *_b(OVERLAP_TOLERANCE_S),
       note="overlaps this short are a charger's clock step, not equivocation"),
    _p("staking.unbonding_delay", STAKING, "unbondingDelay()", "uint256",
       "setUnbondingDelay(uint256)", Unit.SECONDS, *_b(UNBONDING_DELAY_S)),
    _p("staking.slash_destination", STAKING, "slashDestination()", "uint8",
       "setSlashDestination(uint8)", Unit.CHOICE, None, None),
    _p("staking.equivocation_slash", STAKING, "equivocationSlash()", "uint256", _PENALTY,
       Unit.WATT, *_b(STAKE_WATT, watt=True), note="<= staking.min_stake_per_station"),
    _p("staking.equivocation_bounty_bps", STAKING, "equivocationBountyBps()", "uint256", _PENALTY,
       Unit.BPS, *_b((0, MAX_BOUNTY_BPS))),
    _p("registry.min_tariff_per_kwh", REGISTRY, "minTariffPerKwh()", "uint256", _TARIFFS,
       Unit.TARIFF, *_TARIFF, note="<= registry.max_tariff_per_kwh"),
    _p("registry.max_tariff_per_kwh", REGISTRY, "maxTariffPerKwh()", "uint256", _TARIFFS,
       Unit.TARIFF, *_TARIFF),
    _p("credits.redemption_delay", CREDITS, "timing()", "(uint40,uint40,uint40)", _TIMING,
       Unit.SECONDS, *_b(REDEMPTION_DELAY_S), field=0,
       note=">= settlement.max_settlement_delay + settlement.max_session_duration"),
    _p("settlement.max_settlement_delay", CREDITS, "timing()", "(uint40,uint40,uint40)", _TIMING,
       Unit.SECONDS, *_b(SETTLEMENT_DELAY_S), field=1),
    _p("settlement.max_session_duration", CREDITS, "timing()", "(uint40,uint40,uint40)", _TIMING,
       Unit.SECONDS, *_b(SESSION_DURATION_S), field=2),
    _p("settlement.operator_share_bps", CREDITS, "operatorShareBps()", "uint16", _SHARES,
       Unit.BPS, *_b((MIN_OPERATOR_SHARE_BPS, BPS)), note="operator + treasury + referrer = 10000"),
    _p("settlement.referrer_share_bps", CREDITS, "referrerShareBps()", "uint16", _SHARES,
       Unit.BPS, *_b((0, MAX_REFERRER_SHARE_BPS))),
    _p("rewards.station_epoch_cap_bps", CREDITS, "stationEpochCapBps()", "uint16",
       "setStationEpochCap(uint16)", Unit.BPS, *_b(STATION_CAP_BPS)),
    _p("registry.uncertified_reward_bps", REGISTRY, "uncertifiedRewardBps()", "uint256",
       "setUncertifiedRewardBps(uint256)", Unit.BPS, *_b(UNCERTIFIED_REWARD_BPS),
       note="reward weight without a certified meter"),
    _p("registry.release_delay", REGISTRY, "releaseDelay()", "uint256",
       "setReleaseDelay(uint256)", Unit.SECONDS, *_b(RELEASE_DELAY_S),
       note="an inactive station's id and keys free up after this; outlasts every proof window"),
    _p("rewards.challenge_window", REWARDS, "challengeWindow()", "uint256",
       "setChallengeWindow(uint256)", Unit.SECONDS, *_b(CHALLENGE_WINDOW_S),
       note="escrow after each epoch; longer than governance's own delays"),
    _p("rewards.fee_multiple_bps", REWARDS, "feeMultipleBps()", "uint256",
       "setFeeMultipleBps(uint256)", Unit.BPS, *_b(FEE_MULTIPLE_BPS),
       note="a station's reward is worth at most this share of its retained fees"),
    _p("rewards.watt_price_floor", REWARDS, "priceFloor()", "uint256",
       "setPriceFloor(uint256)", Unit.USD, *_b(PRICE_FLOOR_USD, watt=True)),
    # WattGovernor / WattTimelock bounds (GovernanceParameterOutOfBounds)
    _p("governance.voting_delay", GOVERNOR, "votingDelay()", "uint256", "setVotingDelay(uint48)",
       Unit.SECONDS, *_b(VOTING_DELAY_S)),
    _p("governance.voting_period", GOVERNOR, "votingPeriod()", "uint256",
       "setVotingPeriod(uint32)", Unit.SECONDS, *_b(VOTING_PERIOD_S)),
    _p("governance.proposal_threshold", GOVERNOR, "proposalThreshold()", "uint256",
       "setProposalThreshold(uint256)", Unit.WATT,
       *_b((Decimal(0), MAX_PROPOSAL_THRESHOLD_WATT), watt=True)),
    _p("governance.quorum_percent", GOVERNOR, "quorumNumerator()", "uint256",
       "updateQuorumNumerator(uint256)", Unit.PERCENT, *_b(QUORUM_PERCENT)),
    _p("governance.timelock_delay", TIMELOCK, "getMinDelay()", "uint256",
       "updateDelay(uint256)", Unit.SECONDS, *_b(TIMELOCK_DELAY_S)),
    _p("governance.late_quorum_extension", GOVERNOR, "lateQuorumVoteExtension()", "uint48",
       "setLateQuorumVoteExtension(uint48)", Unit.SECONDS, *_b(LATE_QUORUM_S)),
    # OracleCommittee (CommitteeParamOutOfBounds)
    _p("committee.min_stake", COMMITTEE, "minStake()", "uint256", _COMMITTEE, Unit.WATT,
       *_b(COMMITTEE_STAKE_WATT, watt=True), note="a node below it is not admitted"),
    _p("committee.unbonding_delay", COMMITTEE, "unbondingDelay()", "uint256", _COMMITTEE,
       Unit.SECONDS, *_b(COMMITTEE_UNBONDING_S), note="a node that left stays slashable so long"),
    _p("committee.bounty_bps", COMMITTEE, "bountyBps()", "uint256", _COMMITTEE, Unit.BPS,
       *_b((0, COMMITTEE_BOUNTY_BPS)), note="of a slashed node's stake, to its prover"),
    _p("committee.threshold", COMMITTEE, "threshold()", "uint8", "setThreshold(uint256)",
       Unit.NODES, *_b(COMMITTEE_MEMBERS),
       note="k of the members; <= the members when the proposal executes"),
)

_BY_KEY = {p.key: p for p in PARAMS}

SETTERS: tuple[Setter, ...] = (
    Setter(STAKING, _PENALTY, ("staking.equivocation_slash", "staking.equivocation_bounty_bps")),
    Setter(REGISTRY, _TARIFFS, ("registry.min_tariff_per_kwh", "registry.max_tariff_per_kwh")),
    Setter(CREDITS, _TIMING, ("credits.redemption_delay", "settlement.max_settlement_delay",
                              "settlement.max_session_duration"), tuple_arg=True),
    Setter(CREDITS, _SHARES, ("settlement.operator_share_bps", "settlement.referrer_share_bps")),
    Setter(COMMITTEE, _COMMITTEE, ("committee.min_stake", "committee.unbonding_delay",
                                   "committee.bounty_bps")),
    *(Setter(p.contract, p.setter, (p.key,)) for p in PARAMS
      if p.setter not in (_PENALTY, _TARIFFS, _TIMING, _SHARES, _COMMITTEE)),
)

# Keys of the params file that no vote can change, with the reason.
NOT_GOVERNED: dict[str, str] = {
    "network": "it names the file",
    "token.cap": "WattToken's cap is immutable",
    "credits.stablecoins": "listing a stablecoin (EnergyCredits.listCredit) is its own proposal",
    "rewards.epoch_length": "epochs are fixed at one week",
    "rewards.genesis_supply": "it was minted at deployment",
    "model": "model assumptions are not on chain",
}


def region_param(prefix: str) -> Param:
    """The row of one region multiplier (``registry.region_multipliers.<prefix>``)."""
    return _p(REGION_PREFIX + prefix, REGISTRY, "multiplierOfPrefix(bytes8)", "uint32",
              "setRegionMultiplier(bytes8,uint32)", Unit.BPS, 5_000, 30_000, 5_000, 30_000,
              note="0 on chain: not set (10000)")


def lookup(key: str) -> Param | None:
    """The governed parameter of a dotted key, or None (treasury share: derived, no row)."""
    if key.startswith(REGION_PREFIX):
        return region_param(key[len(REGION_PREFIX):])
    return _BY_KEY.get(key)


def governed_keys() -> list[str]:
    return [p.key for p in PARAMS] + [TREASURY_SHARE, REGION_PREFIX + "<geohash prefix>",
                                      SCHEDULE_KEY]


def setter_of(key: str) -> Setter:
    if key.startswith(REGION_PREFIX):
        return Setter(REGISTRY, "setRegionMultiplier(bytes8,uint32)", (key,))
    return next(s for s in SETTERS if key in s.keys)


# ---- units ------------------------------------------------------------------------------------


def to_chain(param: Param, value: Any) -> int:
    """A validated params-file value in the contract's unit."""
    if param.unit in (Unit.WATT, Unit.USD):
        return to_wei(Decimal(str(value)))
    if param.unit is Unit.CHOICE:
        return list(SlashDestination).index(SlashDestination(value))
    if param.unit is Unit.SECONDS and isinstance(value, str):
        seconds = parse_duration(value)
        if seconds is not None:
            return seconds
    return int(value)


def from_chain(param: Param, raw: int) -> Any:
    """A chain value in the params file's unit (WATT as Decimal, the slash destination by name)."""
    if param.unit in (Unit.WATT, Unit.USD):
        amount = Decimal(raw).scaleb(-_WEI_DIGITS, _EXACT)
        if amount == amount.to_integral_value():
            return Decimal(int(amount))
        return amount.normalize(_EXACT)
    if param.unit is Unit.CHOICE:
        choices = list(SlashDestination)
        return choices[raw].value if raw < len(choices) else f"unknown({raw})"
    return int(raw)


def geohash_bytes8(prefix: str) -> bytes:
    return prefix.encode("ascii").ljust(8, b"\x00")


# ---- encoding ---------------------------------------------------------------------------------


def arg_types(signature: str) -> list[str]:
    inner = signature[signature.index("(") + 1: -1]
    types, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            types.append(cur)
            cur = ""
            continue
        depth += (ch == "(") - (ch == ")")
        cur += ch
    if cur:
        types.append(cur)
    return types


def selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def encode_call(signature: str, args: tuple[Any, ...]) -> bytes:
    return selector(signature) + encode(arg_types(signature), list(args))


def getter_call(param: Param) -> bytes:
    """Calldata that reads ``param``."""
    if param.key.startswith(REGION_PREFIX):
        return encode_call(param.getter, (geohash_bytes8(param.key[len(REGION_PREFIX):]),))
    return encode_call(param.getter, ())


def decode_getter(param: Param, data: bytes) -> Any:
    """The params-file value of a getter's raw return data."""
    (value,) = decode([param.out], data)
    raw = value[param.field] if param.field is not None else value
    return from_chain(param, int(raw))


def same_value(key: str, a: Any, b: Any) -> bool:
    """Whether two values of ``key`` are equal on chain (``2h`` and 7200 normalized first)."""
    param = lookup(key)
    if param is None or a is None or b is None:
        return bool(a == b)
    return to_chain(param, a) == to_chain(param, b)


def build_calls(proposed: Mapping[str, Any], current: Mapping[str, Any]) -> list[Call]:
    """The calls that move the chain from ``current`` to ``proposed`` (params-file units; keys
    of ``proposed`` are governed keys, ``current`` holds at least every key a touched setter
    takes). One call per setter, in table order, then region multipliers by prefix; a value
    already on chain sends nothing."""
    calls: list[Call] = []
    touched = [k for k in proposed if k != TREASURY_SHARE and not same_value(k, proposed[k],
                                                                            current.get(k))]
    for setter in SETTERS:
        if not any(k in setter.keys for k in touched):
            continue
        values = []
        for key in setter.keys:
            value = proposed[key] if key in proposed else current[key]
            values.append(to_chain(_BY_KEY[key], value))
        args = (tuple(values),) if setter.tuple_arg else tuple(values)
        calls.append(Call(setter.contract, setter.signature, args, setter.keys))
    for key in sorted(k for k in touched if k.startswith(REGION_PREFIX)):
        prefix = key[len(REGION_PREFIX):]
        param = region_param(prefix)
        calls.append(Call(REGISTRY, param.setter,
                          (geohash_bytes8(prefix), to_chain(param, proposed[key])), (key,)))
    return calls
