"""Section parsers and whole-file validation (:func:`parse_params`)."""


import copy
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from wattnet.econ.units import MAX_EPOCH, MAX_PHASES
from wattnet.errors import ConfigError
from wattnet.params.checks import Reader, check_int, to_wei
from wattnet.params.schedule import check_schedule
from wattnet.params.values import (
    BPS,
    CHALLENGE_WINDOW_S,
    COMMITTEE_BOUNTY_BPS,
    COMMITTEE_MEMBERS,
    COMMITTEE_STAKE_WATT,
    COMMITTEE_UNBONDING_S,
    CREDIT_DECIMALS,
    EPOCH_LENGTH,
    FEE_MULTIPLE_BPS,
    GEOHASH_ALPHABET,
    GEOHASH_PREFIX_CHARS,
    LATE_QUORUM_S,
    MAX_BOUNTY_BPS,
    MAX_PROPOSAL_THRESHOLD_WATT,
    MAX_REFERRER_SHARE_BPS,
    MIN_OPERATOR_SHARE_BPS,
    OVERLAP_TOLERANCE_S,
    PRICE_FLOOR_USD,
    QUORUM_PERCENT,
    REDEMPTION_DELAY_S,
    REGION_MULTIPLIER_BPS,
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
    CommitteeParams,
    CreditsParams,
    GovernanceParams,
    Params,
    Phase,
    RegistryParams,
    RewardsParams,
    SettlementParams,
    SlashDestination,
    Stablecoin,
    StakingParams,
    TokenParams,
)

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
    "committee",
    "model",
)


def _token(src: str, raw: Any) -> TokenParams:
    r = Reader(src, "token", raw, ("cap",))
    return TokenParams(cap=r.watt("cap", 1_000_000_000, lo=Decimal(1)))


def _staking(src: str, raw: Any) -> StakingParams:
    r = Reader(
        src,
        "staking",
        raw,
        (
            "min_stake_per_station",
            "unbonding_delay",
            "slash_destination",
            "equivocation_slash",
            "equivocation_bounty_bps",
            "stake_per_kw",
            "overlap_tolerance",
        ),
    )
    dest = r.get("slash_destination", "treasury")
    if not isinstance(dest, str) or dest not in {d.value for d in SlashDestination}:
        raise r.error(r.key("slash_destination"), f"={dest!r} must be one of: treasury, burn")
    stake = r.watt("min_stake_per_station", 1_000, *STAKE_WATT)
    slash = r.watt("equivocation_slash", 500, *STAKE_WATT)
    if slash > stake:
        raise r.error(
            r.key("equivocation_slash"),
            f"={slash} exceeds staking.min_stake_per_station={stake} (a slash must be covered)",
        )
    return StakingParams(
        min_stake_per_station=stake,
        unbonding_delay=r.duration("unbonding_delay", 14 * 86_400, *UNBONDING_DELAY_S),
        slash_destination=SlashDestination(dest),
        equivocation_slash=slash,
        equivocation_bounty_bps=r.integer("equivocation_bounty_bps", 1_000, 0, MAX_BOUNTY_BPS),
        stake_per_kw=r.watt("stake_per_kw", 0, *STAKE_PER_KW_WATT),
        overlap_tolerance=r.duration("overlap_tolerance", 0, *OVERLAP_TOLERANCE_S),
    )


def _registry(src: str, raw: Any) -> RegistryParams:
    r = Reader(
        src, "registry", raw,
        ("region_multipliers", "min_tariff_per_kwh", "max_tariff_per_kwh",
         "uncertified_reward_bps", "release_delay"),
    )
    multipliers = r.get("region_multipliers", {}) or {}
    if not isinstance(multipliers, Mapping):
        raise r.error(r.key("region_multipliers"), "must map geohash prefixes to bps")
    pairs: list[tuple[str, int]] = []
    for prefix, bps in multipliers.items():
        key = r.key(f"region_multipliers.{prefix}")
        p = str(prefix)
        lo_n, hi_n = GEOHASH_PREFIX_CHARS
        if not lo_n <= len(p) <= hi_n or any(c not in GEOHASH_ALPHABET for c in p):
            raise r.error(key, f"is not a geohash prefix ({lo_n}..{hi_n} chars of "
                               f"{GEOHASH_ALPHABET!r}, lower case)")
        # 0 is the registry's "not set" (10000, as for an unlisted prefix)
        not_set = bps == 0 and not isinstance(bps, bool)
        pairs.append((p, 0 if not_set else check_int(src, key, bps, *REGION_MULTIPLIER_BPS)))
    lo_t = r.integer("min_tariff_per_kwh", 50_000, *TARIFF_PER_KWH)
    hi_t = r.integer("max_tariff_per_kwh", 2_000_000, *TARIFF_PER_KWH)
    if hi_t < lo_t:
        raise r.error(
            r.key("max_tariff_per_kwh"), f"={hi_t} is below registry.min_tariff_per_kwh={lo_t}"
        )
    return RegistryParams(tuple(sorted(pairs)), lo_t, hi_t,
                          r.integer("uncertified_reward_bps", 0, *UNCERTIFIED_REWARD_BPS),
                          r.duration("release_delay", 120 * 86_400, *RELEASE_DELAY_S))


def _credits(src: str, raw: Any) -> CreditsParams:
    r = Reader(src, "credits", raw, ("redemption_delay", "stablecoins"))
    coins_raw = r.get("stablecoins", [{"symbol": "USDC", "decimals": 6, "credit_id": 1}])
    if not isinstance(coins_raw, list) or not coins_raw:
        raise r.error(
            r.key("stablecoins"), "must be a non-empty list of {symbol, decimals, credit_id}"
        )
    coins: list[Stablecoin] = []
    for i, item in enumerate(coins_raw):
        c = Reader(src, r.key(f"stablecoins.{i}"), item, ("symbol", "decimals", "credit_id"))
        coins.append(
            Stablecoin(
                c.text("symbol", None),
                c.integer("decimals", 6, *CREDIT_DECIMALS),
                c.integer("credit_id", i + 1, 1, 2**32 - 1),
            )
        )
    ids = sorted(coin.credit_id for coin in coins)
    if ids != list(range(1, len(coins) + 1)):
        raise r.error(r.key("stablecoins"), f"credit ids {ids} must be 1..{len(coins)}, each once")
    return CreditsParams(r.duration("redemption_delay", 7 * 86_400, *REDEMPTION_DELAY_S),
                         tuple(coins))


def _settlement(src: str, raw: Any) -> SettlementParams:
    r = Reader(
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
        r.integer(k, d, lo, hi)
        for k, d, lo, hi in (
            ("operator_share_bps", 8_000, MIN_OPERATOR_SHARE_BPS, BPS),
            ("treasury_share_bps", 1_500, 0, BPS),
            ("referrer_share_bps", 500, 0, MAX_REFERRER_SHARE_BPS),
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
        max_settlement_delay=r.duration("max_settlement_delay", 3 * 86_400, *SETTLEMENT_DELAY_S),
        max_session_duration=r.duration("max_session_duration", 2 * 86_400, *SESSION_DURATION_S),
    )


def _rewards(src: str, raw: Any) -> RewardsParams:
    r = Reader(
        src, "rewards", raw,
        ("epoch_length", "phases", "station_epoch_cap_bps", "genesis_supply", "challenge_window",
         "fee_multiple_bps", "watt_price_floor"),
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
            r.key("phases"),
            f"={phases_raw!r} must be a list of {{name, epochs, emission_per_epoch, decay_bps}}"
        )
    if len(phases_raw) > MAX_PHASES:
        raise r.error(r.key("phases"), f"has {len(phases_raw)} phases; RewardsEngine allows "
                                       f"{MAX_PHASES} (MAX_PHASES)")
    phases: list[Phase] = []
    for i, item in enumerate(phases_raw):
        p = Reader(
            src, r.key(f"phases.{i}"), item, ("name", "epochs", "emission_per_epoch", "decay_bps")
        )
        phases.append(
            Phase(
                p.text("name", f"phase-{i}"),
                # epochs end within uint32 (checked with the whole schedule below)
                p.integer("epochs", 52, 1, MAX_EPOCH),
                p.watt("emission_per_epoch", 0),
                # RewardsEngine rejects a phase that decays by 100 % (RewardsBadSchedule)
                p.integer("decay_bps", 0, 0, BPS - 1),
            )
        )
    if sum(ph.epochs for ph in phases) > MAX_EPOCH:
        raise r.error(r.key("phases"), f"end after epoch {MAX_EPOCH} (a uint32 on chain)")
    names = [p.name for p in phases]
    if len(set(names)) != len(names):
        raise r.error(r.key("phases"), f"names {names} must be unique")
    return RewardsParams(
        length,
        tuple(phases),
        r.integer("station_epoch_cap_bps", 5_000, *STATION_CAP_BPS),
        r.watt("genesis_supply", 0),
        r.duration("challenge_window", 30 * 86_400, *CHALLENGE_WINDOW_S),
        r.integer("fee_multiple_bps", 5_000, *FEE_MULTIPLE_BPS),
        # USD has 18 decimals on chain, like WATT: the same reader and precision rules.
        r.watt("watt_price_floor", Decimal("0.10"), *PRICE_FLOOR_USD),
    )


def _governance(src: str, raw: Any) -> GovernanceParams:
    r = Reader(
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
    period = r.duration("voting_period", 7 * 86_400, *VOTING_PERIOD_S)
    extension = r.duration("late_quorum_extension", 86_400, *LATE_QUORUM_S)
    if extension > period:  # GovernorPreventLateQuorumVoteExtensionTooLarge
        raise r.error(r.key("late_quorum_extension"),
                      f"={extension} exceeds governance.voting_period={period} (OpenZeppelin's "
                      f"GovernorPreventLateQuorum refuses an extension longer than the vote)")
    return GovernanceParams(
        voting_delay=r.duration("voting_delay", 86_400, *VOTING_DELAY_S),
        voting_period=period,
        proposal_threshold=r.watt("proposal_threshold", 100_000,
                                  hi=MAX_PROPOSAL_THRESHOLD_WATT),
        quorum_percent=r.integer("quorum_percent", 4, *QUORUM_PERCENT),
        timelock_delay=r.duration("timelock_delay", 2 * 86_400, *TIMELOCK_DELAY_S),
        late_quorum_extension=extension,
    )


def _committee(src: str, raw: Any) -> CommitteeParams | None:
    if raw is None:
        return None
    r = Reader(src, "committee", raw, ("min_stake", "unbonding_delay", "bounty_bps",
                                       "threshold"))
    return CommitteeParams(
        min_stake=r.watt("min_stake", 10_000, *COMMITTEE_STAKE_WATT),
        unbonding_delay=r.duration("unbonding_delay", 21 * 86_400, *COMMITTEE_UNBONDING_S),
        bounty_bps=r.integer("bounty_bps", 1_000, 0, COMMITTEE_BOUNTY_BPS),
        threshold=r.integer("threshold", 2, *COMMITTEE_MEMBERS),
    )


def parse_params(raw: Any, source: str, network: str | None = None) -> Params:
    """Validate a parsed YAML document; ``source`` names it in every error."""
    top = Reader(source, "", raw, _TOP)
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
    check_schedule(rewards, room, source)
    model = top.get("model", None) or {}
    if not isinstance(model, Mapping):
        raise ConfigError(f"{source}: model must be a mapping")
    governance = _governance(source, top.get("governance", None))
    vote = governance.voting_delay + governance.voting_period + governance.timelock_delay
    if rewards.challenge_window <= vote:
        raise ConfigError(
            f"{source}: rewards.challenge_window={rewards.challenge_window} must exceed "
            f"governance.voting_delay + voting_period + timelock_delay = {vote} s (a finding "
            f"that needs a vote must be able to forfeit rewards before they are claimable)"
        )
    staking = _staking(source, top.get("staking", None))
    if staking.unbonding_delay <= vote:
        raise ConfigError(
            f"{source}: staking.unbonding_delay={staking.unbonding_delay} must exceed "
            f"governance.voting_delay + voting_period + timelock_delay = {vote} s (stake must "
            f"not be able to leave before a slash decided by a vote can execute)"
        )
    params = Params(
        network=str(name),
        source=source,
        token=token,
        staking=staking,
        registry=_registry(source, top.get("registry", None)),
        credits=credits,
        settlement=settlement,
        rewards=rewards,
        governance=governance,
        model=copy.deepcopy(dict(model)),
        committee=_committee(source, top.get("committee", None)),
    )
    if params.model:
        # The model section is validated the same way, by the model's own schema (imported
        # lazily: the deploy scripts do not need numpy).
        from wattnet.sim.model.config import parse_model

        parse_model(params)
    return params
