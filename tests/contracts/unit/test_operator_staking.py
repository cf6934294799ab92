"""OperatorStaking: stake, unbonding delay, role slashing and permissionless equivocation proofs.

Evidence receipts are signed with wattnet.chain.eip712 under the EnergyCredits (settlement)
domain, as station keys sign them in production.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ape
import pytest

from wattnet.chain import roles
from wattnet.chain.deploy import DAY, WAD, DeployConfig, local_config
from wattnet.chain.eip712 import (
    SECP256K1_N,
    Domain,
    address_of_private_key,
    receipt_digest,
    receipt_struct_hash,
    receipt_tuple,
    recover_digest,
    sign_receipt,
)
from wattnet.chain.evidence import equivocation_id


@pytest.fixture(scope="module")
def config() -> DeployConfig:
    """params/local.yaml with the week-long unbonding and the flat stake per station these
    tests' arithmetic is written for (the file: one hour, and 10 WATT per kW on top)."""
    return local_config({"staking.unbonding_delay": "7d", "staking.stake_per_kw": 0})

REASON = b"FRAUD".ljust(32, b"\x00")


def b32(name: str) -> bytes:
    return name.encode().ljust(32, b"\x00")


@pytest.fixture
def staked(fund_operator: Any, operator: Any, staking: Any) -> int:
    fund_operator(operator, 3_000 * WAD)
    return int(staking.stakeOf(operator).active)


@pytest.fixture
def equivocation(create_station: Any, make_receipt: Any, driver: Any, domain: Domain) -> Any:
    """A station and two conflicting receipts (same session id, other energy), both signed."""

    def make(**station_kw: Any) -> tuple[Any, Any, bytes, Any, bytes]:
        st = create_station(station_kw.pop("operator"), **station_kw)
        a = make_receipt(st, driver, session_id=7, energy_wh=10_000)
        b = replace(a, energy_wh=12_000, cost=12_000 * st.tariff // 1000)
        return st, a, sign_receipt(st.key, domain, a), b, sign_receipt(st.key, domain, b)

    return make


def evidence_id(a: Any, b: Any) -> bytes:
    return equivocation_id(receipt_struct_hash(a), receipt_struct_hash(b))


# ---------------------------------------------------------------- stake
def test_stake__pulls_watt_and_books_exact_amount(staking: Any, watt: Any, operator: Any,
                                                  treasury: Any) -> None:
    watt.transfer(operator, 10 * WAD, sender=treasury)
    watt.approve(staking, 10 * WAD, sender=operator)
    held, total = watt.balanceOf(staking), staking.totalStaked()
    tx = staking.stake(10 * WAD, sender=operator)
    assert staking.stakeOf(operator).active == 10 * WAD
    assert staking.totalStaked() == total + 10 * WAD
    assert watt.balanceOf(staking) == held + 10 * WAD
    assert watt.balanceOf(operator) == 0
    [log] = tx.decode_logs(staking.Staked)
    assert (log.operator, log.amount, log.active) == (operator.address, 10 * WAD, 10 * WAD)


def test_stake__zero_reverts(staking: Any, operator: Any) -> None:
    with ape.reverts(staking.StakingZeroAmount):
        staking.stake(0, sender=operator)


def test_stake__without_allowance_reverts_and_books_nothing(staking: Any, watt: Any,
                                                            operator: Any, treasury: Any) -> None:
    watt.transfer(operator, WAD, sender=treasury)
    with ape.reverts(watt.ERC20InsufficientAllowance):
        staking.stake(WAD, sender=operator)
    assert staking.totalStaked() == 0


# ---------------------------------------------------------------- unbond / withdraw
def test_request_unbond__moves_active_to_unbonding_with_delay(staking: Any, operator: Any,
                                                               staked: int, chain: Any) -> None:
    ts = chain.pending_timestamp
    tx = staking.requestUnbond(WAD, sender=operator)
    s = staking.stakeOf(operator)
    assert (s.active, s.unbonding) == (staked - WAD, WAD)
    assert s.unbondingEndsAt == ts + staking.unbondingDelay()
    [log] = tx.decode_logs(staking.UnbondRequested)
    assert (log.operator, log.amount, log.endsAt) == (operator.address, WAD, ts + 7 * DAY)
    assert staking.totalStaked() == staked


def test_request_unbond__zero_reverts(staking: Any, operator: Any, staked: int) -> None:
    with ape.reverts(staking.StakingZeroAmount):
        staking.requestUnbond(0, sender=operator)


def test_request_unbond__cannot_free_stake_bonded_to_stations(staking: Any, operator: Any,
                                                              create_station: Any) -> None:
    create_station(operator)  # stakes exactly one station's worth
    active = staking.stakeOf(operator).active
    needed = staking.minStakePerStation() + 1
    with ape.reverts(staking.StakingInsufficientStake, operator=operator.address, stake=active,
                     needed=needed):
        staking.requestUnbond(1, sender=operator)


def test_request_unbond__keeps_pending_amount_slashable(staking: Any, operator: Any, staked: int,
                                                         governor: Any) -> None:
    staking.requestUnbond(staked, sender=operator)
    assert staking.stakeOf(operator).active == 0
    tx = staking.slash(operator, staked, REASON, sender=governor)
    s = staking.stakeOf(operator)
    assert (s.active, s.unbonding) == (0, 0)
    assert tx.decode_logs(staking.Slashed)[0].amount == staked
    with ape.reverts(staking.StakingUnbondingNotReady):
        staking.withdraw(sender=operator)


def test_freeze__holds_an_exit_while_a_finding_is_decided(
        staking: Any, operator: Any, staked: int, governor: Any, guardian: Any,
        attacker: Any, chain: Any) -> None:
    """Issue 11, 3b: an operator under a finding that needs a vote (10-11 days on Arbitrum)
    cannot unbond out from under it; the freeze is quick (the guardian), bounded and never
    renewable back to back, and takes nothing by itself."""
    staking.grantRole(roles.FREEZER_ROLE, guardian, sender=governor)
    with ape.reverts(staking.AccessControlUnauthorizedAccount):
        staking.freeze(operator, REASON, sender=attacker)
    staking.requestUnbond(staked, sender=operator)
    tx = staking.freeze(operator, REASON, sender=guardian)
    until = int(staking.frozenUntil(operator))
    assert tx.decode_logs(staking.Frozen)[0].until == until
    chain.pending_timestamp = int(staking.stakeOf(operator).unbondingEndsAt)
    with ape.reverts(staking.StakingFrozen, operator=operator.address, until=until):
        staking.withdraw(sender=operator)
    staking.slash(operator, staked // 2, REASON, sender=governor)  # the vote lands in time
    chain.pending_timestamp = until
    with ape.reverts(staking.StakingFreezeCoolingDown):
        staking.freeze(operator, REASON, sender=guardian)
    staking.withdraw(sender=operator)
    assert staking.stakeOf(operator).unbonding == 0
    chain.pending_timestamp = until + int(staking.FREEZE_PERIOD())
    staking.freeze(operator, REASON, sender=guardian)  # renewable only after a gap


def test_withdraw__before_delay_reverts(staking: Any, operator: Any, staked: int,
                                       chain: Any) -> None:
    staking.requestUnbond(WAD, sender=operator)
    ends = staking.stakeOf(operator).unbondingEndsAt
    chain.pending_timestamp = ends - 2
    with ape.reverts(staking.StakingUnbondingNotReady, operator=operator.address, endsAt=ends):
        staking.withdraw(sender=operator)
    assert staking.stakeOf(operator).unbonding == WAD


def test_withdraw__with_nothing_unbonding_reverts(staking: Any, operator: Any, staked: int) -> None:
    with ape.reverts(staking.StakingUnbondingNotReady, operator=operator.address, endsAt=0):
        staking.withdraw(sender=operator)


def test_withdraw__after_delay_pays_exact_amount(staking: Any, watt: Any, operator: Any,
                                                 staked: int, chain: Any) -> None:
    staking.requestUnbond(2 * WAD, sender=operator)
    chain.pending_timestamp = staking.stakeOf(operator).unbondingEndsAt
    held = watt.balanceOf(staking)
    tx = staking.withdraw(sender=operator)
    assert watt.balanceOf(operator) == 2 * WAD
    assert watt.balanceOf(staking) == held - 2 * WAD
    assert staking.totalStaked() == staked - 2 * WAD
    s = staking.stakeOf(operator)
    assert (s.active, s.unbonding, s.unbondingEndsAt) == (staked - 2 * WAD, 0, 0)
    [log] = tx.decode_logs(staking.Withdrawn)
    assert (log.operator, log.amount) == (operator.address, 2 * WAD)


def test_request_unbond__again_restarts_the_clock_for_everything(staking: Any, operator: Any,
                                                                 staked: int, chain: Any) -> None:
    staking.requestUnbond(WAD, sender=operator)
    chain.pending_timestamp += 6 * DAY
    staking.requestUnbond(WAD, sender=operator)
    chain.pending_timestamp += 2 * DAY
    with ape.reverts(staking.StakingUnbondingNotReady):
        staking.withdraw(sender=operator)


# ---------------------------------------------------------------- role slashing
def test_slash__takes_active_first_then_unbonding(staking: Any, watt: Any, operator: Any,
                                                  staked: int, governor: Any,
                                                  treasury: Any) -> None:
    staking.requestUnbond(1_000 * WAD, sender=operator)
    active = staked - 1_000 * WAD
    before = watt.balanceOf(treasury)
    tx = staking.slash(operator, active + 400 * WAD, REASON, sender=governor)
    s = staking.stakeOf(operator)
    assert (s.active, s.unbonding) == (0, 600 * WAD)
    assert staking.totalStaked() == 600 * WAD
    assert watt.balanceOf(treasury) == before + active + 400 * WAD
    assert watt.balanceOf(staking) == 600 * WAD
    [log] = tx.decode_logs(staking.Slashed)
    assert (log.operator, log.amount, log.reason, log.reporter, log.bounty, log.destination) == (
        operator.address, active + 400 * WAD, REASON, "0x" + "00" * 20, 0, 0)


def test_slash__takes_what_is_there_when_the_stake_shrank(staking: Any, operator: Any,
                                                          staked: int, governor: Any) -> None:
    """A slash decided for more than is left (the operator unbonded, or slashed itself first)
    still executes and takes everything: it never exceeds the stake, and never fails."""
    total = int(staking.totalStaked())
    tx = staking.slash(operator, staked + 1, REASON, sender=governor)
    [log] = tx.decode_logs(staking.Slashed)
    assert log.amount == staked
    assert staking.stakeOf(operator).active == 0
    assert staking.totalStaked() == total - staked
    staking.slash(operator, 1, REASON, sender=governor)  # nothing left: still no revert
    assert staking.totalStaked() == total - staked


def test_slash__zero_reverts(staking: Any, operator: Any, staked: int, governor: Any) -> None:
    with ape.reverts(staking.StakingZeroAmount):
        staking.slash(operator, 0, REASON, sender=governor)


def test_slash__to_burn_destination_burns_watt(staking: Any, watt: Any, operator: Any,
                                               staked: int, governor: Any, treasury: Any) -> None:
    staking.setSlashDestination(1, sender=governor)
    supply, tbal = watt.totalSupply(), watt.balanceOf(treasury)
    tx = staking.slash(operator, 5 * WAD, REASON, sender=governor)
    assert watt.totalSupply() == supply - 5 * WAD
    assert watt.balanceOf(treasury) == tbal
    assert tx.decode_logs(staking.Slashed)[0].destination == 1


def test_slash__below_station_stake_suspends_operator_in_registry(
        staking: Any, registry: Any, operator: Any, create_station: Any, governor: Any) -> None:
    create_station(operator)
    assert staking.inGoodStanding(operator)
    tx = staking.slash(operator, 1, REASON, sender=governor)
    assert not staking.inGoodStanding(operator)
    assert registry.suspended(operator)
    [log] = tx.decode_logs(registry.OperatorStandingChanged)
    assert (log.operator, log.suspended) == (operator.address, True)


def test_stake__back_to_good_standing_lifts_suspension(
        staking: Any, registry: Any, operator: Any, create_station: Any, governor: Any,
        fund_operator: Any) -> None:
    create_station(operator)
    staking.slash(operator, 1, REASON, sender=governor)
    fund_operator(operator, 1)
    assert not registry.suspended(operator)
    assert staking.inGoodStanding(operator)


# ---------------------------------------------------------------- equivocation
def test_slash_equivocation__same_session_other_content_pays_bounty_rest_to_treasury(
        staking: Any, watt: Any, operator: Any, equivocation: Any, attacker: Any,
        treasury: Any, commit_evidence: Any) -> None:
    _st, a, sa, b, sb = equivocation(operator=operator)
    commit_evidence(evidence_id(a, b), attacker)
    stake = staking.stakeOf(operator).active
    amount = min(staking.equivocationSlash(), stake)
    bounty = amount * staking.equivocationBountyBps() // 10_000
    tbal, total = watt.balanceOf(treasury), staking.totalStaked()
    tx = staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=attacker)
    assert watt.balanceOf(attacker) == bounty
    assert watt.balanceOf(treasury) == tbal + amount - bounty
    assert staking.stakeOf(operator).active == stake - amount
    assert staking.totalStaked() == total - amount
    assert staking.evidenceUsed(evidence_id(a, b))
    [log] = tx.decode_logs(staking.Slashed)
    assert (log.operator, log.amount, log.reason, log.reporter, log.bounty) == (
        operator.address, amount, b32("EQUIVOCATION"), attacker.address, bounty)


def test_slash_equivocation__burn_destination_burns_rest(
        staking: Any, watt: Any, operator: Any, equivocation: Any, attacker: Any,
        treasury: Any, governor: Any, commit_evidence: Any) -> None:
    staking.setSlashDestination(1, sender=governor)
    _st, a, sa, b, sb = equivocation(operator=operator)
    commit_evidence(evidence_id(a, b), attacker)
    amount = staking.equivocationSlash()
    bounty = amount * staking.equivocationBountyBps() // 10_000
    supply, tbal = watt.totalSupply(), watt.balanceOf(treasury)
    staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=attacker)
    assert watt.balanceOf(attacker) == bounty
    assert watt.balanceOf(treasury) == tbal
    assert watt.totalSupply() == supply - (amount - bounty)


def test_slash_equivocation__overlapping_times_on_one_connector(
        staking: Any, operator: Any, create_station: Any, make_receipt: Any, driver: Any,
        domain: Domain, attacker: Any) -> None:
    st = create_station(operator)
    end = make_receipt(st, driver).end_time
    a = make_receipt(st, driver, session_id=1, end=end, duration=3_600, connector_id=1)
    b = make_receipt(st, driver, session_id=2, end=end - 1_800, duration=3_600, connector_id=1)
    before = staking.stakeOf(operator).active
    staking.slashEquivocation(receipt_tuple(a), sign_receipt(st.key, domain, a),
                              receipt_tuple(b), sign_receipt(st.key, domain, b), sender=attacker)
    assert staking.stakeOf(operator).active == before - staking.equivocationSlash()


def test_slash_equivocation__overlap_on_different_connectors_is_not_proof(
        staking: Any, operator: Any, create_station: Any, make_receipt: Any, driver: Any,
        domain: Domain, attacker: Any) -> None:
    st = create_station(operator)
    end = make_receipt(st, driver).end_time
    a = make_receipt(st, driver, session_id=1, end=end, connector_id=1)
    b = make_receipt(st, driver, session_id=2, end=end - 1_800, connector_id=2)
    with ape.reverts(staking.StakingNotEquivocation, hashA=receipt_struct_hash(a),
                     hashB=receipt_struct_hash(b)):
        staking.slashEquivocation(receipt_tuple(a), sign_receipt(st.key, domain, a),
                                  receipt_tuple(b), sign_receipt(st.key, domain, b),
                                  sender=attacker)


def test_slash_equivocation__back_to_back_sessions_are_not_proof(
        staking: Any, operator: Any, create_station: Any, make_receipt: Any, driver: Any,
        domain: Domain, attacker: Any) -> None:
    st = create_station(operator)
    end = make_receipt(st, driver).end_time
    a = make_receipt(st, driver, session_id=1, end=end, duration=3_600)
    b = make_receipt(st, driver, session_id=2, end=end - 3_600, duration=3_600)
    with ape.reverts(staking.StakingNotEquivocation):
        staking.slashEquivocation(receipt_tuple(a), sign_receipt(st.key, domain, a),
                                  receipt_tuple(b), sign_receipt(st.key, domain, b),
                                  sender=attacker)


def test_slash_equivocation__identical_receipts_are_not_proof(
        staking: Any, operator: Any, equivocation: Any, attacker: Any) -> None:
    _st, a, sa, _, _ = equivocation(operator=operator)
    h = receipt_struct_hash(a)
    with ape.reverts(staking.StakingNotEquivocation, hashA=h, hashB=h):
        staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(a), sa, sender=attacker)


def test_slash_equivocation__receipts_of_two_stations_are_not_proof(
        staking: Any, operator: Any, create_station: Any, make_receipt: Any, driver: Any,
        domain: Domain, attacker: Any) -> None:
    s1, s2 = create_station(operator), create_station(operator)
    a = make_receipt(s1, driver, session_id=5)
    b = make_receipt(s2, driver, session_id=5)
    with ape.reverts(staking.StakingNotEquivocation):
        staking.slashEquivocation(receipt_tuple(a), sign_receipt(s1.key, domain, a),
                                  receipt_tuple(b), sign_receipt(s2.key, domain, b),
                                  sender=attacker)


def test_slash_equivocation__reused_pair_reverts_evidence_used(
        staking: Any, operator: Any, equivocation: Any, attacker: Any) -> None:
    _st, a, sa, b, sb = equivocation(operator=operator)
    staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=attacker)
    after = staking.stakeOf(operator).active
    with ape.reverts(staking.StakingEvidenceUsed, evidenceId=evidence_id(a, b)):
        staking.slashEquivocation(receipt_tuple(b), sb, receipt_tuple(a), sa, sender=attacker)
    assert staking.stakeOf(operator).active == after


def test_slash_equivocation__key_never_bound_to_station_reverts(
        staking: Any, operator: Any, equivocation: Any, attacker: Any, domain: Domain) -> None:
    st, a, sa, b, _ = equivocation(operator=operator)
    rogue = bytes([0x42]) * 32
    sb = sign_receipt(rogue, domain, b)
    with ape.reverts(staking.StakingBadEvidenceSignature, stationId=st.station_id,
                     recovered=recover_digest(receipt_digest(domain, b), sb)):
        staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=attacker)


def test_slash_equivocation__key_of_another_station_reverts(
        staking: Any, operator: Any, operator2: Any, equivocation: Any, create_station: Any,
        attacker: Any, domain: Domain) -> None:
    st, a, sa, b, _ = equivocation(operator=operator)
    other = create_station(operator2)
    sb = sign_receipt(other.key, domain, b)
    with ape.reverts(staking.StakingBadEvidenceSignature, stationId=st.station_id,
                     recovered=other.signer):
        staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=attacker)


def test_slash_equivocation__rotated_out_key_still_counts(
        staking: Any, registry: Any, operator: Any, equivocation: Any, attacker: Any,
        prove_signer: Any) -> None:
    st, a, sa, b, sb = equivocation(operator=operator)
    new_key = b"\xab" * 32
    registry.rotateSigner(st.station_id, address_of_private_key(new_key),
                          *prove_signer(new_key, st.station_id, operator), sender=operator)
    before = staking.stakeOf(operator).active
    staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=attacker)
    assert staking.stakeOf(operator).active == before - staking.equivocationSlash()


def test_slash_equivocation__malleable_high_s_signature_rejected(
        staking: Any, operator: Any, equivocation: Any, attacker: Any) -> None:
    st, a, sa, b, sb = equivocation(operator=operator)
    s = int.from_bytes(sb[32:64], "big")
    high = sb[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - sb[64]])
    with ape.reverts(staking.StakingBadEvidenceSignature, stationId=st.station_id,
                     recovered="0x" + "00" * 20):
        staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), high, sender=attacker)


@pytest.mark.parametrize("other", ["chain", "contract"])
def test_slash_equivocation__signature_for_another_domain_rejected(
        staking: Any, operator: Any, equivocation: Any, attacker: Any, domain: Domain,
        other: str, registry: Any) -> None:
    st, a, sa, b, _ = equivocation(operator=operator)
    foreign = (Domain(domain.chain_id + 1, domain.verifying_contract) if other == "chain"
               else Domain(domain.chain_id, registry.address))
    sb = sign_receipt(st.key, foreign, b)
    with ape.reverts(staking.StakingBadEvidenceSignature, stationId=st.station_id,
                     recovered=recover_digest(receipt_digest(domain, b), sb)):
        staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=attacker)


def test_slash_equivocation__short_signature_rejected(
        staking: Any, operator: Any, equivocation: Any, attacker: Any) -> None:
    _st, a, sa, b, sb = equivocation(operator=operator)
    with ape.reverts(staking.StakingBadEvidenceSignature):
        staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb[:64],
                                  sender=attacker)


def test_slash_equivocation__never_exceeds_remaining_stake(
        staking: Any, watt: Any, operator: Any, equivocation: Any, attacker: Any,
        governor: Any, commit_evidence: Any) -> None:
    _st, a, sa, b, sb = equivocation(operator=operator)
    commit_evidence(evidence_id(a, b), attacker)
    s = staking.stakeOf(operator)
    left = 100 * WAD
    staking.slash(operator, s.active + s.unbonding - left, REASON, sender=governor)
    tx = staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=attacker)
    s = staking.stakeOf(operator)
    assert (s.active, s.unbonding) == (0, 0)
    log = tx.decode_logs(staking.Slashed)[0]
    assert log.amount == left
    assert log.bounty == left * staking.equivocationBountyBps() // 10_000


def test_slash_equivocation__unbonding_stake_is_slashed(
        staking: Any, operator: Any, equivocation: Any, attacker: Any, chain: Any) -> None:
    st, a, sa, b, sb = equivocation(operator=operator)
    registry_stake = staking.stakeOf(operator).active
    # Operator deactivates the station and tries to run with the whole stake.
    from_registry = staking.registry()
    assert from_registry != "0x" + "00" * 20
    ape.project.StationRegistry.at(from_registry).deactivateStation(st.station_id, sender=operator)
    staking.requestUnbond(registry_stake, sender=operator)
    staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=attacker)
    s = staking.stakeOf(operator)
    assert s.unbonding == registry_stake - staking.equivocationSlash()
    chain.pending_timestamp = s.unbondingEndsAt
    staking.withdraw(sender=operator)
    assert staking.stakeOf(operator).unbonding == 0


def test_slash_equivocation__before_settlement_is_set_reverts(
        project: Any, governor: Any, watt: Any, treasury: Any, attacker: Any,
        operator: Any, equivocation: Any) -> None:
    fresh = project.OperatorStaking.deploy(governor, watt, treasury, WAD, DAY, WAD, 0,
                                           sender=governor)
    _st, a, sa, b, sb = equivocation(operator=operator)
    with ape.reverts(fresh.StakingSettlementNotSet):
        fresh.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=attacker)


# ---------------------------------------------------------------- registry hooks
def test_bond_station__beyond_stake_reverts(staking: Any, governor: Any, operator: Any,
                                            staked: int) -> None:
    staking.grantRole(roles.REGISTRY_ROLE, governor, sender=governor)
    min_stake = staking.minStakePerStation()
    for _ in range(staked // min_stake):
        tx = staking.bondStation(operator, 0, sender=governor)
    log = tx.decode_logs(staking.StationBondChanged)[0]
    assert (log.operator, log.bonded, log.bondedStations) == (
        operator.address, True, staked // min_stake)
    n = staked // min_stake + 1
    with ape.reverts(staking.StakingInsufficientStake, operator=operator.address, stake=staked,
                     needed=n * min_stake):
        staking.bondStation(operator, 0, sender=governor)


def test_unbond_station__with_none_bonded_reverts(staking: Any, governor: Any,
                                                  operator: Any) -> None:
    staking.grantRole(roles.REGISTRY_ROLE, governor, sender=governor)
    with ape.reverts(staking.StakingStationNotBonded, operator=operator.address):
        staking.unbondStation(operator, 0, sender=governor)


def test_resize_station__moves_bonded_capacity_by_the_difference(staking: Any, governor: Any,
                                                                 operator: Any,
                                                                 staked: int) -> None:
    """A meter certificate or a new meter key changes a station's rated power: the operator's
    bonded kW follow it, up and down (kills a mutant of `bondedKw + newKw`)."""
    staking.grantRole(roles.REGISTRY_ROLE, governor, sender=governor)
    staking.bondStation(operator, 22, sender=governor)
    staking.bondStation(operator, 7, sender=governor)
    tx = staking.resizeStation(operator, 22, 50, sender=governor)
    assert tx.decode_logs(staking.BondedCapacityChanged)[0].bondedKw == 57
    staking.resizeStation(operator, 50, 11, sender=governor)
    assert staking.stakeOf(operator).bondedKw == 18
    assert staking.stakeOf(operator).bondedStations == 2


# ---------------------------------------------------------------- governance
@pytest.mark.parametrize("value", [3_599, 90 * DAY + 1])
def test_set_unbonding_delay__out_of_bounds_reverts(staking: Any, governor: Any,
                                                    value: int) -> None:
    with ape.reverts(staking.StakingParameterOutOfBounds, name=b32("unbondingDelay"),
                     value=value, min=3_600, max=90 * DAY):
        staking.setUnbondingDelay(value, sender=governor)


def test_set_unbonding_delay__emits_parameter_changed(staking: Any, governor: Any) -> None:
    tx = staking.setUnbondingDelay(2 * DAY, sender=governor)
    assert staking.unbondingDelay() == 2 * DAY
    [log] = tx.decode_logs(staking.ParameterChanged)
    assert (log.name, log.value) == (b32("unbondingDelay"), 2 * DAY)


def test_set_equivocation_penalty__bounty_above_max_reverts(staking: Any, governor: Any) -> None:
    with ape.reverts(staking.StakingParameterOutOfBounds, name=b32("equivocationBountyBps"),
                     value=5_001, min=0, max=5_000):
        staking.setEquivocationPenalty(WAD, 5_001, sender=governor)


def test_set_equivocation_penalty__emits_both_parameters(staking: Any, governor: Any) -> None:
    tx = staking.setEquivocationPenalty(7 * WAD, 2_500, sender=governor)
    logs = [(log.name, log.value) for log in tx.decode_logs(staking.ParameterChanged)]
    assert logs == [(b32("equivocationSlash"), 7 * WAD), (b32("equivocationBountyBps"), 2_500)]
    assert (staking.equivocationSlash(), staking.equivocationBountyBps()) == (7 * WAD, 2_500)


def test_set_min_stake__emits_parameter_changed(staking: Any, governor: Any) -> None:
    tx = staking.setMinStakePerStation(3 * WAD, sender=governor)
    [log] = tx.decode_logs(staking.ParameterChanged)
    assert (log.name, log.value) == (b32("minStakePerStation"), 3 * WAD)
    assert staking.minStakePerStation() == 3 * WAD


def test_set_slash_destination__emits_parameter_changed(staking: Any, governor: Any) -> None:
    tx = staking.setSlashDestination(1, sender=governor)
    [log] = tx.decode_logs(staking.ParameterChanged)
    assert (log.name, log.value) == (b32("slashDestination"), 1)


def test_set_treasury__zero_reverts_and_change_emits(staking: Any, governor: Any,
                                                     referrer: Any) -> None:
    with ape.reverts(staking.StakingZeroAddress):
        staking.setTreasury("0x" + "00" * 20, sender=governor)
    tx = staking.setTreasury(referrer, sender=governor)
    assert staking.treasury() == referrer.address
    assert tx.decode_logs(staking.TreasuryChanged)[0].treasury == referrer.address


def test_set_settlement__only_once(staking: Any, governor: Any, credits: Any) -> None:
    with ape.reverts(staking.StakingSettlementAlreadySet, settlement=credits.address):
        staking.setSettlement(governor, sender=governor)


def test_set_settlement__binds_the_credits_domain_and_emits(
        project: Any, governor: Any, watt: Any, treasury: Any, credits: Any,
        domain: Domain) -> None:
    fresh = project.OperatorStaking.deploy(governor, watt, treasury, WAD, DAY, WAD, 0,
                                           sender=governor)
    with ape.reverts(fresh.StakingZeroAddress):
        fresh.setSettlement("0x" + "00" * 20, sender=governor)
    tx = fresh.setSettlement(credits, sender=governor)
    assert fresh.receiptDomainSeparator() == domain.separator
    assert tx.decode_logs(fresh.SettlementSet)[0].settlement == credits.address


def test_set_registry__zero_reverts(staking: Any, governor: Any) -> None:
    with ape.reverts(staking.StakingZeroAddress):
        staking.setRegistry("0x" + "00" * 20, sender=governor)


@pytest.mark.parametrize("zero", ["admin", "watt", "treasury"])
def test_constructor__zero_address_reverts(project: Any, governor: Any, watt: Any,
                                           treasury: Any, zero: str) -> None:
    z = "0x" + "00" * 20
    args = {"admin": governor.address, "watt": watt.address, "treasury": treasury.address}
    args[zero] = z
    with ape.reverts(project.OperatorStaking.StakingZeroAddress):
        project.OperatorStaking.deploy(args["admin"], args["watt"], args["treasury"], WAD, DAY,
                                       WAD, 0, sender=governor)


# ---------------------------------------------------------------- reserved station id 0
def test_slash_equivocation__any_key_for_station_id_zero_is_rejected(
        staking: Any, make_receipt: Any, driver: Any, domain: Domain, attacker: Any) -> None:
    """stationOfSigner returns 0 for keys never bound: such a key must not pass for station 0."""
    from wattnet.chain.eip712 import address_of_private_key

    fake = type("S", (), {"station_id": bytes(32), "tariff": 350_000})()
    a = make_receipt(fake, driver, session_id=1)
    b = replace(a, energy_wh=a.energy_wh + 1, cost=(a.energy_wh + 1) * 350)
    forger = b"\x0c" * 32  # never bound to any station
    with ape.reverts(staking.StakingBadEvidenceSignature, stationId=bytes(32),
                     recovered=address_of_private_key(forger)):
        staking.slashEquivocation(receipt_tuple(a), sign_receipt(forger, domain, a),
                                  receipt_tuple(b), sign_receipt(forger, domain, b),
                                  sender=attacker)
    assert not staking.evidenceUsed(evidence_id(a, b))


def test_set_registry__is_one_time_wiring(staking: Any, governor: Any, attacker: Any) -> None:
    with ape.reverts(staking.StakingRegistryAlreadySet):
        staking.setRegistry(attacker, sender=governor)


def test_slash_equivocation__reporting_ones_own_fraud_earns_no_bounty(
        staking: Any, watt: Any, operator: Any, equivocation: Any) -> None:
    _st, a, sa, b, sb = equivocation(operator=operator)
    stake = int(staking.stakeOf(operator).active)
    amount = min(int(staking.equivocationSlash()), stake)
    wallet = int(watt.balanceOf(operator))
    staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=operator)
    assert int(watt.balanceOf(operator)) == wallet  # no bounty back
    assert int(staking.stakeOf(operator).active) == stake - amount


@pytest.mark.parametrize(("overlap", "proof"), [(1, False), (60, False), (61, True)])
def test_slash_equivocation__a_clock_step_within_the_tolerance_is_no_proof(
        staking: Any, create_station: Any, make_receipt: Any, driver: Any, domain: Domain,
        operator: Any, attacker: Any, governor: Any, overlap: int, proof: bool) -> None:
    """Back-to-back sessions that overlap by a charger's clock step (up to the governed
    tolerance, 60 s here) are honest; a longer overlap on one connector is equivocation."""
    staking.setOverlapTolerance(60, sender=governor)
    st = create_station(operator)
    a = make_receipt(st, driver, duration=1_800)
    b = make_receipt(st, driver, duration=1_800, end=a.end_time + 1_800 - overlap)
    args = (receipt_tuple(a), sign_receipt(st.key, domain, a), receipt_tuple(b),
            sign_receipt(st.key, domain, b))
    if not proof:
        with ape.reverts(staking.StakingNotEquivocation):
            staking.slashEquivocation(*args, sender=attacker)
        return
    staking.slashEquivocation(*args, sender=attacker)
    assert int(staking.evidenceUsed(evidence_id(a, b)))


def test_slash_equivocation__the_oracle_that_held_the_receipts_earns_no_bounty(
        staking: Any, watt: Any, operator: Any, equivocation: Any, oracle: Any) -> None:
    _st, a, sa, b, sb = equivocation(operator=operator)
    stake = int(staking.stakeOf(operator).active)
    staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=oracle)
    assert int(watt.balanceOf(oracle)) == 0
    assert int(staking.stakeOf(operator).active) < stake


def test_slash_equivocation__a_copier_of_the_proof_earns_no_bounty(
        staking: Any, watt: Any, operator: Any, equivocation: Any, attacker: Any,
        referrer: Any, commit_evidence: Any) -> None:
    """The watcher (referrer) committed the evidence; a copier (attacker) who front-runs its
    proof transaction with the same receipts slashes the operator but is paid nothing, and
    neither is anyone who proves without a commitment."""
    _st, a, sa, b, sb = equivocation(operator=operator)
    commit_evidence(evidence_id(a, b), referrer)
    stake = int(staking.stakeOf(operator).active)
    tx = staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=attacker)
    [log] = tx.decode_logs(staking.Slashed)
    assert (log.reporter, log.bounty) == (attacker.address, 0)
    assert int(watt.balanceOf(attacker)) == 0
    assert int(staking.stakeOf(operator).active) == stake - int(log.amount)
    with ape.reverts(staking.StakingEvidenceUsed):  # the evidence is spent either way
        staking.slashEquivocation(receipt_tuple(a), sa, receipt_tuple(b), sb, sender=referrer)
