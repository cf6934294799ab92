"""OracleCommittee and the ledger's settleSigned (issue 13, the contracts): a batch moves money
only with k member signatures over (nonce, round, batch hash) under the ledger's domain, checked
against the members the committee published; anyone may relay; nodes are staked, admitted by
governance and slashed by anyone who shows two batches signed for one nonce."""

from __future__ import annotations

import itertools
from typing import Any

import ape
import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wattnet.chain import roles
from wattnet.chain.batch_codec import pack_batch, pack_tuples
from wattnet.chain.committee import (
    batch_digest,
    batch_domain,
    batch_signatures_for,
    committee_bytes,
    committee_domain,
    node_digest,
)
from wattnet.chain.deploy import WAD
from wattnet.chain.eip712 import (
    address_of_private_key,
    compact_signature,
    sign_digest,
    sign_receipt,
)

KEYS = [keccak(text=f"committee-node-{i}") for i in range(7)]
ADDR = [address_of_private_key(k) for k in KEYS]
MIN_STAKE = 1_000 * WAD
WEEK = 7 * 86_400


@pytest.fixture(scope="module")
def committee(project: Any, watt: Any, settlement: Any, treasury: Any, governor: Any,
              oracle: Any, operator: Any) -> Any:
    c = project.OracleCommittee.deploy(watt, settlement, treasury, governor, MIN_STAKE, WEEK,
                                       1_000, sender=governor)
    settlement.grantRole(roles.COMMITTEE_ROLE, c, sender=governor)
    settlement.revokeRole(roles.ORACLE_ROLE, oracle, sender=governor)  # the committee alone
    watt.transfer(operator, 100 * MIN_STAKE, sender=treasury)
    watt.approve(c, 100 * MIN_STAKE, sender=operator)
    domain = committee_domain(c.provider.chain_id, c.address)
    for key in KEYS[:5]:  # 5 members; 5 and 6 stay outside
        c.register(address_of_private_key(key), MIN_STAKE,
                   sign_digest(key, node_digest(domain, operator.address)), sender=operator)
    for key in KEYS[5:]:
        c.register(address_of_private_key(key), MIN_STAKE,
                   sign_digest(key, node_digest(domain, operator.address)), sender=operator)
    for a in ADDR[:5]:
        c.admit(a, sender=governor)
    c.setThreshold(3, sender=governor)
    return c


@pytest.fixture(scope="module")
def batch(create_station: Any, create_driver: Any, make_receipt: Any, domain: Any,
          operator2: Any, driver: Any, chain: Any) -> Any:
    """A fresh packed batch of two receipts, each call."""
    station = create_station(operator2, certified=False)
    create_driver(driver)
    chain.pending_timestamp += 3_600

    def make() -> bytes:
        receipts = [make_receipt(station, driver, readings=bytes(32), energy_wh=1_000,
                                 duration=600, end=chain.pending_timestamp - 60 - 700 * i)
                    for i in range(2)]
        receipts.sort(key=lambda r: (r.station_id, r.session_id))
        return pack_batch((r, sign_receipt(station.key, domain, r)) for r in receipts)

    return make


def _domain(settlement: Any) -> Any:
    return batch_domain(settlement.provider.chain_id, settlement.address)


def _sigs(settlement: Any, nonce: int, packed: bytes, keys: list[bytes], round_: int = 0) -> bytes:
    return batch_signatures_for(batch_digest(_domain(settlement), nonce, round_, packed), keys)


def _relay(settlement: Any, committee: Any, packed: bytes, nonce: int, sigs: bytes,
           sender: Any, round_: int = 0, members: bytes | None = None) -> Any:
    """``settleSigned`` with the committee as published (or ``members``)."""
    members = committee.committee() if members is None else members
    return settlement.settleSigned(packed, nonce, round_, members, sigs, sender=sender)


def test_role_matrix__with_the_committee_nothing_settles_without_k_votes(
        committee: Any, batch: Any, settlement: Any, oracle: Any, governor: Any,
        attacker: Any, operator: Any, treasury: Any) -> None:
    """Once ORACLE_ROLE is taken from the oracle key, nobody holds it: the oracle-key entry point
    (one of the calls that burn drivers' credits, credit payees and add the reward weight WATT
    is minted for) refuses everyone, the old key and the governance admin included; through
    settleSigned, k - 1 votes are not enough, and only the committee publishes who votes."""
    packed = batch()
    assert not settlement.hasRole(roles.ORACLE_ROLE, committee)
    for who in (oracle, governor, attacker, operator, treasury):
        assert not settlement.hasRole(roles.ORACLE_ROLE, who)
        with ape.reverts(settlement.AccessControlUnauthorizedAccount):
            settlement.settlePacked(packed, sender=who)
        with ape.reverts(settlement.AccessControlUnauthorizedAccount):
            settlement.settlePacked(pack_tuples([]), sender=who)
        with ape.reverts(settlement.AccessControlUnauthorizedAccount):
            settlement.setCommittee(keccak(b"mine"), sender=who)
    k, nonce = committee.threshold(), settlement.batchNonce()
    with ape.reverts(settlement.SettlementTooFewSigners):
        _relay(settlement, committee, packed, nonce, _sigs(settlement, nonce, packed, KEYS[:k - 1]),
               attacker)


def test_settle__k_member_signatures_settle_a_batch_relayed_by_anyone(
        committee: Any, batch: Any, settlement: Any, attacker: Any) -> None:
    packed, nonce = batch(), settlement.batchNonce()
    tx = _relay(settlement, committee, packed, nonce, _sigs(settlement, nonce, packed, KEYS[:3]),
                attacker)
    [event] = tx.decode_logs(settlement.BatchSigned)
    assert (event.nonce, event.batchHash) == (nonce, keccak(packed))
    [settled] = tx.decode_logs(settlement.BatchSettled)
    assert (settled.submitter, settled.settled, settled.rejected) == (attacker.address, 2, 0)
    assert settlement.batchNonce() == nonce + 1


def test_settle__fewer_than_k_duplicated_unsorted_or_outsiders_revert(
        committee: Any, batch: Any, settlement: Any, attacker: Any) -> None:
    packed, nonce = batch(), settlement.batchNonce()
    two = _sigs(settlement, nonce, packed, KEYS[:2])
    with ape.reverts(settlement.SettlementTooFewSigners, signers=2, threshold=3):
        _relay(settlement, committee, packed, nonce, two, attacker)
    one = _sigs(settlement, nonce, packed, KEYS[:1])
    with ape.reverts(settlement.SettlementBadSignatures):  # the same signer three times
        _relay(settlement, committee, packed, nonce, one * 3, attacker)
    three = _sigs(settlement, nonce, packed, KEYS[:3])
    with ape.reverts(settlement.SettlementBadSignatures):  # not in the members' order
        _relay(settlement, committee, packed, nonce, three[64:128] + three[:64] + three[128:],
               attacker)
    outsiders = _sigs(settlement, nonce, packed, [KEYS[0], KEYS[1], KEYS[5]])
    with ape.reverts(settlement.SettlementBadSignatures):  # registered, never admitted
        _relay(settlement, committee, packed, nonce, outsiders, attacker)
    with ape.reverts(settlement.SettlementBadSignatures):  # not a multiple of 64 bytes
        _relay(settlement, committee, packed, nonce, three[:-1], attacker)
    other = batch()  # signatures over another batch recover other addresses
    with ape.reverts(settlement.SettlementBadSignatures):
        _relay(settlement, committee, other, nonce, three, attacker)


def test_settle__only_the_published_committee_counts(
        committee: Any, batch: Any, settlement: Any, attacker: Any) -> None:
    """The attacker brings its own committee (its key alone, threshold 1), the published one
    with its key added or put first, or a lower threshold: none hashes to what the committee
    published, so its signature never counts."""
    me = keccak(text="attacker-node")
    packed, nonce = batch(), settlement.batchNonce()
    mine = _sigs(settlement, nonce, packed, [me])
    members = [str(a) for a in committee.members()]
    assert bytes(committee.committee()) == committee_bytes(3, members)
    assert settlement.committeeHash() == keccak(committee_bytes(3, members))
    for forged in (committee_bytes(1, [address_of_private_key(me)]),
                   committee_bytes(3, [*members, address_of_private_key(me)]),
                   committee_bytes(2, members), b"", b"\x00"):
        with ape.reverts(settlement.SettlementWrongCommittee):
            _relay(settlement, committee, packed, nonce, mine, attacker, members=forged)
    put_first = bytes([1]) + bytes.fromhex(address_of_private_key(me)[2:]) + \
        bytes(committee.committee())[1:]
    with ape.reverts(settlement.SettlementWrongCommittee):
        _relay(settlement, committee, packed, nonce, mine, attacker, members=put_first)


def test_settle__a_nonce_settles_once_and_in_order(committee: Any, batch: Any, settlement: Any,
                                                   attacker: Any) -> None:
    packed, nonce = batch(), settlement.batchNonce()
    sigs = _sigs(settlement, nonce, packed, KEYS[1:4])
    with ape.reverts(settlement.SettlementWrongNonce, nonce=nonce + 1, expected=nonce):
        _relay(settlement, committee, packed, nonce + 1,
               _sigs(settlement, nonce + 1, packed, KEYS[1:4]), attacker)
    _relay(settlement, committee, packed, nonce, sigs, attacker)
    with ape.reverts(settlement.SettlementWrongNonce, nonce=nonce, expected=nonce + 1):
        _relay(settlement, committee, packed, nonce, sigs, attacker)  # a replay


def test_publish__every_change_of_members_or_threshold_is_published_in_order(
        committee: Any, settlement: Any, governor: Any) -> None:
    """Admissions keep the members ascending (the order signatures follow) and each change
    publishes the new hash in the same transaction."""
    def published() -> bytes:
        return bytes(settlement.committeeHash())

    assert published() == keccak(bytes(committee.committee()))
    members = [str(a) for a in committee.members()]
    assert members == sorted(members, key=lambda a: int(a, 16))
    tx = committee.setThreshold(4, sender=governor)
    assert [e.committeeHash for e in tx.decode_logs(settlement.CommitteeSet)] == \
        [keccak(committee_bytes(4, members))]
    committee.setThreshold(3, sender=governor)
    assert published() == keccak(committee_bytes(3, members))


def test_register__a_node_key_needs_its_own_signature(committee: Any, operator: Any,
                                                      attacker: Any, watt: Any) -> None:
    victim = keccak(text="victim-node")
    domain = committee_domain(committee.provider.chain_id, committee.address)
    proof = sign_digest(victim, node_digest(domain, operator.address))  # for another operator
    with ape.reverts(committee.CommitteeBadNodeProof):
        committee.register(address_of_private_key(victim), 0, proof, sender=attacker)
    with ape.reverts(committee.CommitteeKeyTaken):
        committee.register(ADDR[0], 0, sign_digest(KEYS[0], node_digest(
            domain, attacker.address)), sender=attacker)


def test_governance__admission_threshold_and_removal_are_bounded(
        committee: Any, governor: Any, attacker: Any, operator: Any) -> None:
    with ape.reverts():
        committee.admit(ADDR[5], sender=attacker)  # governance only
    with ape.reverts(committee.CommitteeParamOutOfBounds):
        committee.setThreshold(6, sender=governor)  # more than the members
    with ape.reverts(committee.CommitteeParamOutOfBounds):
        committee.setThreshold(0, sender=governor)
    committee.setThreshold(5, sender=governor)
    with ape.reverts(committee.CommitteeBelowThreshold):
        committee.remove(ADDR[4], sender=governor)  # lower the threshold first
    with ape.reverts(committee.CommitteeBelowThreshold):
        committee.resign(ADDR[4], sender=operator)
    committee.setThreshold(3, sender=governor)
    with ape.reverts(committee.CommitteeParamOutOfBounds):
        committee.setParams(MIN_STAKE, 3_600, 0, sender=governor)  # unbonding under 7 days


def test_resign__stake_returns_only_after_unbonding(committee: Any, governor: Any,
                                                    operator: Any, watt: Any, chain: Any) -> None:
    committee.admit(ADDR[6], sender=governor)
    committee.resign(ADDR[6], sender=operator)
    assert ADDR[6] not in committee.members()
    with ape.reverts(committee.CommitteeUnbonding):
        committee.withdraw(ADDR[6], sender=operator)
    chain.pending_timestamp += WEEK
    before = watt.balanceOf(operator)
    committee.withdraw(ADDR[6], sender=operator)
    assert watt.balanceOf(operator) - before == MIN_STAKE
    with ape.reverts(committee.CommitteeUnknownNode):
        committee.admit(ADDR[6], sender=governor)


def test_resign__a_node_that_resigned_signs_nothing_that_settles(
        committee: Any, batch: Any, settlement: Any, governor: Any, operator: Any,
        attacker: Any) -> None:
    """An operator resigns its node (to start unbonding) and keeps signing with the key: from
    the resignation on, its signature is refused even where it would make the threshold, and
    its stake stays slashable until withdrawn."""
    committee.admit(ADDR[6], sender=governor)
    packed, nonce = batch(), settlement.batchNonce()
    with_leaver = _sigs(settlement, nonce, packed, [KEYS[0], KEYS[1], KEYS[6]])
    committee.resign(ADDR[6], sender=operator)
    assert settlement.committeeHash() == keccak(bytes(committee.committee()))
    with ape.reverts(settlement.SettlementBadSignatures):
        _relay(settlement, committee, packed, nonce, with_leaver, attacker)
    a, b = batch(), batch()
    domain = _domain(settlement)
    committee.proveEquivocation(ADDR[6], nonce, 0, keccak(a),
                                sign_digest(KEYS[6], batch_digest(domain, nonce, 0, a)), keccak(b),
                                sign_digest(KEYS[6], batch_digest(domain, nonce, 0, b)),
                                sender=attacker)
    assert committee.nodeOf(ADDR[6]).stake == 0


def test_prove_equivocation__two_batches_for_one_nonce_slash_the_node(
        committee: Any, batch: Any, settlement: Any, attacker: Any, operator: Any, watt: Any,
        treasury: Any, governor: Any) -> None:
    committee.setThreshold(2, sender=governor)
    nonce = settlement.batchNonce()
    a, b = batch(), batch()
    domain = _domain(settlement)
    sig_a = sign_digest(KEYS[3], batch_digest(domain, nonce, 0, a))
    sig_b = sign_digest(KEYS[3], batch_digest(domain, nonce, 0, b))
    with ape.reverts(committee.CommitteeNotEquivocation):
        committee.proveEquivocation(ADDR[3], nonce, 0, keccak(a), sig_a, keccak(a), sig_a,
                                    sender=attacker)
    to_prover, to_treasury = watt.balanceOf(attacker), watt.balanceOf(treasury)
    committee.proveEquivocation(ADDR[3], nonce, 0, keccak(a), sig_a, keccak(b), sig_b,
                                sender=attacker)
    assert watt.balanceOf(attacker) - to_prover == MIN_STAKE // 10
    assert watt.balanceOf(treasury) - to_treasury == MIN_STAKE - MIN_STAKE // 10
    assert ADDR[3] not in committee.members() and committee.nodeOf(ADDR[3]).stake == 0
    with ape.reverts(settlement.SettlementBadSignatures):  # its signatures no longer count
        _relay(settlement, committee, a, nonce, _sigs(settlement, nonce, a, [KEYS[0], KEYS[3]]),
               attacker)
    with ape.reverts(committee.CommitteeNothingToSlash):
        committee.proveEquivocation(ADDR[3], nonce, 0, keccak(a), sig_a, keccak(b), sig_b,
                                    sender=attacker)
    committee.setThreshold(3, sender=governor)


def test_rounds__a_new_round_may_carry_another_batch_and_one_round_never_settles_another(
        committee: Any, batch: Any, settlement: Any, attacker: Any, governor: Any) -> None:
    """A node signs one batch per (nonce, round): signing another batch in the next round (the
    stalled round's proposer went silent) is no equivocation, and a round's signatures do not
    settle the batch under another round."""
    nonce = settlement.batchNonce()
    a, b = batch(), batch()
    domain = _domain(settlement)
    sig_a0 = sign_digest(KEYS[1], batch_digest(domain, nonce, 0, a))
    sig_b1 = sign_digest(KEYS[1], batch_digest(domain, nonce, 1, b))
    for r in (0, 1):
        with ape.reverts(committee.CommitteeNotEquivocation):
            committee.proveEquivocation(ADDR[1], nonce, r, keccak(a), sig_a0, keccak(b), sig_b1,
                                        sender=attacker)
    with ape.reverts(settlement.SettlementBadSignatures):
        _relay(settlement, committee, b, nonce, _sigs(settlement, nonce, b, KEYS[:3], round_=1),
               attacker)
    _relay(settlement, committee, b, nonce, _sigs(settlement, nonce, b, KEYS[:3], round_=1),
           attacker, round_=1)
    with ape.reverts(settlement.SettlementWrongNonce):  # the stalled round's batch is spent
        _relay(settlement, committee, a, nonce, _sigs(settlement, nonce, a, KEYS[:3]), attacker)
    assert committee.nodeOf(ADDR[1]).stake == MIN_STAKE


def test_prove_equivocation__self_report_earns_no_bounty(
        committee: Any, batch: Any, settlement: Any, operator: Any, watt: Any,
        governor: Any) -> None:
    nonce = settlement.batchNonce()
    a, b = batch(), batch()
    domain = _domain(settlement)
    before = watt.balanceOf(operator)
    committee.proveEquivocation(ADDR[2], nonce, 0, keccak(a),
                                sign_digest(KEYS[2], batch_digest(domain, nonce, 0, a)), keccak(b),
                                sign_digest(KEYS[2], batch_digest(domain, nonce, 0, b)),
                                sender=operator)
    assert watt.balanceOf(operator) == before


def test_rotation__a_batch_signed_before_a_rotation_settles_with_the_members_left(
        committee: Any, batch: Any, settlement: Any, governor: Any, attacker: Any) -> None:
    """Signed by three members at nonce n, relayed after one of them left and another came in:
    the two still in count, the one who left does not; with the threshold met by those left the
    batch settles against the committee published now, else the new set signs it again."""
    packed, nonce = batch(), settlement.batchNonce()
    old = [KEYS[0], KEYS[1], KEYS[2]]
    sigs = _sigs(settlement, nonce, packed, old)
    committee.setThreshold(2, sender=governor)
    committee.remove(ADDR[2], sender=governor)
    committee.admit(ADDR[5], sender=governor)
    with ape.reverts(settlement.SettlementWrongCommittee):  # the list it was signed under
        _relay(settlement, committee, packed, nonce, sigs, attacker,
               members=committee_bytes(2, [*(str(a) for a in committee.members()), ADDR[2]]))
    with ape.reverts(settlement.SettlementBadSignatures):  # the leaver's signature is refused
        _relay(settlement, committee, packed, nonce, sigs, attacker)
    kept = _sigs(settlement, nonce, packed, old[:2])
    tx = _relay(settlement, committee, packed, nonce, kept, attacker)
    assert [e.nonce for e in tx.decode_logs(settlement.BatchSigned)] == [nonce]
    committee.remove(ADDR[5], sender=governor)
    committee.admit(ADDR[2], sender=governor)
    committee.setThreshold(3, sender=governor)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_settle__succeeds_exactly_with_k_distinct_current_members_in_order_at_the_next_nonce(
        committee: Any, batch: Any, settlement: Any, attacker: Any, data: st.DataObject) -> None:
    """Drops, duplicates, outsiders (never admitted, resigned, slashed), wrong order and stale
    nonces: the contract accepts a batch iff its rule holds, judged from the members as they
    are now (most draws are mostly members, so both outcomes are exercised)."""
    current = {int(a, 16) for a in committee.members()}
    member_idx = [i for i in range(7) if int(ADDR[i], 16) in current]
    chosen = data.draw(st.lists(st.sampled_from(member_idx), unique=True))
    chosen += data.draw(st.lists(st.integers(0, 6), max_size=2))  # outsiders or duplicates
    shuffle = data.draw(st.sampled_from([False, False, True]))
    nonce_shift = data.draw(st.sampled_from([0, 0, 0, -1, 1]))
    packed = batch()
    nonce = settlement.batchNonce() + nonce_shift
    if nonce < 0:
        return
    digest = batch_digest(_domain(settlement), nonce, 0, packed)
    pairs = sorted((int(ADDR[i], 16), b"".join(compact_signature(sign_digest(KEYS[i], digest))))
                   for i in chosen)
    if shuffle:
        pairs.reverse()
    sigs = b"".join(s for _, s in pairs)
    order = [a for a, _ in pairs]
    valid = all(a in current for a in order) and all(x < y for x, y in itertools.pairwise(order))
    ok = nonce_shift == 0 and valid and len(order) >= committee.threshold()
    try:
        settlement.settleSigned.call(packed, nonce, 0, committee.committee(), sigs,
                                     sender=attacker)
        accepted = True
    except ape.exceptions.ContractLogicError:
        accepted = False
    assert accepted == ok
