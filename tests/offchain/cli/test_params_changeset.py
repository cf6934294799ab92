"""Change sets and the governed-parameter table, without a chain: parsing, validation (one line
naming the key and the allowed range), the table's bounds against wattnet.params, and the calls
built for every parameter."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from eth_abi.abi import decode

from wattnet.cli.params import params as params_cli
from wattnet.errors import ConfigError
from wattnet.governance.changeset import (
    current_of,
    load_change_set,
    parse_change_set,
    proposed,
)
from wattnet.governance.table import (
    PARAMS,
    REGION_PREFIX,
    SETTERS,
    TREASURY_SHARE,
    Unit,
    arg_types,
    build_calls,
    lookup,
    selector,
)
from wattnet.params import apply_overrides, load_params

REPO = Path(__file__).resolve().parents[3]
LOCAL = load_params(REPO / "params" / "local.yaml")
EXAMPLE = REPO / "changes" / "example-raise-rural-multiplier.yaml"


def cs(changes: dict[str, Any], description: str = "test change") -> Any:
    return parse_change_set({"description": description, "changes": changes}, "changes/t.yaml")


def error_of(changes: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        proposed(cs(changes), LOCAL)
    message = str(info.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- parsing


def test_example_change_set__parses_and_validates_against_every_network() -> None:
    change_set = load_change_set(EXAMPLE)
    assert change_set.name == "example-raise-rural-multiplier"
    assert "u0" in change_set.description
    for network in ("local", "sepolia", "arbitrum-sepolia", "arbitrum"):
        _, values = proposed(change_set, load_params(REPO / "params" / f"{network}.yaml"))
        assert values == {"registry.region_multipliers.u0": 13000,
                          "settlement.operator_share_bps": 7800, TREASURY_SHARE: 1700}


def test_parse__nested_keys_flatten_like_dotted_ones() -> None:
    nested = parse_change_set({"description": "d", "changes": {
        "registry": {"region_multipliers": {"u0": 13000}},
        "staking": {"unbonding_delay": "2h"}}}, "c.yaml")
    assert nested.changes == {"registry.region_multipliers.u0": 13000,
                              "staking.unbonding_delay": "2h"}


@pytest.mark.parametrize("raw, fragment", [
    ([1, 2], "must be a mapping"),
    ({"changes": {"staking.unbonding_delay": 7200}}, "description must be a non-empty string"),
    ({"description": "d"}, "changes must map at least one parameter"),
    ({"description": "d", "changes": {}}, "changes must map at least one parameter"),
    ({"description": "d", "changes": {"x": 1}, "extra": 1}, "extra is not a known key"),
    ({"description": "d", "changes": {"staking.unbonding_delay": 1,
                                      "staking": {"unbonding_delay": 2}}}, "is given twice"),
])
def test_parse__rejects_bad_shapes_with_one_line(raw: Any, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment) as info:
        parse_change_set(raw, "changes/t.yaml")
    assert str(info.value).startswith("changes/t.yaml: ")


def test_parse__unknown_key_names_it_and_the_allowed_keys_of_its_section() -> None:
    with pytest.raises(ConfigError) as info:
        cs({"staking.unbonding_dealy": 7200})
    msg = str(info.value)
    assert "changes.staking.unbonding_dealy is not a governed parameter" in msg
    assert "staking.unbonding_delay" in msg and "governance." not in msg


@pytest.mark.parametrize("key, why", [
    ("token.cap", "immutable"), ("rewards.genesis_supply", "minted at deployment"),
    ("model.stations", "not on chain"),
    ("credits.stablecoins", "listCredit"), ("rewards.epoch_length", "one week"),
])
def test_parse__keys_no_vote_can_change_say_why(key: str, why: str) -> None:
    with pytest.raises(ConfigError, match=f"changes.{key} cannot be changed by a vote.*{why}"):
        cs({key: 1})


def test_load__missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such change set"):
        load_change_set(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("description: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: line \d+ is not valid YAML"):
        load_change_set(bad)


# ---------------------------------------------------------------- values and bounds


@pytest.mark.parametrize("changes, fragment", [
    ({"settlement.operator_share_bps": 12000}, "settlement.operator_share_bps=12000 is out of "
                                               "range 5000..10000"),
    ({"registry.region_multipliers.u0": 40000}, "registry.region_multipliers.u0=40000 is out of "
                                                "range 5000..30000"),
    ({"registry.region_multipliers.UK": 12000}, "is not a geohash prefix"),
    ({"staking.equivocation_bounty_bps": 6000}, "out of range 0..5000"),
    ({"staking.unbonding_delay": "1w"}, 'must be seconds (integer) or a duration like "7d"'),
    ({"governance.quorum_percent": 60}, "governance.quorum_percent=60 is out of range 1..50"),
    ({"staking.slash_destination": "void"}, "must be one of: treasury, burn"),
    ({"credits.redemption_delay": 3600}, "credits.redemption_delay=3600 must be >= "),
    ({"settlement.treasury_share_bps": 2000}, "must sum to exactly 10000"),
    # the contracts' own bounds, tighter than the file's
    # wattnet.params enforces the contracts' own bounds
    ({"staking.unbonding_delay": 120},
     "staking.unbonding_delay=120 (120 s) is out of range 3600..7776000 s"),
    ({"settlement.operator_share_bps": 4000, "settlement.referrer_share_bps": 500},
     "settlement.operator_share_bps=4000 is out of range 5000..10000"),
    ({"settlement.referrer_share_bps": 2500, "settlement.operator_share_bps": 7000},
     "settlement.referrer_share_bps=2500 is out of range 0..2000"),
    ({"rewards.station_epoch_cap_bps": 500},
     "rewards.station_epoch_cap_bps=500 is out of range 1000..10000"),
    ({"governance.voting_period": "1m"},
     "governance.voting_period='1m' (60 s) is out of range 300..5184000 s"),
    ({"governance.timelock_delay": 0},
     "governance.timelock_delay=0 (0 s) is out of range 60..2592000 s"),
    ({"staking.min_stake_per_station": "0.5", "staking.equivocation_slash": "0.5"},
     "staking.min_stake_per_station=0.5 is out of range 1..10000000 WATT"),
])
def test_values__out_of_bounds_is_one_line_naming_key_and_range(changes: dict[str, Any],
                                                                fragment: str) -> None:
    msg = error_of(changes)
    assert msg.startswith("changes/t.yaml: ")
    assert fragment in msg


def test_values__operator_share_alone_moves_the_treasury_share() -> None:
    after, values = proposed(cs({"settlement.operator_share_bps": 7800}), LOCAL)
    assert values[TREASURY_SHARE] == 1700
    assert after.settlement.treasury_share_bps == 1700
    assert after.settlement.referrer_share_bps == LOCAL.settlement.referrer_share_bps


def test_values__durations_and_watt_are_normalized() -> None:
    _, values = proposed(cs({"staking.unbonding_delay": "2h",
                             "governance.proposal_threshold": "150_000.5"}), LOCAL)
    assert values == {"staking.unbonding_delay": 7200,
                      "governance.proposal_threshold": "150000.5"}


def test_values__network_pin_must_match() -> None:
    pinned = parse_change_set({"description": "d", "network": "sepolia",
                               "changes": {"staking.unbonding_delay": 7200}}, "c.yaml")
    with pytest.raises(ConfigError, match="is for network 'sepolia', not 'local'"):
        proposed(pinned, LOCAL)


def _probe(key: str, value: Any) -> str:
    with pytest.raises(ConfigError) as info:
        apply_overrides(LOCAL, {key: value})
    return str(info.value)


@pytest.mark.parametrize("param", [p for p in PARAMS if p.unit is not Unit.CHOICE],
                         ids=lambda p: p.key)
def test_table__bounds_agree_with_wattnet_params(param: Any) -> None:
    """The table only describes bounds; wattnet.params enforces them: just outside each end
    fails with exactly the table's range."""
    lo, hi = param.params_lo, param.params_hi
    step = Decimal("0.5") if param.unit is Unit.WATT else 1
    for outside in (lo - step, hi + step):
        value = str(outside) if param.unit is Unit.WATT else int(outside)
        assert f"{lo}..{hi}" in _probe(param.key, value)


# ---------------------------------------------------------------- calls


def _value_for(key: str) -> Any:
    return {"staking.slash_destination": "burn", "staking.min_stake_per_station": 1500,
            "staking.equivocation_slash": 400, "credits.redemption_delay": 10800}.get(key)


@pytest.mark.parametrize("param", PARAMS, ids=lambda p: p.key)
def test_calls__each_parameter_encodes_its_setter_with_the_others_from_current(param: Any
                                                                               ) -> None:
    current = current_of(LOCAL, [p.key for p in PARAMS])
    new = _value_for(param.key)
    if new is None and param.unit is Unit.USD:  # a decimal string in the file ("0.1")
        new = str(Decimal(str(current[param.key])) + Decimal("0.05"))
    if new is None:
        new = current[param.key] + (1 if param.unit is not Unit.WATT else 100)
    calls = build_calls({param.key: new}, current)
    assert len(calls) == 1
    (call,) = calls
    setter = next(s for s in SETTERS if param.key in s.keys)
    assert (call.contract, call.signature) == (param.contract, setter.signature)
    assert call.calldata[:4] == selector(setter.signature)
    decoded = decode(arg_types(setter.signature), call.calldata[4:])
    args = decoded[0] if setter.tuple_arg else decoded
    for key, arg in zip(setter.keys, args, strict=True):
        p = lookup(key)
        assert p is not None
        expected = new if key == param.key else current[key]
        from wattnet.governance.table import to_chain

        assert arg == to_chain(p, expected)


def test_calls__region_multiplier_is_bytes8_and_treasury_share_sends_nothing() -> None:
    calls = build_calls({REGION_PREFIX + "sp3e": 8000, TREASURY_SHARE: 1700}, {})
    assert [(c.contract, c.args) for c in calls] == [
        ("StationRegistry", (b"sp3e\x00\x00\x00\x00", 8000))]


# ---------------------------------------------------------------- CLI, offline


def test_cli_check_and_table(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(params_cli, ["check", str(EXAMPLE), "--params",
                                    str(REPO / "params" / "local.yaml")])
    assert ok.exit_code == 0, ok.output
    assert "registry.region_multipliers.u0=13000" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"description": "d",
                                   "changes": {"settlement.operator_share_bps": 12000}}))
    res = runner.invoke(params_cli, ["check", str(bad), "--params",
                                     str(REPO / "params" / "local.yaml")])
    assert res.exit_code == 2
    assert res.output.strip().count("\n") == 0
    assert "settlement.operator_share_bps=12000 is out of range 5000..10000" in res.output
    assert "Traceback" not in res.output
    table = runner.invoke(params_cli, ["table", "--json"])
    assert table.exit_code == 0
    assert "setEquivocationPenalty(uint256,uint256)" in table.output


def test_calls__values_already_on_chain_send_nothing() -> None:
    current = current_of(LOCAL, [p.key for p in PARAMS])
    assert build_calls({"staking.unbonding_delay": "1h", "settlement.operator_share_bps": 8000},
                       current) == []
    (call,) = build_calls({"staking.unbonding_delay": "1h",
                           "settlement.referrer_share_bps": 600}, current)
    assert call.signature == "setShares(uint16,uint16)"


# ---------------------------------------------------------------- --simulate


def test_simulate__same_params_change_nothing_and_a_change_moves_outcomes() -> None:
    from wattnet.governance.simulate import SimSettings, compare

    small = SimSettings(runs=2, days=371, stations=200)
    same = compare(LOCAL, LOCAL, small)
    labels = [r.label for r in same]
    assert any(lbl.startswith("operator payback, ") for lbl in labels)
    assert "treasury fee income overtakes emission value" in labels
    assert all(r.delta == 0 or r.delta != r.delta for r in same)  # 0, or nan for inf vs inf
    after, _ = proposed(cs({"settlement.operator_share_bps": 6000,
                            "settlement.referrer_share_bps": 500}), LOCAL)
    moved = {r.key: r for r in compare(LOCAL, after, small)}
    assert moved["treasury_final"].proposed > moved["treasury_final"].current


def test_ape_run_script_is_the_same_group() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("params_script", REPO / "scripts" / "params.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.cli is params_cli


# ---------------------------------------------------------------- emission schedule


def test_schedule__a_phase_field_by_name_yields_the_whole_new_schedule() -> None:
    _, values = proposed(cs({"rewards.phases.growth.emission_per_epoch": 500_000}), LOCAL)
    phases = values["rewards.phases"]
    assert [p["name"] for p in phases] == ["bootstrap", "growth", "mature"]
    assert phases[1]["emission_per_epoch"] == 500_000
    assert phases[0] == {"name": "bootstrap", "epochs": 104, "emission_per_epoch": 1_500_000,
                         "decay_bps": 50}


def test_schedule__over_the_cap_is_refused_by_wattnet_params() -> None:
    msg = error_of({"rewards.phases.mature.emission_per_epoch": 100_000_000})
    assert "rewards.phases schedule" in msg and "exceeds token.cap - rewards.genesis_supply" in msg


def _plan(new: list[Any], from_epoch: int, max_emission: int = 10**40) -> Any:
    from wattnet.governance.schedule import plan_schedule, to_abs

    return plan_schedule(new, to_abs(LOCAL.rewards.phases), from_epoch, 1_000, max_emission,
                         "c.yaml")


def test_schedule__restarts_the_straddling_phase_at_the_chain_emission() -> None:
    from wattnet.governance.schedule import emission_at, phase_bound, to_abs

    doc = [{"name": p.name, "epochs": p.epochs, "emission_per_epoch": int(p.emission_per_epoch),
            "decay_bps": p.decay_bps} for p in LOCAL.rewards.phases]
    doc[1]["emission_per_epoch"] = 500_000  # growth: epochs 104..312, not started
    plan = _plan(doc, 10)
    old = to_abs(LOCAL.rewards.phases)
    assert plan.next[0] == (10, 104, 50, emission_at(old[0], 10))
    assert plan.next[1] == (104, 312, 20, 500_000 * 10**18)
    assert plan.execute_by == 1_000 + 10 * 604_800 - 1
    # the contract's bound covers what the recurrence would emit
    assert phase_bound(old[0]) >= sum(emission_at(old[0], e) for e in range(0, 104))


def test_schedule__changing_epochs_before_the_cut_is_refused() -> None:
    doc = [{"name": p.name, "epochs": p.epochs, "emission_per_epoch": int(p.emission_per_epoch),
            "decay_bps": p.decay_bps} for p in LOCAL.rewards.phases]
    doc[0]["emission_per_epoch"] = 1_400_000
    with pytest.raises(ConfigError, match="changes epochs before 10"):
        _plan(doc, 10)
    doc[0]["emission_per_epoch"] = 1_500_000
    doc[2]["decay_bps"] = 10_000
    with pytest.raises(ConfigError, match="must be below 10000"):
        _plan(doc, 10)
    doc[2]["decay_bps"] = 0
    with pytest.raises(ConfigError, match=r"above RewardsEngine\.maxEmission 1 WATT"):
        _plan(doc, 10, max_emission=10**18)


def test_schedule__chain_phases_are_named_after_the_params_phase_they_start_in() -> None:
    from wattnet.governance.schedule import from_abs, to_abs

    chain = to_abs(LOCAL.rewards.phases)
    assert [p["name"] for p in from_abs(chain, LOCAL.rewards.phases)] == [
        "bootstrap", "growth", "mature"]
    restarted = [(0, 10, 50, chain[0][3]), (10, 104, 50, 1), *chain[1:]]
    names = [p["name"] for p in from_abs(restarted, LOCAL.rewards.phases)]
    assert names == ["bootstrap", "bootstrap-from-10", "growth", "mature"]


def test_simulate__defaults_to_the_params_files_own_size() -> None:
    """Drivers per region are fixed, so the simulated network must be the file's: 10,000
    stations over 3,650 days for params/local.yaml, unless chosen otherwise."""
    from wattnet.governance.simulate import SimSettings

    sized = SimSettings().sized_for(LOCAL)
    assert (sized.stations, sized.days) == (10_000, 3_650)
    other = apply_overrides(LOCAL, {"model.stations": 2_000, "model.horizon_days": 400})
    assert (SimSettings().sized_for(other).stations,
            SimSettings().sized_for(other).days) == (2_000, 400)
    chosen = SimSettings(days=371, stations=200).sized_for(LOCAL)
    assert (chosen.stations, chosen.days) == (200, 371)
