"""Protocol parameters, one source of truth: ``params/<network>.yaml``.

The deploy script, the DAO change scripts and the simulator read this same format through
:func:`load_params`. Every value has a unit and bounds; every error is a :class:`ConfigError`
naming the file, the key path and what is allowed.

Units in the file: WATT amounts are whole tokens (decimals allowed, at most 18 places); durations
are seconds or strings ``"7d"``, ``"12h"``, ``"30m"``, ``"45s"``; shares are basis points (bps,
10000 = 100 %); tariffs and other money are credit units (smallest stablecoin units).
:func:`to_chain_units` turns WATT into wei (18 decimals) for the contracts.

The optional ``model:`` section holds assumptions only the economic model uses (see
:mod:`wattnet.sim.model.config`).
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from wattnet.errors import ConfigError

WATT_DECIMALS = 18
WEI_PER_WATT = 10**WATT_DECIMALS
EPOCH_LENGTH = 604_800
BPS = 10_000
GEOHASH_ALPHABET = "0123456789bcdefghjkmnpqrstuvwxyz"
_DURATION = re.compile(r"^\s*(\d+)\s*([dhms])\s*$")
_DURATION_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
MAX_DURATION = 10 * 365 * 86_400
MAX_WATT = Decimal(10) ** 12
PARAMS_DIR_ENV = "WATTNET_PARAMS_DIR"


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


@dataclass(frozen=True, slots=True)
class RegistryParams:
    region_multipliers: tuple[tuple[str, int], ...]  # (geohash prefix, bps), sorted
    min_tariff_per_kwh: int  # credit units per kWh
    max_tariff_per_kwh: int

    def multiplier_for(self, geohash: str) -> int:
        """The bps multiplier of the longest listed prefix of ``geohash`` (10000 if none)."""
        best, best_len = BPS, 0
        for prefix, bps in self.region_multipliers:
            if geohash.startswith(prefix) and len(prefix) > best_len:
                best, best_len = bps, len(prefix)
        return best


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


@dataclass(frozen=True, slots=True)
class GovernanceParams:
    voting_delay: int  # s
    voting_period: int  # s
    proposal_threshold: Decimal  # WATT
    quorum_percent: int
    timelock_delay: int  # s
    late_quorum_extension: int  # s


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


# ---- reading helpers --------------------------------------------------------------------------


class _Reader:
    """Reads one mapping of a params file, rejecting unknown keys with the allowed ones."""

    def __init__(self, source: str, path: str, raw: Any, allowed: tuple[str, ...]) -> None:
        self.source, self.path = source, path
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise self.error(path or "<root>", f"must be a mapping, got {type(raw).__name__}")
        for key in raw:
            if key not in allowed:
                raise self.error(
                    self.key(str(key)), f"is not a known key (allowed: {', '.join(allowed)})"
                )
        self.raw = raw

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, key: str, what: str) -> ConfigError:
        sep = "" if what.startswith("=") else " "
        return ConfigError(f"{self.source}: {key}{sep}{what}")

    def get(self, name: str, default: Any) -> Any:
        return self.raw.get(name, default)

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        return check_int(self.source, self.key(name), self.get(name, default), lo, hi)

    def duration(self, name: str, default: int, lo: int = 0, hi: int = MAX_DURATION) -> int:
        return check_duration(self.source, self.key(name), self.get(name, default), lo, hi)

    def watt(self, name: str, default: Decimal | int, lo: Decimal = Decimal(0)) -> Decimal:
        return check_watt(self.source, self.key(name), self.get(name, default), lo)

    def text(self, name: str, default: str | None) -> str:
        value = self.get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(self.key(name), f"={value!r} must be a non-empty string")
        return value.strip()


def check_int(source: str, key: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ConfigError(f"{source}: {key}={value!r} must be an integer in {lo}..{hi}")
    if not lo <= value <= hi:
        raise ConfigError(f"{source}: {key}={value} is out of range {lo}..{hi}")
    return int(value)


def check_float(source: str, key: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{source}: {key}={value!r} must be a number in {lo:g}..{hi:g}")
    if not lo <= float(value) <= hi:
        raise ConfigError(f"{source}: {key}={value} is out of range {lo:g}..{hi:g}")
    return float(value)


def parse_duration(value: Any) -> int | None:
    """Seconds from an int or a ``"7d"``/``"12h"``/``"30m"``/``"45s"`` string; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return int(match.group(1)) * _DURATION_UNITS[match.group(2)]
    return None


def check_duration(source: str, key: str, value: Any, lo: int, hi: int) -> int:
    seconds = parse_duration(value)
    if seconds is None:
        raise ConfigError(
            f"{source}: {key}={value!r} must be seconds (integer) or a duration like "
            f'"7d", "12h", "30m", "45s"'
        )
    if not lo <= seconds <= hi:
        raise ConfigError(f"{source}: {key}={value!r} ({seconds} s) is out of range {lo}..{hi} s")
    return seconds


def check_watt(source: str, key: str, value: Any, lo: Decimal = Decimal(0)) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ConfigError(f"{source}: {key}={value!r} must be a WATT amount (number)")
    try:
        amount = Decimal(str(value).replace("_", ""))
    except InvalidOperation as exc:
        raise ConfigError(f"{source}: {key}={value!r} must be a WATT amount (number)") from exc
    if not amount.is_finite() or not lo <= amount <= MAX_WATT:
        raise ConfigError(f"{source}: {key}={value} is out of range {lo}..{MAX_WATT} WATT")
    if amount != amount.quantize(Decimal(1).scaleb(-WATT_DECIMALS)):
        raise ConfigError(f"{source}: {key}={value} has more than {WATT_DECIMALS} decimals")
    return amount.normalize() if amount != amount.to_integral_value() else Decimal(int(amount))


def to_wei(amount: Decimal) -> int:
    """WATT (whole tokens, up to 18 decimals) to wei."""
    return int(amount * WEI_PER_WATT)


# ---- sections ---------------------------------------------------------------------------------

_TOP = (
    "network",
    "token",
    "staking",
    "registry",
    "credits",
    "settlement",
    "rewards",
    "governance",
    "model",
)


def _token(src: str, raw: Any) -> TokenParams:
    r = _Reader(src, "token", raw, ("cap",))
    return TokenParams(cap=r.watt("cap", 1_000_000_000, lo=Decimal(1)))


def _staking(src: str, raw: Any) -> StakingParams:
    r = _Reader(
        src,
        "staking",
        raw,
        (
            "min_stake_per_station",
            "unbonding_delay",
            "slash_destination",
            "equivocation_slash",
            "equivocation_bounty_bps",
        ),
    )
    dest = r.get("slash_destination", "treasury")
    if dest not in {d.value for d in SlashDestination}:
        raise r.error(r.key("slash_destination"), f"={dest!r} must be one of: treasury, burn")
    stake = r.watt("min_stake_per_station", 1_000)
    slash = r.watt("equivocation_slash", 500)
    if slash > stake:
        raise r.error(
            r.key("equivocation_slash"),
            f"={slash} exceeds staking.min_stake_per_station={stake} (a slash must be covered)",
        )
    return StakingParams(
        min_stake_per_station=stake,
        unbonding_delay=r.duration("unbonding_delay", 7 * 86_400, lo=60),
        slash_destination=SlashDestination(dest),
        equivocation_slash=slash,
        equivocation_bounty_bps=r.integer("equivocation_bounty_bps", 1_000, 0, 5_000),
    )


def _registry(src: str, raw: Any) -> RegistryParams:
    r = _Reader(
        src, "registry", raw, ("region_multipliers", "min_tariff_per_kwh", "max_tariff_per_kwh")
    )
    multipliers = r.get("region_multipliers", {}) or {}
    if not isinstance(multipliers, Mapping):
        raise r.error(r.key("region_multipliers"), "must map geohash prefixes to bps")
    pairs: list[tuple[str, int]] = []
    for prefix, bps in multipliers.items():
        key = r.key(f"region_multipliers.{prefix}")
        p = str(prefix)
        if not 1 <= len(p) <= 6 or any(c not in GEOHASH_ALPHABET for c in p):
            raise r.error(
                key, f"is not a geohash prefix (1..6 chars of {GEOHASH_ALPHABET!r}, lower case)"
            )
        pairs.append((p, check_int(src, key, bps, 5_000, 30_000)))
    lo_t = r.integer("min_tariff_per_kwh", 50_000, 0, 10**15)
    hi_t = r.integer("max_tariff_per_kwh", 2_000_000, 0, 10**15)
    if hi_t < lo_t:
        raise r.error(
            r.key("max_tariff_per_kwh"), f"={hi_t} is below registry.min_tariff_per_kwh={lo_t}"
        )
    return RegistryParams(tuple(sorted(pairs)), lo_t, hi_t)


def _credits(src: str, raw: Any) -> CreditsParams:
    r = _Reader(src, "credits", raw, ("redemption_delay", "stablecoins"))
    coins_raw = r.get("stablecoins", [{"symbol": "USDC", "decimals": 6, "credit_id": 1}])
    if not isinstance(coins_raw, list) or not coins_raw:
        raise r.error(
            r.key("stablecoins"), "must be a non-empty list of {symbol, decimals, credit_id}"
        )
    coins: list[Stablecoin] = []
    for i, item in enumerate(coins_raw):
        c = _Reader(src, r.key(f"stablecoins.{i}"), item, ("symbol", "decimals", "credit_id"))
        coins.append(
            Stablecoin(
                c.text("symbol", None),
                c.integer("decimals", 6, 0, 36),
                c.integer("credit_id", i + 1, 1, 2**32 - 1),
            )
        )
    ids = sorted(coin.credit_id for coin in coins)
    if ids != list(range(1, len(coins) + 1)):
        raise r.error(r.key("stablecoins"), f"credit ids {ids} must be 1..{len(coins)}, each once")
    return CreditsParams(r.duration("redemption_delay", 7 * 86_400), tuple(coins))


def _settlement(src: str, raw: Any) -> SettlementParams:
    r = _Reader(
        src,
        "settlement",
        raw,
        (
            "operator_share_bps",
            "treasury_share_bps",
            "referrer_share_bps",
            "max_settlement_delay",
            "max_session_duration",
        ),
    )
    shares = [
        r.integer(k, d, 0, BPS)
        for k, d in (
            ("operator_share_bps", 8_000),
            ("treasury_share_bps", 1_500),
            ("referrer_share_bps", 500),
        )
    ]
    if sum(shares) != BPS:
        raise r.error(
            "settlement.operator_share_bps+treasury_share_bps+referrer_share_bps",
            f"={'+'.join(map(str, shares))}={sum(shares)} must sum to exactly {BPS}",
        )
    return SettlementParams(
        operator_share_bps=shares[0],
        treasury_share_bps=shares[1],
        referrer_share_bps=shares[2],
        max_settlement_delay=r.duration("max_settlement_delay", 3 * 86_400, lo=60),
        max_session_duration=r.duration("max_session_duration", 2 * 86_400, lo=60),
    )


def _rewards(src: str, raw: Any) -> RewardsParams:
    r = _Reader(
        src, "rewards", raw, ("epoch_length", "phases", "station_epoch_cap_bps", "genesis_supply")
    )
    length = r.duration("epoch_length", EPOCH_LENGTH, lo=0)
    if length != EPOCH_LENGTH:
        raise r.error(
            r.key("epoch_length"),
            f"={length} is not allowed: epochs are fixed at {EPOCH_LENGTH} s (7d)",
        )
    phases_raw = r.get("phases", [])
    if not isinstance(phases_raw, list):
        raise r.error(
            r.key("phases"), "must be a list of {name, epochs, emission_per_epoch, decay_bps}"
        )
    phases: list[Phase] = []
    for i, item in enumerate(phases_raw):
        p = _Reader(
            src, r.key(f"phases.{i}"), item, ("name", "epochs", "emission_per_epoch", "decay_bps")
        )
        phases.append(
            Phase(
                p.text("name", f"phase-{i}"),
                p.integer("epochs", 52, 1, 100_000),
                p.watt("emission_per_epoch", 0),
                p.integer("decay_bps", 0, 0, BPS),
            )
        )
    names = [p.name for p in phases]
    if len(set(names)) != len(names):
        raise r.error(r.key("phases"), f"names {names} must be unique")
    return RewardsParams(
        length,
        tuple(phases),
        r.integer("station_epoch_cap_bps", 5_000, 1, BPS),
        r.watt("genesis_supply", 0),
    )


def _governance(src: str, raw: Any) -> GovernanceParams:
    r = _Reader(
        src,
        "governance",
        raw,
        (
            "voting_delay",
            "voting_period",
            "proposal_threshold",
            "quorum_percent",
            "timelock_delay",
            "late_quorum_extension",
        ),
    )
    return GovernanceParams(
        voting_delay=r.duration("voting_delay", 86_400),
        voting_period=r.duration("voting_period", 7 * 86_400, lo=1),
        proposal_threshold=r.watt("proposal_threshold", 100_000),
        quorum_percent=r.integer("quorum_percent", 4, 1, 50),
        timelock_delay=r.duration("timelock_delay", 2 * 86_400),
        late_quorum_extension=r.duration("late_quorum_extension", 86_400),
    )


# ---- emission schedule ------------------------------------------------------------------------


def emission_schedule_wei(rewards: RewardsParams) -> Iterator[int]:
    """Emission per epoch in wei, epoch 0 first, phase after phase; 0 forever after.

    Inside a phase, epoch k emits ``floor(e0 * (10000 - decay)^k / 10000^k)`` computed as
    ``e_{k+1} = e_k * (10000 - decay) // 10000`` (the contract's integer recurrence).
    """
    for phase in rewards.phases:
        amount = to_wei(phase.emission_per_epoch)
        for _ in range(phase.epochs):
            yield amount
            amount = amount * (BPS - phase.decay_bps) // BPS


def total_emission_wei(rewards: RewardsParams) -> int:
    return sum(emission_schedule_wei(rewards))


def parse_params(raw: Any, source: str, network: str | None = None) -> Params:
    """Validate a parsed YAML document; ``source`` names it in every error."""
    top = _Reader(source, "", raw, _TOP)
    name = network or top.get("network", None) or Path(source).stem
    token = _token(source, top.get("token", None))
    settlement = _settlement(source, top.get("settlement", None))
    credits = _credits(source, top.get("credits", None))
    floor = settlement.max_settlement_delay + settlement.max_session_duration
    if credits.redemption_delay < floor:
        raise ConfigError(
            f"{source}: credits.redemption_delay={credits.redemption_delay} must be >= "
            f"settlement.max_settlement_delay + settlement.max_session_duration = {floor} s"
        )
    rewards = _rewards(source, top.get("rewards", None))
    room = to_wei(token.cap) - to_wei(rewards.genesis_supply)
    if room < 0:
        raise ConfigError(
            f"{source}: rewards.genesis_supply={rewards.genesis_supply} exceeds "
            f"token.cap={token.cap}"
        )
    total = total_emission_wei(rewards)
    if total > room:
        raise ConfigError(
            f"{source}: rewards.phases schedule {total / WEI_PER_WATT:,.0f} WATT exceeds "
            f"token.cap - rewards.genesis_supply = {room / WEI_PER_WATT:,.0f} WATT"
        )
    model = top.get("model", None) or {}
    if not isinstance(model, Mapping):
        raise ConfigError(f"{source}: model must be a mapping")
    params = Params(
        network=str(name),
        source=source,
        token=token,
        staking=_staking(source, top.get("staking", None)),
        registry=_registry(source, top.get("registry", None)),
        credits=credits,
        settlement=settlement,
        rewards=rewards,
        governance=_governance(source, top.get("governance", None)),
        model=copy.deepcopy(dict(model)),
    )
    if params.model:
        # The model section is validated the same way, by the model's own schema (imported
        # lazily: the deploy scripts do not need numpy).
        from wattnet.sim.model.config import parse_model

        parse_model(params)
    return params


def params_dir() -> Path:
    """Where network files live: $WATTNET_PARAMS_DIR, ./params, else the repository's params/."""
    env = os.environ.get(PARAMS_DIR_ENV)
    if env:
        return Path(env)
    local = Path.cwd() / "params"
    if local.is_dir():
        return local
    return Path(__file__).resolve().parents[2] / "params"


def load_params(path_or_network: str | Path) -> Params:
    """Load and validate ``params/<network>.yaml`` (by network name) or a YAML file path."""
    text_path = str(path_or_network)
    is_path = text_path.endswith((".yaml", ".yml")) or "/" in text_path or Path(text_path).is_file()
    path = Path(text_path) if is_path else params_dir() / f"{text_path}.yaml"
    try:
        source = str(path.relative_to(Path.cwd()))
    except ValueError:
        source = str(path)
    if not path.is_file():
        known = sorted(p.stem for p in params_dir().glob("*.yaml"))
        raise ConfigError(f"{source}: no such params file (known networks: {', '.join(known)})")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(
            f"{source}:{where} is not valid YAML ({getattr(exc, 'problem', exc)})"
        ) from exc
    return parse_params(raw, source, None if is_path else text_path)


# ---- back to raw, overrides, chain units ------------------------------------------------------


def _plain(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else str(value)


def params_to_dict(params: Params) -> dict[str, Any]:
    """The YAML-shaped document of ``params`` (``parse_params`` of it gives ``params`` back)."""
    s, st, rg, cr, rw, gv = (
        params.staking,
        params.settlement,
        params.registry,
        params.credits,
        params.rewards,
        params.governance,
    )
    return {
        "network": params.network,
        "token": {"cap": _plain(params.token.cap)},
        "staking": {
            "min_stake_per_station": _plain(s.min_stake_per_station),
            "unbonding_delay": s.unbonding_delay,
            "slash_destination": s.slash_destination.value,
            "equivocation_slash": _plain(s.equivocation_slash),
            "equivocation_bounty_bps": s.equivocation_bounty_bps,
        },
        "registry": {
            "region_multipliers": dict(rg.region_multipliers),
            "min_tariff_per_kwh": rg.min_tariff_per_kwh,
            "max_tariff_per_kwh": rg.max_tariff_per_kwh,
        },
        "credits": {
            "redemption_delay": cr.redemption_delay,
            "stablecoins": [
                {"symbol": c.symbol, "decimals": c.decimals, "credit_id": c.credit_id}
                for c in cr.stablecoins
            ],
        },
        "settlement": {
            "operator_share_bps": st.operator_share_bps,
            "treasury_share_bps": st.treasury_share_bps,
            "referrer_share_bps": st.referrer_share_bps,
            "max_settlement_delay": st.max_settlement_delay,
            "max_session_duration": st.max_session_duration,
        },
        "rewards": {
            "epoch_length": rw.epoch_length,
            "phases": [
                {
                    "name": p.name,
                    "epochs": p.epochs,
                    "emission_per_epoch": _plain(p.emission_per_epoch),
                    "decay_bps": p.decay_bps,
                }
                for p in rw.phases
            ],
            "station_epoch_cap_bps": rw.station_epoch_cap_bps,
            "genesis_supply": _plain(rw.genesis_supply),
        },
        "governance": {
            "voting_delay": gv.voting_delay,
            "voting_period": gv.voting_period,
            "proposal_threshold": _plain(gv.proposal_threshold),
            "quorum_percent": gv.quorum_percent,
            "timelock_delay": gv.timelock_delay,
            "late_quorum_extension": gv.late_quorum_extension,
        },
        "model": copy.deepcopy(dict(params.model)),
    }


def set_path(doc: dict[str, Any], dotted: str, value: Any, source: str) -> None:
    """Set ``a.b.0.c`` in a nested dict/list document; list items also match by ``name``."""
    parts = dotted.split(".")
    node: Any = doc
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        here = ".".join(parts[: i + 1])
        if isinstance(node, list):
            idx = next(
                (
                    j
                    for j, it in enumerate(node)
                    if isinstance(it, Mapping) and it.get("name") == part
                ),
                None,
            )
            if idx is None and part.isdigit() and int(part) < len(node):
                idx = int(part)
            if idx is None:
                raise ConfigError(f"{source}: {here} names no item of the list (index or name)")
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if last:
                node[part] = value
            else:
                if node.get(part) is None:
                    node[part] = {}
                node = node[part]
        else:
            raise ConfigError(f"{source}: {here} cannot be set inside a {type(node).__name__}")


def apply_overrides(params: Params, overrides: Mapping[str, Any]) -> Params:
    """A new validated Params with dotted-key overrides, e.g. ``{"settlement.operator_share_bps":
    7000}``; errors name the overrides and the original file."""
    doc = params_to_dict(params)
    source = f"{params.source} (overrides: {', '.join(overrides)})" if overrides else params.source
    for key, value in overrides.items():
        set_path(doc, key, copy.deepcopy(value), source)
    return parse_params(doc, source, params.network)


def to_chain_units(params: Params) -> dict[str, Any]:
    """Integers the contracts take: WATT in wei (18 decimals), seconds, bps, credit units."""
    d = params_to_dict(params)
    s, rw, gv = params.staking, params.rewards, params.governance
    d["token"] = {"cap": to_wei(params.token.cap)}
    d["staking"].update(
        min_stake_per_station=to_wei(s.min_stake_per_station),
        equivocation_slash=to_wei(s.equivocation_slash),
    )
    d["rewards"].update(genesis_supply=to_wei(rw.genesis_supply))
    for phase, raw in zip(rw.phases, d["rewards"]["phases"], strict=True):
        raw["emission_per_epoch"] = to_wei(phase.emission_per_epoch)
    d["governance"]["proposal_threshold"] = to_wei(gv.proposal_threshold)
    del d["model"]
    return d
