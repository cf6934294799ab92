"""The committee node's rules without a chain (issue 13): whose round it is, when a node votes,
that it never signs two batches in one round (not across restarts either), and the proof it
keeps of a proposer that did. The same rules against the contract and real processes:
tests/contracts/e2e/test_committee_nodes.py."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from eth_utils.crypto import keccak

from wattnet.chain.batch_codec import pack_batch, unpack_batch
from wattnet.chain.committee import batch_digest, batch_domain, committee_domain
from wattnet.chain.eip712 import (
    address_of_private_key,
    recover_digest,
    sign_digest,
    sign_receipt,
)
from wattnet.chain.receipt_codec import signed_from_json
from wattnet.oracle.committee import Proposal, Proposer, Refused, Turns, Voter, proposer_of
from wattnet.oracle.ingest import Ingestor
from wattnet.oracle.schema import Status
from wattnet.oracle.store_base import Store

from .oracle_helpers import DOMAIN as DOMAIN_R
from .oracle_helpers import T0, Clock, Station, make_receipt, sign

KEYS = sorted((keccak(text=f"node-{i}") for i in range(3)),
              key=lambda k: int(address_of_private_key(k), 16))
NODES = [address_of_private_key(k) for k in KEYS]
DOMAIN = committee_domain(31337, "0x" + "c0" * 20)
BATCH_DOMAIN = batch_domain(31337, "0x" + "cc" * 20)  # batches: the ledger's domain


@dataclass
class View:
    """The committee as node ``me`` reads it."""

    me: int
    nonce: int = 7
    members: list[str] = field(default_factory=lambda: list(NODES))
    domain: Any = DOMAIN
    batch_domain: Any = BATCH_DOMAIN

    @property
    def address(self) -> str:
        return NODES[self.me]

    def committee_nonce(self) -> int:
        return self.nonce

    def committee_members(self) -> list[str]:
        return self.members

    def committee_threshold(self) -> int:
        return 2

    def sign_digest(self, digest: bytes) -> bytes:
        return sign_digest(KEYS[self.me], digest)

    def settled_many(self, keys: list[tuple[bytes, int]]) -> list[bool]:
        return [False] * len(keys)


def _batch(ingestor: Ingestor, station: Station, *sessions: int) -> bytes:
    signed = [signed_from_json(sign(station, make_receipt(
        station, s, start_time=T0 - 40_000 + 4_000 * s, end_time=T0 - 37_000 + 4_000 * s)))
        for s in sessions]
    outcomes = ingestor.process([sign(station, s.receipt) for s in signed])
    assert all(o.status == "accepted" for o in outcomes), outcomes
    return pack_batch((s.receipt, s.signature) for s in signed)


def _proposal(nonce: int, round_: int, batch: bytes) -> bytes:
    """The signature of the member whose round it is."""
    who = NODES.index(proposer_of(NODES, nonce, round_))
    return sign_digest(KEYS[who], batch_digest(BATCH_DOMAIN, nonce, round_, batch))


def test_turns__rounds_rotate_over_the_members_and_restart_with_each_nonce() -> None:
    clock = Clock(0.0)
    turns = Turns(10.0, clock)
    order = []
    for _ in range(4):
        order.append(next(n for n in NODES if turns.is_mine(7, NODES, n)))
        clock.now += 10
    assert order == [NODES[7 % 3], NODES[8 % 3], NODES[9 % 3], NODES[7 % 3]]
    assert turns.round_now(8) == 0  # a new nonce: round 0 again, from when it was first seen
    # only the current round's owner may propose (8 % 3 = 2), nobody ahead of its turn
    assert [turns.my_round(8, NODES, n) for n in NODES] == [None, None, 0]
    assert turns.my_round(8, NODES, "0x" + "11" * 20) is None


def test_vote__only_for_the_next_nonce_and_the_round_owner_and_known_good_receipts(
        store: Store, ingestor: Ingestor, station: Station) -> None:
    voter = Voter(store, View(me=0))
    batch = _batch(ingestor, station, 1, 2)
    with pytest.raises(Refused, match="not the committee's next"):
        voter.vote(8, 0, batch, _proposal(8, 0, batch))
    # round 0 is not node 0's
    intruder = sign_digest(KEYS[0], batch_digest(BATCH_DOMAIN, 7, 0, batch))
    assert proposer_of(NODES, 7, 0) != NODES[0]
    with pytest.raises(Refused, match="is 0x"):
        voter.vote(7, 0, batch, intruder)
    with pytest.raises(Refused, match="does not decode"):
        voter.vote(7, 1, batch[:-3], _proposal(7, 1, batch[:-3]))
    with store.transaction() as tx:
        tx.execute("UPDATE receipts SET status = ?, reason = ? WHERE session_key = ?",
                   (Status.QUARANTINED, "implausible energy", (2).to_bytes(8, "big")))
    with pytest.raises(Refused, match="quarantined here: implausible energy"):
        voter.vote(7, 1, batch, _proposal(7, 1, batch))
    unknown = _batch(ingestor, station, 3)
    with store.transaction() as tx:
        tx.execute("DELETE FROM receipts WHERE session_key = ?", ((3).to_bytes(8, "big"),))
    with pytest.raises(Refused, match="unknown here") as missing:
        voter.vote(7, 1, unknown, _proposal(7, 1, unknown))
    assert missing.value.missing == ((station.info.station_id, 3),)


def test_vote__a_proposer_that_alters_a_receipt_the_node_holds_gets_no_vote(
        store: Store, ingestor: Ingestor, station: Station) -> None:
    """A rogue proposer keeps the key of a receipt every node accepted but raises its energy
    and cost (signing it with a key of its own), or keeps the content and swaps in another
    valid-looking signature: the node compares with what it stored and refuses."""
    voter = Voter(store, View(me=0))
    good = signed_from_json(sign(station, make_receipt(
        station, 1, start_time=T0 - 40_000, end_time=T0 - 37_000)))
    assert ingestor.process([sign(station, good.receipt)])[0].status == "accepted"
    inflated = replace(good.receipt, energy_wh=good.receipt.energy_wh * 2,
                       cost=good.receipt.cost * 2)
    forged = pack_batch([(inflated, sign_receipt(keccak(b"rogue"), DOMAIN_R, inflated))])
    with pytest.raises(Refused, match="differs from the one this node holds"):
        voter.vote(7, 1, forged, _proposal(7, 1, forged))
    other_sig = sign_receipt(keccak(b"rogue"), DOMAIN_R, good.receipt)
    swapped = pack_batch([(good.receipt, other_sig)])
    with pytest.raises(Refused, match="another signature than the station's"):
        voter.vote(7, 2, swapped, _proposal(7, 2, swapped))
    with store.transaction() as tx:  # nothing voted: the honest batch still gets its vote
        assert tx.one("SELECT COUNT(*) FROM votes")[0] == 0
    honest = pack_batch([(good.receipt, good.signature)])
    assert voter.vote(7, 3, honest, _proposal(7, 3, honest))


def test_vote__one_batch_per_round_across_restarts_and_the_proof_of_a_double_proposal(
        make_store: Any, ingestor_for: Any, station: Station) -> None:
    store = make_store()
    ingestor = ingestor_for(store)
    a, b = _batch(ingestor, station, 1), _batch(ingestor, station, 2)
    voter = Voter(store, View(me=0))
    sig = voter.vote(7, 1, a, _proposal(7, 1, a))
    assert recover_digest(batch_digest(BATCH_DOMAIN, 7, 1, a), sig) == NODES[0]
    assert voter.vote(7, 1, a, _proposal(7, 1, a)) == sig  # asked again: the same vote
    restarted = Voter(make_store(), View(me=0))  # the same database after a restart
    with pytest.raises(Refused, match="already signed another batch"):
        restarted.vote(7, 1, b, _proposal(7, 1, b))
    [proof] = restarted.evidence()
    assert proof["node"] == proposer_of(NODES, 7, 1)
    assert (proof["hashA"], proof["hashB"]) == ("0x" + keccak(a).hex(), "0x" + keccak(b).hex())
    for h, s in ((a, proof["sigA"]), (b, proof["sigB"])):
        assert recover_digest(batch_digest(BATCH_DOMAIN, 7, 1, h), bytes.fromhex(s[2:])) == \
            proof["node"]
    assert restarted.vote(7, 2, b, _proposal(7, 2, b))  # the next round may carry it


def test_proposal__malformed_bodies_are_refused_with_what_is_wanted() -> None:
    good = Proposal(7, 1, b"\x01" * 10, b"\x02" * 65).to_json()
    assert Proposal.from_json(good) == Proposal(7, 1, b"\x01" * 10, b"\x02" * 65)
    for bad in ({}, {**good, "nonce": -1}, {**good, "round": 2**32},
                {**good, "signature": "0x1234"}, {**good, "batch": "0x"},
                {**good, "batch": "zz"}, []):
        with pytest.raises(Refused, match="malformed proposal"):
            Proposal.from_json(bad)


def test_proposer__one_rogue_refusal_drops_nothing_and_only_a_quorum_quarantines(
        store: Store, ingestor: Ingestor, station: Station,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A node of 3 (k = 2) proposes two receipts. A rogue peer that refuses an honest receipt
    cannot get it left out or quarantined: the other peer's acceptance and the proposer's make
    the quorum. When both peers refuse it, that is the committee's verdict: quarantined here,
    and the rest of the batch goes on."""
    me = NODES.index(proposer_of(NODES, 7, 0))
    batch = _batch(ingestor, station, 1, 2)
    r1 = (station.info.station_id, 1)

    def run(refusers: set[str]) -> bytes:
        def ask(self: Proposer, what: str, body: dict[str, Any], peer: str) -> Any:
            if what == "check":
                bad = [{"station": "0x" + r1[0].hex(), "session": r1[1], "reason": "rogue"}]
                return {"refused": bad if peer in refusers else []}
            other = NODES.index(proposer_of(NODES, 7, 1 if peer == "http://a" else 2))
            digest = batch_digest(BATCH_DOMAIN, body["nonce"], body["round"],
                                  bytes.fromhex(body["batch"][2:]))
            return {"signature": "0x" + sign_digest(KEYS[other], digest).hex()}

        monkeypatch.setattr(Proposer, "ask", ask)
        proposer = Proposer(Voter(store, View(me=me)), Turns(10.0, Clock(0.0)),
                            ["http://a", "http://b"])
        sent, nonce, round_, votes = proposer.collect(batch)
        assert (nonce, round_, len(votes)) == (7, 0, 2 * 64)  # compact, for settleSigned
        return sent

    assert run({"http://a"}) == batch  # one refusal: both receipts go
    with store.transaction() as tx:
        assert tx.one("SELECT status FROM receipts WHERE session_key = ?",
                      ((1).to_bytes(8, "big"),))[0] == Status.PENDING
    with store.transaction() as tx:  # the round's vote is spent: a new nonce for the next try
        tx.execute("DELETE FROM votes")
    rest = run({"http://a", "http://b"})  # both refuse: the committee's verdict
    assert [r.session_id for r, _, _ in unpack_batch(rest)] == [2]
    with store.transaction() as tx:
        status, reason = tx.one("SELECT status, reason FROM receipts WHERE session_key = ?",
                                ((1).to_bytes(8, "big"),))
    assert status == Status.QUARANTINED and reason.startswith("committee refused:")
