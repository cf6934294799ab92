"""OracleCommittee, judged findings and bad-receipt proofs (issue 13): a location attestation,
a forfeit or a freeze takes k member signatures over an EIP-712 ``Finding`` carrying its
evidence hash, executes once and before its deadline; a node that signed a batch holding a
receipt no key of its station ever signed is slashed by anyone, and an honest node's
signature stays unprovable whatever the station does afterwards (rotation, a forged index)."""

from __future__ import annotations

import itertools
import os
from dataclasses import replace
from typing import Any

import ape
import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wattnet.chain import roles
from wattnet.chain.batch_codec import pack_batch
from wattnet.chain.committee import (
    Finding,
    FindingKind,
    batch_digest,
    batch_domain,
    committee_domain,
    finding_digest,
    node_digest,
    operator_subject,
    signatures_for,
)
from wattnet.chain.deploy import WAD
from wattnet.chain.eip712 import Domain, address_of_private_key, sign_digest, sign_receipt

KEYS = [keccak(text=f"findings-node-{i}") for i in range(6)]
ADDR = [address_of_private_key(k) for k in KEYS]
MIN_STAKE = 1_000 * WAD
WEEK = 7 * 86_400
EVIDENCE = keccak(text="the quarantined receipts, their verdicts and the meter records")


@pytest.fixture(scope="module")
def committee(project: Any, watt: Any, settlement: Any, treasury: Any, governor: Any,
              operator: Any, registry: Any, rewards: Any, staking: Any) -> Any:
    """Four members (k = 3) and two registered outsiders; the committee holds the finding
    roles next to governance, as the governed deploy grants them."""
    c = project.OracleCommittee.deploy(watt, settlement, treasury, governor, MIN_STAKE, WEEK,
                                       1_000, sender=governor)
    watt.transfer(operator, 100 * MIN_STAKE, sender=treasury)
    watt.approve(c, 100 * MIN_STAKE, sender=operator)
    settlement.grantRole(roles.COMMITTEE_ROLE, c, sender=governor)  # admissions publish
    domain = committee_domain(c.provider.chain_id, c.address)
    for key in KEYS:
        c.register(address_of_private_key(key), MIN_STAKE,
                   sign_digest(key, node_digest(domain, operator.address)), sender=operator)
    for a in ADDR[:4]:
        c.admit(a, sender=governor)
    c.setThreshold(3, sender=governor)
    registry.grantRole(roles.ATTESTER_ROLE, c, sender=governor)
    rewards.grantRole(roles.FINDINGS_ROLE, c, sender=governor)
    staking.grantRole(roles.FREEZER_ROLE, c, sender=governor)
    return c


def _domain(c: Any) -> Domain:
    return committee_domain(c.provider.chain_id, c.address)


def _batch_domain(settlement: Any) -> Domain:
    return batch_domain(settlement.provider.chain_id, settlement.address)


def _finding(chain: Any, kind: FindingKind, subject: bytes, value: int, **kw: Any) -> Finding:
    fields = {"evidence": EVIDENCE, "id": int.from_bytes(os.urandom(8), "big"),
              "deadline": chain.pending_timestamp + 3_600} | kw
    return Finding(kind, subject, value, **fields)


def _signed(c: Any, f: Finding, keys: list[bytes]) -> bytes:
    return signatures_for(finding_digest(_domain(c), f), keys)


def test_finding_digest__python_and_contract_agree(committee: Any, chain: Any) -> None:
    f = _finding(chain, FindingKind.FORFEIT, os.urandom(32), 7)
    assert committee.findingDigest(f.as_tuple()) == finding_digest(_domain(committee), f)


def test_act__k_signatures_attest_a_location_once_with_its_evidence(
        committee: Any, create_station: Any, operator2: Any, registry: Any, attacker: Any,
        chain: Any) -> None:
    station = create_station(operator2, certified=False)
    f = _finding(chain, FindingKind.ATTEST_LOCATION, station.station_id, 1)
    with ape.reverts(committee.CommitteeTooFewSigners):
        committee.act(f.as_tuple(), _signed(committee, f, KEYS[:2]), sender=attacker)
    tx = committee.act(f.as_tuple(), _signed(committee, f, KEYS[:3]), sender=attacker)
    [event] = tx.decode_logs(committee.FindingActed)
    assert (event.subject, event.evidence, event.signers, event.effective) == (
        station.station_id, EVIDENCE, 3, True)
    assert registry.locationAttested(station.station_id)
    with ape.reverts(committee.CommitteeFindingUsed):  # a replay of the same signatures
        committee.act(f.as_tuple(), _signed(committee, f, KEYS[:3]), sender=attacker)
    withdraw = replace(f, value=0, id=f.id + 1)  # a new finding withdraws it
    committee.act(withdraw.as_tuple(), _signed(committee, withdraw, KEYS[1:4]), sender=attacker)
    assert not registry.locationAttested(station.station_id)
    bad = replace(f, value=2, id=f.id + 2)
    with ape.reverts(committee.CommitteeBadFindingValue):
        committee.act(bad.as_tuple(), _signed(committee, bad, KEYS[:3]), sender=attacker)


def test_act__forfeit_and_freeze_take_effect_with_the_evidence_as_reason(
        committee: Any, create_station: Any, operator2: Any, rewards: Any, staking: Any,
        attacker: Any, chain: Any) -> None:
    station = create_station(operator2, certified=False)
    epoch = rewards.currentEpoch()
    f = _finding(chain, FindingKind.FORFEIT, station.station_id, epoch)
    tx = committee.act(f.as_tuple(), _signed(committee, f, KEYS[:3]), sender=attacker)
    assert rewards.forfeited(epoch, station.station_id)
    [forfeit] = tx.decode_logs(rewards.RewardsForfeited)
    assert forfeit.reason == EVIDENCE
    again = replace(f, id=f.id + 1)  # already forfeited: executes, takes no effect
    tx = committee.act(again.as_tuple(), _signed(committee, again, KEYS[:3]), sender=attacker)
    assert not tx.decode_logs(committee.FindingActed)[0].effective
    freeze = _finding(chain, FindingKind.FREEZE, operator_subject(operator2.address), 0)
    committee.act(freeze.as_tuple(), _signed(committee, freeze, KEYS[:3]), sender=attacker)
    assert staking.frozenUntil(operator2) > chain.pending_timestamp
    dirty = replace(freeze, subject=b"\x01" + freeze.subject[1:], id=freeze.id + 1)
    with ape.reverts(committee.CommitteeBadFindingValue):
        committee.act(dirty.as_tuple(), _signed(committee, dirty, KEYS[:3]), sender=attacker)


def test_act__stale_signatures_expire(committee: Any, create_station: Any, operator2: Any,
                                      attacker: Any, chain: Any) -> None:
    station = create_station(operator2, certified=False)
    f = _finding(chain, FindingKind.ATTEST_LOCATION, station.station_id, 1,
                 deadline=chain.pending_timestamp - 1)
    with ape.reverts(committee.CommitteeFindingExpired):
        committee.act(f.as_tuple(), _signed(committee, f, KEYS[:3]), sender=attacker)


def test_role_matrix__findings_need_the_committee_or_governance(
        committee: Any, create_station: Any, operator2: Any, registry: Any, rewards: Any,
        staking: Any, attacker: Any, operator: Any) -> None:
    """No member key, operator or outsider reaches the finding entry points directly."""
    station = create_station(operator2, certified=False)
    for who in (attacker, operator, operator2):
        with ape.reverts(registry.AccessControlUnauthorizedAccount):
            registry.attestLocation(station.station_id, True, sender=who)
        with ape.reverts(rewards.AccessControlUnauthorizedAccount):
            rewards.forfeit(station.station_id, 0, EVIDENCE, sender=who)
        with ape.reverts(staking.AccessControlUnauthorizedAccount):
            staking.freeze(operator2, EVIDENCE, sender=who)


@pytest.fixture(scope="module")
def station_id(create_station: Any, operator2: Any) -> bytes:
    return bytes(create_station(operator2, certified=False).station_id)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_act__executes_exactly_with_k_distinct_members_in_order(
        committee: Any, station_id: bytes, attacker: Any, chain: Any,
        data: st.DataObject) -> None:
    """Dropped signatures, duplicates, outsiders (never admitted), wrong order: a finding
    executes iff k distinct current members signed it in ascending order."""
    chosen = data.draw(st.lists(st.integers(0, 3), unique=True))
    chosen += data.draw(st.lists(st.integers(0, 5), max_size=2))
    shuffle = data.draw(st.booleans())
    f = _finding(chain, FindingKind.ATTEST_LOCATION, station_id, 0)
    digest = finding_digest(_domain(committee), f)
    pairs = sorted((int(ADDR[i], 16), sign_digest(KEYS[i], digest)) for i in chosen)
    if shuffle:
        pairs.reverse()
    order = [a for a, _ in pairs]
    members = {int(a, 16) for a in committee.members()}
    ok = (all(a in members for a in order) and all(x < y for x, y in itertools.pairwise(order))
          and len(order) >= committee.threshold())
    try:
        committee.act.call(f.as_tuple(), b"".join(s for _, s in pairs), sender=attacker)
        accepted = True
    except ape.exceptions.ContractLogicError:
        accepted = False
    assert accepted == ok


# ---------------------------------------------------------------- bad receipts
@pytest.fixture(scope="module")
def forged(create_station: Any, create_driver: Any, make_receipt: Any, domain: Any,
           operator2: Any, driver: Any, chain: Any) -> Any:
    """A packed batch of the station's honest receipt (index 0) and one signed by a key never
    bound to it (index 1), plus the station (to rotate its key)."""
    station = create_station(operator2, certified=False)
    create_driver(driver)
    chain.pending_timestamp += 3_600
    end = chain.pending_timestamp - 60
    honest = make_receipt(station, driver, readings=bytes(32), energy_wh=1_000, duration=600,
                          end=end)
    fake = make_receipt(station, driver, readings=bytes(32), energy_wh=9_000, duration=600,
                        end=end - 700)
    pairs = [(honest, sign_receipt(station.key, domain, honest)),
             (fake, sign_receipt(os.urandom(32), domain, fake))]
    pairs.sort(key=lambda p: p[0].session_id)
    index_of_fake = [p[0] for p in pairs].index(fake)
    return station, pack_batch(pairs), index_of_fake


def test_prove_bad_receipt__a_node_that_signed_a_forged_receipt_loses_its_stake(
        committee: Any, settlement: Any, forged: Any, attacker: Any, watt: Any, treasury: Any,
        governor: Any) -> None:
    _, packed, bad = forged
    committee.admit(ADDR[4], sender=governor)
    nonce = settlement.batchNonce()
    sig = sign_digest(KEYS[4], batch_digest(_batch_domain(settlement), nonce, 0, packed))
    with ape.reverts(committee.CommitteeReceiptNotBad):  # the honest receipt
        committee.proveBadReceipt(ADDR[4], nonce, 0, packed, sig, 1 - bad, sender=attacker)
    with ape.reverts(committee.CommitteeReceiptNotBad):  # past the end
        committee.proveBadReceipt(ADDR[4], nonce, 0, packed, sig, 2, sender=attacker)
    with ape.reverts(committee.CommitteeNotSigned):  # another node's signature
        committee.proveBadReceipt(ADDR[3], nonce, 0, packed, sig, bad, sender=attacker)
    to_prover, to_treasury = watt.balanceOf(attacker), watt.balanceOf(treasury)
    committee.proveBadReceipt(ADDR[4], nonce, 0, packed, sig, bad, sender=attacker)
    assert watt.balanceOf(attacker) - to_prover == MIN_STAKE // 10
    assert watt.balanceOf(treasury) - to_treasury == MIN_STAKE - MIN_STAKE // 10
    assert ADDR[4] not in committee.members() and committee.nodeOf(ADDR[4]).stake == 0


def test_prove_bad_receipt__a_batch_that_does_not_decode_is_bad(
        committee: Any, settlement: Any, forged: Any, attacker: Any, governor: Any) -> None:
    _, packed, _ = forged
    committee.admit(ADDR[5], sender=governor)
    truncated = packed[:-5]
    nonce = settlement.batchNonce()
    sig = sign_digest(KEYS[5], batch_digest(_batch_domain(settlement), nonce, 3, truncated))
    committee.proveBadReceipt(ADDR[5], nonce, 3, truncated, sig, 1, sender=attacker)
    assert committee.nodeOf(ADDR[5]).stake == 0


def test_prove_bad_receipt__an_honest_signature_stays_unprovable_after_the_key_rotates(
        committee: Any, settlement: Any, forged: Any, registry: Any, operator2: Any,
        prove_signer: Any, attacker: Any) -> None:
    """The station's operator rotates the key that signed the honest receipt (to frame the
    nodes that signed it): the old key was bound once, so the receipt is still good."""
    station, packed, bad = forged
    new_key = os.urandom(32)
    registry.rotateSigner(station.station_id, address_of_private_key(new_key),
                          *prove_signer(new_key, station.station_id, operator2), sender=operator2)
    nonce = settlement.batchNonce()
    sig = sign_digest(KEYS[0], batch_digest(_batch_domain(settlement), nonce, 0, packed))
    with ape.reverts(committee.CommitteeReceiptNotBad):
        committee.proveBadReceipt(ADDR[0], nonce, 0, packed, sig, 1 - bad, sender=attacker)
    assert registry.everSigner(station.station_id, station.signer)
    assert ADDR[0] in committee.members()


def test_prove_bad_receipt__an_honest_signature_stays_unprovable_after_release_and_rebind(
        committee: Any, settlement: Any, forged: Any, registry: Any, operator2: Any,
        create_station: Any, attacker: Any, chain: Any) -> None:
    """The station is released and the key that signed the honest receipt is bound to another
    station (the key's holder may do so after a release): the receipt's station still counts
    the key as ever bound, so the nodes that signed the receipt cannot be framed."""
    station, packed, bad = forged
    registry.deactivateStation(station.station_id, sender=operator2)
    chain.pending_timestamp += registry.releaseDelay() + 1
    registry.releaseStation(station.station_id, sender=attacker)
    assert registry.getStation(station.station_id).operator == "0x" + "00" * 20
    elsewhere = create_station(operator2, key=station.key, certified=False)
    assert registry.stationOfSigner(station.signer) == elsewhere.station_id
    nonce = settlement.batchNonce()
    sig = sign_digest(KEYS[0], batch_digest(_batch_domain(settlement), nonce, 0, packed))
    with ape.reverts(committee.CommitteeReceiptNotBad):
        committee.proveBadReceipt(ADDR[0], nonce, 0, packed, sig, 1 - bad, sender=attacker)
    assert ADDR[0] in committee.members()
