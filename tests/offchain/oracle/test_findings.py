"""Judged findings on a committee node (issue 13): a node signs a forfeit or a freeze only when
its own database holds every receipt the evidence names quarantined for a reason its policy
forfeits for, of the finding's station and epoch (or operator); the sweep proposes what it
owns, gathers k signatures and keeps them for anyone to relay. The same against the contract:
tests/contracts/unit/test_committee_findings.py."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import pytest

from wattnet.chain.committee import Finding, FindingKind, finding_digest, operator_subject
from wattnet.chain.eip712 import recover_digest, sign_digest
from wattnet.econ.units import EPOCH_LENGTH
from wattnet.oracle.committee import Refused
from wattnet.oracle.findings import (
    FindingJudge,
    FindingProposer,
    evidence_document,
    evidence_hash,
    finding_from_json,
    finding_to_json,
    signed_findings,
)
from wattnet.oracle.ingest import Ingestor
from wattnet.oracle.store_base import Store

from .oracle_helpers import T0, Station, sign
from .oracle_helpers import make_receipt as receipt_of
from .test_committee import DOMAIN, KEYS, NODES, View

GENESIS = T0 - 3 * EPOCH_LENGTH
REASONS = ("exceeds rated power",)


@dataclass
class FindingsView(View):
    now: int = T0

    def chain_time(self) -> int:
        return self.now

    def rewards_genesis(self) -> int:
        return GENESIS


def _ingest(ingestor: Ingestor, station: Station, session: int, energy_wh: int) -> None:
    """A receipt of one hour: above 22 kW x 1 h it is quarantined as physically impossible."""
    r = receipt_of(station, session, energy_wh=energy_wh, start_time=T0 - 8_000 + 10 * session,
                   end_time=T0 - 4_400 + 10 * session)
    ingestor.process([sign(station, r)])


@pytest.fixture
def fraud(ingestor: Ingestor, station: Station) -> list[tuple[bytes, int]]:
    for s in (1, 2):
        _ingest(ingestor, station, s, 90_000)  # 90 kWh in an hour from a 22 kW station
    _ingest(ingestor, station, 3, 10_000)  # honest
    return [(station.info.station_id, 1), (station.info.station_id, 2)]


def _forfeit(station: Station, keys: list[tuple[bytes, int]], **kw: Any) -> tuple[Finding, Any]:
    doc = evidence_document(keys)
    epoch = (T0 - 4_400 - GENESIS) // EPOCH_LENGTH
    f = Finding(FindingKind.FORFEIT, station.info.station_id, epoch, evidence_hash(doc), 1,
                T0 + 3_600)
    return replace(f, **kw), doc


def _judge(store: Store, me: int = 0, reasons: tuple[str, ...] = REASONS) -> FindingJudge:
    return FindingJudge(store, FindingsView(me=me), reasons, 86_400)


def test_judge__signs_a_forfeit_its_own_quarantines_support(
        store: Store, station: Station, fraud: list[tuple[bytes, int]]) -> None:
    f, doc = _forfeit(station, fraud)
    sig = _judge(store).sign(f, doc)
    assert recover_digest(finding_digest(DOMAIN, f), sig) == NODES[0]
    freeze = Finding(FindingKind.FREEZE, operator_subject(station.info.operator), 0, f.evidence,
                     2, f.deadline)
    _judge(store).sign(freeze, doc)


@pytest.mark.parametrize(("change", "why"), [
    ({"value": 0}, "in epoch 0"),  # another epoch than the receipts'
    ({"subject": b"\x01" * 32}, "is not of station"),
    ({"evidence": b"\x02" * 32}, "does not hash"),
    ({"deadline": T0}, "deadline"),  # already past
    ({"deadline": T0 + 2 * 86_400}, "deadline"),  # beyond the node's ttl
    ({"kind": FindingKind.ATTEST_LOCATION}, "signed by each node's operator"),
])
def test_judge__refuses_a_finding_its_database_does_not_support(
        store: Store, station: Station, fraud: list[tuple[bytes, int]], change: dict[str, Any],
        why: str) -> None:
    f, doc = _forfeit(station, fraud, **change)
    with pytest.raises(Refused, match=why):
        _judge(store).sign(f, doc)


def test_judge__never_for_an_honest_receipt_or_a_reason_outside_its_policy(
        store: Store, station: Station, fraud: list[tuple[bytes, int]]) -> None:
    """A proposer slips the honest session 3 into the evidence: refused. A node whose policy
    does not forfeit for implausible energy signs nothing."""
    f, doc = _forfeit(station, [*fraud, (station.info.station_id, 3)])
    with pytest.raises(Refused, match="/3 is not quarantined here"):
        _judge(store).sign(f, doc)
    f, doc = _forfeit(station, fraud)
    with pytest.raises(Refused, match="not quarantined here for a reason"):
        _judge(store, reasons=("signed meter data replayed",)).sign(f, doc)
    other = Finding(FindingKind.FREEZE, operator_subject("0x" + "99" * 20), 0, f.evidence, 3,
                    f.deadline)
    with pytest.raises(Refused, match="is not of operator"):
        _judge(store).sign(other, doc)


def test_finding_json__round_trips_and_bad_fields_are_refused() -> None:
    f = Finding(FindingKind.FREEZE, b"\x00" * 12 + b"\x11" * 20, 0, b"\x22" * 32, 9, 10)
    assert finding_from_json(finding_to_json(f)) == f
    for bad in ({**finding_to_json(f), "kind": "burn"}, {**finding_to_json(f), "subject": "0x11"},
                {**finding_to_json(f), "id": 2**63}, {}):
        with pytest.raises(Refused):
            finding_from_json(bad)


def _proposer(store: Store, me: int, answer: Any) -> FindingProposer:
    def ask(what: str, body: dict[str, Any], peer: str) -> Any:
        assert what == "findings"
        return answer(finding_from_json(body["finding"]), peer)

    return FindingProposer(_judge(store, me), ["http://a", "http://b"], ask)


def _owner_of(subject: bytes) -> int:
    """The member that proposes findings about ``subject`` in the test's hour."""
    return (int.from_bytes(subject, "big") + T0 // 3_600) % len(NODES)


def test_sweep__the_owner_gathers_k_signatures_and_keeps_them_for_anyone_to_relay(
        store: Store, station: Station, fraud: list[tuple[bytes, int]]) -> None:
    me = _owner_of(station.info.station_id)
    peer = (me + 1) % 3

    def signed_by(node: int) -> Any:
        def answer(f: Finding, url: str) -> Any:
            if url == "http://b":
                return "no answer (ConnectionError)"  # one node down: k = 2 still met
            return {"signature": "0x" + sign_digest(KEYS[node], finding_digest(DOMAIN, f)).hex()}
        return answer

    peer_signs = signed_by(peer)
    freeze_too = _owner_of(operator_subject(station.info.operator)) == me
    assert _proposer(store, me, peer_signs).sweep(T0 - 86_400) == 1 + freeze_too
    [kept] = [k for k in signed_findings(store) if k["finding"]["kind"] == "forfeit"]
    f = finding_from_json(kept["finding"])
    assert f.kind == FindingKind.FORFEIT and f.evidence == evidence_hash(kept["evidence"])
    sigs = bytes.fromhex(kept["signatures"][2:])
    signers = [recover_digest(finding_digest(DOMAIN, f), sigs[i:i + 65]) for i in (0, 65)]
    assert sorted(signers, key=lambda a: int(a, 16)) == signers
    assert {int(a, 16) for a in signers} == {int(NODES[me], 16), int(NODES[peer], 16)}
    # what a kept finding covers is not proposed again (by kind: a freeze on the same
    # receipts is another finding)
    assert _proposer(store, me, peer_signs).sweep(T0 - 86_400) == 0
    if not freeze_too:
        freezer = _owner_of(operator_subject(station.info.operator))
        assert _proposer(store, freezer, signed_by((freezer + 1) % 3)).sweep(T0 - 86_400) == 1
        assert sorted(finding_from_json(k["finding"]).kind for k in signed_findings(store)) == [
            FindingKind.FORFEIT, FindingKind.FREEZE]


def test_sweep__nothing_kept_without_k_and_nothing_proposed_by_a_non_owner(
        store: Store, station: Station, fraud: list[tuple[bytes, int]]) -> None:
    owners = {_owner_of(station.info.station_id),
              _owner_of(operator_subject(station.info.operator))}
    for me in owners:
        assert _proposer(store, me, lambda f, url: {"error": "refused"}).sweep(T0 - 86_400) == 0
    [bystander] = set(range(3)) - owners if len(owners) == 2 else [min(set(range(3)) - owners)]

    def never(f: Finding, url: str) -> Any:
        raise AssertionError("a member that owns no finding asked its peers")

    assert _proposer(store, bystander, never).sweep(T0 - 86_400) == 0
    assert not signed_findings(store)
