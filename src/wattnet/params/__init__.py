"""Protocol parameters, one source of truth: ``params/<network>.yaml``.

The deploy script, the DAO change scripts and the simulator read this same format through
:func:`load_params`. Every value has a unit and bounds; every error is a :class:`ConfigError`
naming the file, the key path and what is allowed.

Units in the file: WATT amounts are whole tokens (decimals allowed, at most 18 places); durations
are seconds or strings ``"7d"``, ``"12h"``, ``"30m"``, ``"45s"``; shares are basis points (bps,
10000 = 100 %); tariffs and other money are credit units (smallest stablecoin units).
:func:`to_chain_units` turns WATT into wei (18 decimals) for the contracts.

Modules: ``values`` (units, bounds, dataclasses), ``checks`` (reading helpers), ``sections``
(section parsers, :func:`parse_params`), ``schedule`` (the emission schedule, checked as
RewardsEngine checks it), ``files`` (loading, overrides, chain units); everything is importable
from here. The bounds are the contracts' own (tests/contracts/unit/test_parity_params.py).

The optional ``model:`` section holds assumptions only the economic model uses (see
:mod:`wattnet.sim.model.config`).
"""

from __future__ import annotations

from wattnet.params.checks import (
    Reader,
    check_duration,
    check_float,
    check_int,
    check_watt,
    parse_duration,
    to_wei,
)
from wattnet.params.files import (
    apply_overrides,
    load_params,
    params_dir,
    params_to_dict,
    set_path,
    to_chain_units,
)
from wattnet.params.schedule import (
    contract_phases,
    emission_schedule_wei,
    total_emission_wei,
)
from wattnet.params.sections import parse_params
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
    MAX_DURATION,
    MAX_PROPOSAL_THRESHOLD_WATT,
    MAX_REFERRER_SHARE_BPS,
    MAX_WATT,
    MIN_OPERATOR_SHARE_BPS,
    OVERLAP_TOLERANCE_S,
    PARAMS_DIR_ENV,
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
    WATT_DECIMALS,
    WEI_PER_WATT,
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

__all__ = [
    "BPS",
    "CHALLENGE_WINDOW_S",
    "COMMITTEE_BOUNTY_BPS",
    "COMMITTEE_MEMBERS",
    "COMMITTEE_STAKE_WATT",
    "COMMITTEE_UNBONDING_S",
    "CREDIT_DECIMALS",
    "EPOCH_LENGTH",
    "FEE_MULTIPLE_BPS",
    "GEOHASH_ALPHABET",
    "GEOHASH_PREFIX_CHARS",
    "LATE_QUORUM_S",
    "MAX_BOUNTY_BPS",
    "MAX_DURATION",
    "MAX_PROPOSAL_THRESHOLD_WATT",
    "MAX_REFERRER_SHARE_BPS",
    "MAX_WATT",
    "MIN_OPERATOR_SHARE_BPS",
    "OVERLAP_TOLERANCE_S",
    "PARAMS_DIR_ENV",
    "PRICE_FLOOR_USD",
    "QUORUM_PERCENT",
    "REDEMPTION_DELAY_S",
    "REGION_MULTIPLIER_BPS",
    "RELEASE_DELAY_S",
    "SESSION_DURATION_S",
    "SETTLEMENT_DELAY_S",
    "STAKE_PER_KW_WATT",
    "STAKE_WATT",
    "STATION_CAP_BPS",
    "TARIFF_PER_KWH",
    "TIMELOCK_DELAY_S",
    "UNBONDING_DELAY_S",
    "UNCERTIFIED_REWARD_BPS",
    "VOTING_DELAY_S",
    "VOTING_PERIOD_S",
    "WATT_DECIMALS",
    "WEI_PER_WATT",
    "CommitteeParams",
    "CreditsParams",
    "GovernanceParams",
    "Params",
    "Phase",
    "Reader",
    "RegistryParams",
    "RewardsParams",
    "SettlementParams",
    "SlashDestination",
    "Stablecoin",
    "StakingParams",
    "TokenParams",
    "apply_overrides",
    "check_duration",
    "check_float",
    "check_int",
    "check_watt",
    "contract_phases",
    "emission_schedule_wei",
    "load_params",
    "params_dir",
    "params_to_dict",
    "parse_duration",
    "parse_params",
    "set_path",
    "to_chain_units",
    "to_wei",
    "total_emission_wei",
]
