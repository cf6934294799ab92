"""The receipt commits to its meter's signed readings, and anyone can hold it to them.

The attacker is an operator: it controls its station key, not the certified meter's key. It
claims more energy than the meter signed, signs readings with a key of its own, edits a signed
payload, claims one metered energy twice, or withholds the readings altogether. Each attempt is
proven on chain (ReadingsProofs): the station's escrowed epoch is forfeited, the operator is
slashed, and the prover (or challenger) is paid. Honest readings are never a proof.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import ape
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import WAD, WEEK
from wattnet.chain.eip712 import Domain, receipt_struct_hash, receipt_tuple, sign_receipt
from wattnet.chain.evidence import bad_readings_id, readings_overlap_id
from wattnet.chain.meters import new_p256_key, public_xy
from wattnet.chain.readings import Readings, SignedRecord, readings_of, register_wh
from wattnet.sim.chargepoint.meter import SimMeter

NO_READINGS = bytes(32)


@pytest.fixture(scope="module")
def proofs(project: Any, staking: Any) -> Any:
    return project.ReadingsProofs.at(staking.readingsProofs())


@pytest.fixture
def metered(create_station: Any, operator: Any, certify: Any, chain: Any) -> Any:
    """A station with a certified meter whose key the test holds (the meter's, not the
    operator's: the operator never has it)."""
    station = create_station(operator, certified=False)
    key = new_p256_key()
    certify(station, meter=key)
    chain.pending_timestamp += 2 * 3_600
    return station, SimMeter("SN-PROOF", 1_000_000, key)


def xy(meter: SimMeter) -> bytes:
    assert meter.key is not None
    return b"".join(public_xy(meter.key))


def metered_session(make_receipt: Any, station: Any, driver: Any, meter: SimMeter, *,
                    metered_wh: int, claimed_wh: int | None = None,
                    begin_wh: int | None = None, **kw: Any) -> tuple[Any, Readings]:
    """A receipt claiming `claimed_wh` (default: what was metered), committing to a begin and
    end record the meter signed over `metered_wh`."""
    claimed = metered_wh if claimed_wh is None else claimed_wh
    r = make_receipt(station, driver, energy_wh=claimed, **kw)
    begin = meter.register_wh if begin_wh is None else begin_wh
    b = meter.ocmf("B", r.start_time, register_wh=begin)
    meter.register_wh = begin + metered_wh
    e = meter.ocmf("E", r.end_time, register_wh=meter.register_wh)
    rd = readings_of([b, e], xy(meter))
    return replace(r, readings=rd.commitment()), rd


def stake_of(staking: Any, operator: Any) -> int:
    s = staking.stakeOf(operator)
    return int(s.active) + int(s.unbonding)


# ---------------------------------------------------------------- the commitment and parser
def test_commitment__python_and_contract_agree(
        metered: Any, make_receipt: Any, driver: Any, proofs: Any) -> None:
    station, meter = metered
    r, rd = metered_session(make_receipt, station, driver, meter, metered_wh=12_345)
    assert bytes(proofs.readingsCommitment(rd.as_tuple())) == r.readings
    assert tuple(proofs.registersWh(rd.as_tuple())) == (1_000_000, 1_012_345)


_PAYLOAD = st.builds(
    lambda rv, unit, sp, tail: (
        '{"RD":[{"TX":"B","RV"' + sp + ":" + sp + rv + ',"RU"' + sp + ":" + sp + unit
        + "}]" + tail + "}"
    ).encode(),
    st.one_of(st.from_regex(r"\A[0-9]{1,12}(\.[0-9]{1,6})?\Z"),
              st.sampled_from(["1e3", "-1", "12.", ".5", "0.0001", "9" * 31, "9" * 30])),
    st.sampled_from(['"kWh"', '"Wh"', '"kW"', '"MWh"']),
    st.sampled_from(["", " ", "\n\t"]),
    st.sampled_from(["", ',"ID":"\\"RV\\":7"', ',"RD2":{"RV":5,"RU":"Wh"}']),
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(payload=_PAYLOAD)
def test_register_parser__python_mirror_equals_the_contract(payload: bytes, proofs: Any) -> None:
    """The oracle and watchers read registers exactly as the proofs do (or both refuse)."""
    rec = SignedRecord(payload, 1, 1)
    rd = Readings(bytes(32), bytes(32), rec, rec)
    begin, end = register_wh(payload, last=False), register_wh(payload, last=True)
    if begin is None or end is None:
        with ape.reverts(proofs.ReadingsUnparsable):
            proofs.registersWh(rd.as_tuple())
    else:
        assert tuple(proofs.registersWh(rd.as_tuple())) == (begin, end)


# ---------------------------------------------------------------- proofs of bad readings
def test_prove_bad_readings__claiming_more_than_metered_slashes_forfeits_and_pays(
        metered: Any, make_receipt: Any, driver: Any, domain: Domain, proofs: Any, staking: Any,
        rewards: Any, watt: Any, attacker: Any, operator: Any, commit_evidence: Any) -> None:
    station, meter = metered
    r, rd = metered_session(make_receipt, station, driver, meter, metered_wh=10_000,
                            claimed_wh=10_001)
    commit_evidence(bad_readings_id(receipt_struct_hash(r)), attacker)
    before, bal = stake_of(staking, operator), int(watt.balanceOf(attacker))
    amount = min(int(staking.equivocationSlash()), before)
    proofs.proveBadReadings(receipt_tuple(r), sign_receipt(station.key, domain, r), rd.as_tuple(),
                            sender=attacker)
    assert stake_of(staking, operator) == before - amount
    bounty = amount * int(staking.equivocationBountyBps()) // 10_000
    assert int(watt.balanceOf(attacker)) - bal == bounty
    assert rewards.forfeited((r.end_time - int(rewards.genesis())) // WEEK, station.station_id)
    with ape.reverts(staking.StakingEvidenceUsed):
        proofs.proveBadReadings(receipt_tuple(r), sign_receipt(station.key, domain, r),
                                rd.as_tuple(), sender=attacker)


def test_prove_bad_readings__honest_readings_are_no_proof(
        metered: Any, make_receipt: Any, driver: Any, domain: Domain, proofs: Any,
        attacker: Any) -> None:
    station, meter = metered
    r, rd = metered_session(make_receipt, station, driver, meter, metered_wh=10_000,
                            claimed_wh=9_990)  # capped by the mandate: less is never fraud
    with ape.reverts(proofs.ReadingsNotFraud):
        proofs.proveBadReadings(receipt_tuple(r), sign_receipt(station.key, domain, r),
                                rd.as_tuple(), sender=attacker)


def test_prove_bad_readings__readings_signed_by_the_operators_own_key(
        metered: Any, make_receipt: Any, driver: Any, domain: Domain, proofs: Any, staking: Any,
        attacker: Any, operator: Any) -> None:
    """Fake sessions need readings; a key the operator made up was never certified."""
    station, _ = metered
    forger = SimMeter("SN-PROOF", 5_000_000, new_p256_key())
    r, rd = metered_session(make_receipt, station, driver, forger, metered_wh=20_000)
    before = stake_of(staking, operator)
    proofs.proveBadReadings(receipt_tuple(r), sign_receipt(station.key, domain, r), rd.as_tuple(),
                            sender=attacker)
    assert stake_of(staking, operator) < before


def test_prove_bad_readings__an_edited_payload_fails_the_meter_signature(
        metered: Any, make_receipt: Any, driver: Any, domain: Domain, proofs: Any, staking: Any,
        attacker: Any, operator: Any) -> None:
    station, meter = metered
    r, rd = metered_session(make_receipt, station, driver, meter, metered_wh=1_000)
    end = rd.end
    inflated = end.payload.replace(b'"RV":1001.0', b'"RV":1031.0')
    assert inflated != end.payload
    forged = replace(rd, end=replace(end, payload=inflated))
    r = replace(r, energy_wh=31_000, cost=31_000 * station.tariff // 1000,
                readings=forged.commitment())
    before = stake_of(staking, operator)
    proofs.proveBadReadings(receipt_tuple(r), sign_receipt(station.key, domain, r),
                            forged.as_tuple(), sender=attacker)
    assert stake_of(staking, operator) < before


def test_prove_bad_readings__readings_that_are_not_the_commitment_revert(
        metered: Any, make_receipt: Any, driver: Any, domain: Domain, proofs: Any,
        attacker: Any) -> None:
    station, meter = metered
    r, _ = metered_session(make_receipt, station, driver, meter, metered_wh=10_000)
    _, other = metered_session(make_receipt, station, driver, meter, metered_wh=1)
    with ape.reverts(proofs.ReadingsMismatch):
        proofs.proveBadReadings(receipt_tuple(r), sign_receipt(station.key, domain, r),
                                other.as_tuple(), sender=attacker)


# ---------------------------------------------------------------- one metered energy, twice
def test_prove_readings_overlap__replayed_readings_slash(
        metered: Any, make_receipt: Any, driver: Any, domain: Domain, proofs: Any, staking: Any,
        rewards: Any, attacker: Any, operator: Any, commit_evidence: Any) -> None:
    station, meter = metered
    a, rd = metered_session(make_receipt, station, driver, meter, metered_wh=15_000)
    b = replace(make_receipt(station, driver, energy_wh=15_000), readings=a.readings)
    commit_evidence(readings_overlap_id(receipt_struct_hash(a), receipt_struct_hash(b)), attacker)
    before = stake_of(staking, operator)
    proofs.proveReadingsOverlap(
        receipt_tuple(a), sign_receipt(station.key, domain, a), rd.as_tuple(),
        receipt_tuple(b), sign_receipt(station.key, domain, b), rd.as_tuple(), sender=attacker)
    assert stake_of(staking, operator) < before
    assert rewards.forfeited((b.end_time - int(rewards.genesis())) // WEEK, station.station_id)


def test_prove_readings_overlap__back_to_back_sessions_are_no_proof(
        metered: Any, make_receipt: Any, driver: Any, domain: Domain, proofs: Any,
        attacker: Any) -> None:
    """The end register of one session is the begin register of the next: no overlap."""
    station, meter = metered
    a, rda = metered_session(make_receipt, station, driver, meter, metered_wh=5_000)
    b, rdb = metered_session(make_receipt, station, driver, meter, metered_wh=5_000)
    assert rda.end.payload != rdb.begin.payload
    with ape.reverts(proofs.ReadingsNotFraud):
        proofs.proveReadingsOverlap(
            receipt_tuple(a), sign_receipt(station.key, domain, a), rda.as_tuple(),
            receipt_tuple(b), sign_receipt(station.key, domain, b), rdb.as_tuple(),
            sender=attacker)


# ---------------------------------------------------------------- withheld readings
@pytest.fixture
def challenger(attacker: Any, watt: Any, treasury: Any, proofs: Any) -> Any:
    watt.transfer(attacker, 1_000 * WAD, sender=treasury)
    watt.approve(proofs, 1_000 * WAD, sender=attacker)
    return attacker


def test_challenge__unanswered_slashes_forfeits_and_pays_the_challenger(
        metered: Any, make_receipt: Any, driver: Any, domain: Domain, proofs: Any, staking: Any,
        rewards: Any, watt: Any, challenger: Any, operator: Any, chain: Any,
        fund_operator: Any) -> None:
    station, meter = metered
    r, _ = metered_session(make_receipt, station, driver, meter, metered_wh=10_000)
    fund_operator(operator, 100 * WAD)
    staking.requestUnbond(100 * WAD, sender=operator)
    bond, bal = int(proofs.challengeBond()), int(watt.balanceOf(challenger))
    proofs.challengeReadings(receipt_tuple(r), sign_receipt(station.key, domain, r),
                             sender=challenger)
    h = receipt_struct_hash(r)
    # The operator cannot run with its stake while the challenge is open.
    chain.pending_timestamp += int(staking.unbondingDelay()) + 1
    with ape.reverts(staking.StakingUnderChallenge):
        staking.withdraw(sender=operator)
    with ape.reverts(proofs.ReadingsAlreadyChallenged):
        proofs.challengeReadings(receipt_tuple(r), sign_receipt(station.key, domain, r),
                                 sender=challenger)
    before = stake_of(staking, operator)
    amount = min(int(staking.equivocationSlash()), before)
    # past the answer period (as well as the unbonding delay, which may be the shorter)
    chain.pending_timestamp = max(chain.pending_timestamp,
                                  int(chain.blocks.head.timestamp) + int(proofs.ANSWER_PERIOD()))
    proofs.finalizeChallenge(h, sender=operator)  # anyone may finalize; the challenger is paid
    assert stake_of(staking, operator) == before - amount
    bounty = amount * int(staking.equivocationBountyBps()) // 10_000
    assert int(watt.balanceOf(challenger)) - bal == bounty
    assert int(watt.balanceOf(proofs)) == 0 and bond > 0
    assert rewards.forfeited((r.end_time - int(rewards.genesis())) // WEEK, station.station_id)
    staking.withdraw(sender=operator)  # closed: the rest of its unbonding stake is free
    with ape.reverts(proofs.ReadingsAlreadyChallenged):
        proofs.challengeReadings(receipt_tuple(r), sign_receipt(station.key, domain, r),
                                 sender=challenger)


def test_challenge__answered_pays_the_bond_to_the_operator(
        metered: Any, make_receipt: Any, driver: Any, domain: Domain, proofs: Any, staking: Any,
        watt: Any, challenger: Any, operator: Any, chain: Any) -> None:
    station, meter = metered
    r, rd = metered_session(make_receipt, station, driver, meter, metered_wh=10_000)
    bond, stake = int(proofs.challengeBond()), stake_of(staking, operator)
    proofs.challengeReadings(receipt_tuple(r), sign_receipt(station.key, domain, r),
                             sender=challenger)
    assert staking.openChallenges(operator) == 1
    bal = int(watt.balanceOf(operator))
    proofs.answerReadings(receipt_tuple(r), rd.as_tuple(), sender=operator)
    assert int(watt.balanceOf(operator)) - bal == bond
    assert staking.openChallenges(operator) == 0
    assert stake_of(staking, operator) == stake
    chain.pending_timestamp += int(proofs.ANSWER_PERIOD()) + 1
    with ape.reverts(proofs.ReadingsNoChallenge):
        proofs.finalizeChallenge(receipt_struct_hash(r), sender=challenger)


def test_challenge__rules(
        metered: Any, make_receipt: Any, driver: Any, domain: Domain, proofs: Any,
        challenger: Any, operator: Any, staking: Any, watt: Any) -> None:
    station, meter = metered
    bare = make_receipt(station, driver, readings=NO_READINGS)
    with ape.reverts(proofs.ReadingsNotCommitted):
        proofs.challengeReadings(receipt_tuple(bare), sign_receipt(station.key, domain, bare),
                                 sender=challenger)
    r, rd = metered_session(make_receipt, station, driver, meter, metered_wh=10_000,
                            claimed_wh=10_500)
    proofs.challengeReadings(receipt_tuple(r), sign_receipt(station.key, domain, r),
                             sender=challenger)
    h = receipt_struct_hash(r)
    with ape.reverts(proofs.ReadingsAnswerPeriodOpen):
        proofs.finalizeChallenge(h, sender=challenger)
    with ape.reverts(proofs.ReadingsBadAnswer):  # readings that do not back it are no answer
        proofs.answerReadings(receipt_tuple(r), rd.as_tuple(), sender=operator)


def test_challenge__the_operator_challenging_itself_earns_no_bounty(
        metered: Any, make_receipt: Any, driver: Any, domain: Domain, proofs: Any, staking: Any,
        watt: Any, operator: Any, chain: Any, treasury: Any) -> None:
    station, meter = metered
    r, _ = metered_session(make_receipt, station, driver, meter, metered_wh=10_000)
    watt.transfer(operator, 100 * WAD, sender=treasury)
    watt.approve(proofs, 100 * WAD, sender=operator)
    bal = int(watt.balanceOf(operator))
    proofs.challengeReadings(receipt_tuple(r), sign_receipt(station.key, domain, r),
                             sender=operator)
    chain.pending_timestamp += int(proofs.ANSWER_PERIOD()) + 1
    tx = proofs.finalizeChallenge(receipt_struct_hash(r), sender=operator)
    [slashed] = tx.decode_logs(staking.Slashed)
    assert slashed.bounty == 0
    assert int(watt.balanceOf(operator)) == bal  # only its own bond back


def test_staking_hooks__only_the_readings_proofs_contract(
        staking: Any, attacker: Any, operator: Any) -> None:
    with ape.reverts(staking.StakingNotReadingsProofs):
        staking.holdWithdrawals(operator, True, sender=attacker)
    finding = (bytes(32), bytes(32), 0, 0, operator.address, bytes(32), attacker.address, True)
    with ape.reverts(staking.StakingNotReadingsProofs):
        staking.enforceFinding(finding, sender=attacker)


# ---------------------------------------------------------------- settlement
def test_settlement__a_receipt_without_readings_is_paid_but_earns_no_weight(
        metered: Any, make_receipt: Any, driver: Any, create_driver: Any, sign: Any,
        credits: Any, oracle: Any, rewards: Any, credit_id: int) -> None:
    station, _ = metered
    create_driver(driver)
    r = make_receipt(station, driver, readings=NO_READINGS)
    epoch = (r.end_time - int(rewards.genesis())) // WEEK
    before = credits.stationEpoch(epoch, station.station_id)
    paid = int(credits.owed(station.operator, credit_id))
    tx = credits.settlePacked(pack_tuples([sign(r, station.key)]), sender=oracle)
    assert not list(tx.decode_logs(credits.ReceiptRejected))
    assert int(credits.owed(station.operator, credit_id)) > paid
    after = credits.stationEpoch(epoch, station.station_id)
    assert (after.weight, after.rewardedWh) == (before.weight, before.rewardedWh)
    committed = make_receipt(station, driver)  # the default receipt commits to readings
    credits.settlePacked(pack_tuples([sign(committed, station.key)]), sender=oracle)
    assert credits.stationEpoch(epoch, station.station_id).weight > after.weight
