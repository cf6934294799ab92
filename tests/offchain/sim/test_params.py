"""params/<network>.yaml: loading, validation errors, overrides and chain units."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from wattnet.econ.emission import emission_at, phase_bound
from wattnet.errors import ConfigError
from wattnet.params import (
    SlashDestination,
    apply_overrides,
    contract_phases,
    emission_schedule_wei,
    load_params,
    params_to_dict,
    parse_duration,
    parse_params,
    to_chain_units,
    to_wei,
    total_emission_wei,
)

REPO = Path(__file__).resolve().parents[3]
NETWORKS = ("local", "sepolia", "arbitrum-sepolia", "arbitrum")


@pytest.fixture
def doc() -> dict[str, Any]:
    """The arbitrum file as a raw document, to break one key at a time."""
    raw: dict[str, Any] = yaml.safe_load((REPO / "params/arbitrum.yaml").read_text())
    return raw


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    def _write(raw: Any, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(raw) if not isinstance(raw, str) else raw)
        return path

    return _write


def _error(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_params(raw, "params/test.yaml")
    return str(info.value)


@pytest.mark.parametrize("network", NETWORKS)
def test_load_params__every_network_file_is_valid(network: str) -> None:
    p = load_params(REPO / "params" / f"{network}.yaml")
    assert p.network == network
    assert (
        p.settlement.operator_share_bps
        + p.settlement.treasury_share_bps
        + (p.settlement.referrer_share_bps)
        == 10_000
    )
    assert p.credits.redemption_delay >= (
        p.settlement.max_settlement_delay + p.settlement.max_session_duration
    )


def test_load_params__local_has_short_delays_and_names_normalized(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(REPO)
    local, prod = load_params("local"), load_params("arbitrum")
    assert local.staking.unbonding_delay == 3_600
    assert prod.staking.unbonding_delay == 14 * 86_400  # > voting delay + period + timelock
    assert prod.staking.slash_destination is SlashDestination.TREASURY
    assert local.rewards.phases == prod.rewards.phases


def test_load_params__unknown_network_lists_the_known_ones(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(REPO)
    with pytest.raises(ConfigError, match=r"no such params file \(known networks: .*arbitrum"):
        load_params("mainnet-typo")


def test_load_params__invalid_yaml_names_file_and_line(write) -> None:  # type: ignore[no-untyped-def]
    path = write("token:\n  cap: [1,\n")
    with pytest.raises(ConfigError, match=r"net.yaml: line \d+ is not valid YAML"):
        load_params(path)


def test_out_of_range_message_names_file_key_and_range(doc: dict[str, Any]) -> None:
    doc["settlement"]["operator_share_bps"] = 12_000
    assert _error(doc) == (
        "params/test.yaml: settlement.operator_share_bps=12000 is out of range 5000..10000"
    )


BAD_VALUES: list[tuple[str, Any, str]] = [
    ("settlement.operator_share_bps", 7_000, "must sum to exactly 10000"),
    ("staking.equivocation_bounty_bps", 5_001, "bounty_bps=5001 is out of range 0..5000"),
    ("staking.slash_destination", "void", "destination='void' must be one of: treasury, burn"),
    ("staking.equivocation_slash", 2_000, "exceeds staking.min_stake_per_station"),
    ("staking.unbonding_delay", "7 days", "='7 days' must be seconds (integer) or a duration"),
    ("governance.quorum_percent", 51, "governance.quorum_percent=51 is out of range 1..50"),
    ("registry.region_multipliers", {"u0": 40_000}, "multipliers.u0=40000 is out of range"),
    ("registry.region_multipliers", {"ua": 10_000}, "multipliers.ua is not a geohash prefix"),
    ("registry.region_multipliers", {"u0abcde": 1}, "u0abcde is not a geohash prefix"),
    ("registry.max_tariff_per_kwh", 10, "=10 is below registry.min_tariff_per_kwh"),
    ("registry.release_delay", "30d", "(2592000 s) is out of range 8380800..31536000 s"),
    (
        "credits.redemption_delay",
        "4d",
        "credits.redemption_delay=345600 must be >= settlement.max_settlement_delay + "
        "settlement.max_session_duration = 432000 s",
    ),
    (
        "credits.stablecoins",
        [{"symbol": "USDC", "decimals": 6, "credit_id": 2}],
        "credit ids [2] must be 1..1",
    ),
    ("rewards.epoch_length", 86_400, "=86400 is not allowed: epochs are fixed at 604800"),
    (
        "rewards.phases",
        [{"name": "x", "epochs": 1000, "emission_per_epoch": 1_000_000}],
        "exceeds token.cap - rewards.genesis_supply",
    ),
    (
        "rewards.phases",
        [{"name": "x", "epochs": 1, "emission_per_epoch": 1, "decay_bps": 10_001}],
        "rewards.phases.0.decay_bps=10001 is out of range",
    ),
    ("rewards.genesis_supply", "0.0000000000000000001", "has more than 18 decimals"),
    ("token.cap", -5, "token.cap=-5 is out of range"),
    ("token.cap", True, "must be a WATT amount"),
]


@pytest.mark.parametrize(("path", "value", "expected"), BAD_VALUES)
def test_bad_value__clear_error(doc: dict[str, Any], path: str, value: Any, expected: str) -> None:
    section, key = path.split(".")
    doc[section][key] = value
    message = _error(doc)
    assert message.startswith("params/test.yaml: ")
    assert expected in message


@pytest.mark.parametrize("where", ["", "staking", "rewards.phases.0", "model.market", "model"])
def test_unknown_key__names_path_and_allowed_keys(doc: dict[str, Any], where: str) -> None:
    node: Any = doc
    for part in filter(None, where.split(".")):
        node = node[int(part)] if part.isdigit() else node[part]
    node["colour"] = 1
    message = _error(doc)
    full = f"{where}.colour" if where else "colour"
    assert f"params/test.yaml: {full} is not a known key (allowed: " in message


def test_model_section__validated_against_protocol_bounds(doc: dict[str, Any]) -> None:
    doc["model"]["regions"] = [
        {"name": "a", "geohash": "u0", "station_share_bps": 10_000, "tariff_per_kwh": 10}
    ]
    assert "model.regions.0.tariff_per_kwh=10 is out of range 50000..2000000" in _error(doc)
    doc["model"]["regions"][0]["tariff_per_kwh"] = 400_000
    doc["model"]["regions"][0]["station_share_bps"] = 9_000
    assert "station_share_bps sum to 9000, must be 10000" in _error(doc)


@given(st.integers(0, 10**6), st.sampled_from([("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]))
def test_parse_duration__units(n: int, unit: tuple[str, int]) -> None:
    assert parse_duration(f"{n}{unit[0]}") == n * unit[1]
    assert parse_duration(n) == n


def test_emission_schedule__is_the_contracts_fixed_point_power_not_the_recurrence() -> None:
    p = parse_params(
        {
            "rewards": {
                "phases": [
                    {"name": "a", "epochs": 3, "emission_per_epoch": "1.5", "decay_bps": 1_000},
                    {"name": "b", "epochs": 2, "emission_per_epoch": 7},
                ]
            }
        },
        "x.yaml",
    )
    e0 = 15 * 10**17
    # RewardsEngine.emissionOf: e0 * rpow(0.9 WAD, k) // WAD (exact for these small powers)
    assert list(emission_schedule_wei(p.rewards)) == [
        e0, e0 * 9 // 10, e0 * 81 // 100, 7 * 10**18, 7 * 10**18,
    ]
    # over a long phase the fixed-point power and the recurrence e * 9950 // 10000 part by up
    # to ~1.2e7 wei an epoch; the schedule is the contract's
    local = load_params(REPO / "params" / "local.yaml")
    schedule = list(emission_schedule_wei(local.rewards))
    e, worst = to_wei(local.rewards.phases[0].emission_per_epoch), 0
    for k in range(local.rewards.phases[0].epochs):
        assert schedule[k] == emission_at((0, 104, 50, to_wei(Decimal(1_500_000))), k)
        worst = max(worst, abs(schedule[k] - e))
        e = e * 9_950 // 10_000
    assert 10**7 < worst < 2 * 10**7
    assert len(schedule) == sum(ph.epochs for ph in local.rewards.phases)


PHASE = {"name": "p", "epochs": 1, "emission_per_epoch": 1, "decay_bps": 0}


@pytest.mark.parametrize(("key", "value", "ok"), [
    # RewardsEngine: a phase may not decay by 100 %, at most 32 phases, end within uint32
    ("rewards.phases", [dict(PHASE, decay_bps=9_999)], True),
    ("rewards.phases", [dict(PHASE, decay_bps=10_000)], False),
    ("rewards.phases", [dict(PHASE, name=f"p{i}") for i in range(32)], True),
    ("rewards.phases", [dict(PHASE, name=f"p{i}") for i in range(33)], False),
    ("rewards.phases", [dict(PHASE, epochs=2**32 - 1, emission_per_epoch=0)], True),
    ("rewards.phases", [dict(PHASE, epochs=2**32 - 1, emission_per_epoch=0),
                        dict(PHASE, name="q", emission_per_epoch=0)], False),
    # StationRegistry: prefixes of up to 8 characters; 0 is "not set"; tariffs within uint88
    ("registry.region_multipliers", {"u0bcdefg": 12_000}, True),
    ("registry.region_multipliers", {"u0bcdefgh": 12_000}, False),
    ("registry.region_multipliers", {"u0": 0}, True),
    ("registry.region_multipliers", {"u0": 4_999}, False),
    ("registry.max_tariff_per_kwh", 2**88 - 1, True),
    ("registry.max_tariff_per_kwh", 2**88, False),
    # EnergyCredits.listCredit: at most 20 decimals
    ("credits.stablecoins", [{"symbol": "X", "decimals": 20, "credit_id": 1}], True),
    ("credits.stablecoins", [{"symbol": "X", "decimals": 21, "credit_id": 1}], False),
])
def test_load_params__phases_prefixes_tariffs_decimals_within_the_contracts_bounds(
    doc: dict[str, Any], key: str, value: Any, ok: bool
) -> None:
    section, name = key.split(".")
    doc[section][name] = value
    if ok:
        parse_params(doc, "params/test.yaml")
    else:
        _error(doc)


def test_load_params__the_cap_check_is_the_contracts_schedule_bound(doc: dict[str, Any]) -> None:
    # RewardsEngine checks scheduledTotal (each phase's bound, rounded up), a little above the
    # sum of the emissions: a schedule between the two deploys nowhere
    phase = {"name": "p", "epochs": 100, "emission_per_epoch": 1_000_000, "decay_bps": 50}
    doc["rewards"]["phases"] = [phase]
    p = parse_params(doc, "params/test.yaml")
    emitted, bound = total_emission_wei(p.rewards), phase_bound(contract_phases(p.rewards)[0])
    assert emitted < bound
    cap = Decimal(doc["rewards"]["genesis_supply"]) + Decimal(bound - 1) / 10**18
    doc["token"]["cap"] = str(cap)
    assert "exceeds token.cap - rewards.genesis_supply" in _error(doc)
    doc["token"]["cap"] = str(cap + Decimal(1) / 10**18)
    parse_params(doc, "params/test.yaml")


def test_to_chain_units__watt_in_wei_exactly(doc: dict[str, Any]) -> None:
    doc["rewards"]["phases"][0]["emission_per_epoch"] = "1500000.000000000000000001"
    chain = to_chain_units(parse_params(doc, "x.yaml"))
    assert chain["token"]["cap"] == 10**27
    assert chain["staking"]["min_stake_per_station"] == 1_000 * 10**18
    assert chain["rewards"]["phases"][0]["emission_per_epoch"] == 1_500_000 * 10**18 + 1
    assert chain["rewards"]["genesis_supply"] == 200_000_000 * 10**18
    assert chain["settlement"]["max_settlement_delay"] == 3 * 86_400
    assert "model" not in chain


def test_params_to_dict__round_trips(doc: dict[str, Any]) -> None:
    p = parse_params(doc, "x.yaml")
    assert parse_params(params_to_dict(p), "x.yaml") == p


def test_apply_overrides__validated_new_value_original_untouched(doc: dict[str, Any]) -> None:
    p = parse_params(doc, "params/x.yaml")
    q = apply_overrides(
        p,
        {
            "settlement.operator_share_bps": 7_500,
            "settlement.treasury_share_bps": 2_000,
            "rewards.phases.growth.decay_bps": 30,
            "model.market.initial_price": 2.5,
        },
    )
    assert (q.settlement.operator_share_bps, q.settlement.treasury_share_bps) == (7_500, 2_000)
    assert q.rewards.phases[1].decay_bps == 30
    assert q.model["market"]["initial_price"] == 2.5
    assert p.settlement.operator_share_bps == 8_000
    assert p.model["market"]["initial_price"] == 100_000
    with pytest.raises(ConfigError, match=r"params/x.yaml \(overrides: settlement.operator_sh"):
        apply_overrides(p, {"settlement.operator_share_bps": 7_000})
    with pytest.raises(ConfigError, match=r"rewards\.phases\.nope names no item"):
        apply_overrides(p, {"rewards.phases.nope.decay_bps": 1})


def test_region_multiplier__longest_prefix_wins(doc: dict[str, Any]) -> None:
    raw = copy.deepcopy(doc)
    raw["registry"]["region_multipliers"] = {"u": 6_000, "u09": 20_000}
    reg = parse_params(raw, "x.yaml").registry
    assert reg.multiplier_for("u09tvw") == 20_000
    assert reg.multiplier_for("u33d") == 6_000
    assert reg.multiplier_for("9q8y") == 10_000


@pytest.mark.parametrize(("key", "value", "needle"), [
    ("staking.unbonding_delay", "9d", "staking.unbonding_delay=777600 must exceed"),
    ("rewards.challenge_window", "10d", "rewards.challenge_window=864000 must exceed"),
])
def test_params__enforcement_outlasts_governance(key: str, value: str, needle: str) -> None:
    """Stake cannot leave, and escrowed rewards cannot be claimed, before a slash or a forfeit
    that a vote decides can execute (arbitrum: 1d + 7d + 2d = 10d)."""
    with pytest.raises(ConfigError, match=needle):
        apply_overrides(load_params("arbitrum"), {key: value})
