"""Judged findings (issue 13): what the committee signs k of n besides batches.

A forfeit of a station's epoch rewards and a freeze of its operator's stake (while governance
votes on a slash) rest on receipts the committee quarantined. The evidence document lists them;
its keccak256 (canonical JSON) is the finding's ``evidence``, which the chain records as the
forfeit's and the freeze's reason, and every node keeps the receipts it names.

A node signs a finding (``FindingJudge.sign``) only when, in its own database, every receipt
the document lists is quarantined for a reason its policy names (``committee.forfeit_reasons``)
and belongs to the finding's station and epoch (forfeit) or operator (freeze), and the deadline
is in the future and within its ``finding_ttl_s``. A receipt whose station signature failed is
rejected at ingest, never quarantined, so nobody frames a station with receipts it never signed.
Location attestations rest on evidence no node can check by itself (a site visit): each node's
operator reviews it and signs by hand; nodes refuse them over HTTP.

Each node sweeps its recent quarantines (``FindingProposer.sweep``): the forfeits and freezes
they support are proposed by one member, chosen by the finding's subject and the chain hour
(another member takes over an hour later when it is silent). It gathers k signatures and keeps
the signed finding in its ``findings`` table; ``GET /v1/committee/findings`` lists them for anyone
to relay to ``OracleCommittee.act`` (as for equivocation evidence: the node's own key keeps to
settlement, so its transaction nonces stay the batcher's alone).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from eth_utils.crypto import keccak

from wattnet.chain.committee import Finding, FindingKind, finding_digest, operator_subject
from wattnet.chain.eip712 import recover_digest
from wattnet.econ.rewards import epoch_of
from wattnet.oracle.committee import CommitteeView, Key, Refused, show_key, signature_in
from wattnet.oracle.schema import Status
from wattnet.oracle.store_base import Store, session_key

log = logging.getLogger(__name__)

MAX_EVIDENCE_RECEIPTS = 1_000
JUDGED = (FindingKind.FORFEIT, FindingKind.FREEZE)


class FindingView(CommitteeView, Protocol):
    def chain_time(self) -> int: ...

    def rewards_genesis(self) -> int: ...


def evidence_document(keys: Sequence[Key]) -> dict[str, Any]:
    """The evidence of a forfeit or freeze: the quarantined receipts, sorted."""
    return {"v": 1, "receipts": [["0x" + s.hex(), n] for s, n in sorted(set(keys))]}


def evidence_hash(document: Any) -> bytes:
    return keccak(json.dumps(document, sort_keys=True, separators=(",", ":")).encode())


def finding_to_json(f: Finding) -> dict[str, Any]:
    return {"kind": f.kind.name.lower(), "subject": "0x" + f.subject.hex(), "value": str(f.value),
            "evidence": "0x" + f.evidence.hex(), "id": f.id, "deadline": f.deadline}


def finding_from_json(obj: Any) -> Finding:
    try:
        f = Finding(FindingKind[str(obj["kind"]).upper()], _word(obj["subject"]),
                    int(obj["value"]), _word(obj["evidence"]), int(obj["id"]),
                    int(obj["deadline"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise Refused(f"malformed finding: {exc!r}") from exc
    if not (0 <= f.value < 2**256 and 0 <= f.id < 2**63 and 0 <= f.deadline < 2**40):
        raise Refused("finding value, id or deadline out of range")
    return f


def _word(text: Any) -> bytes:
    raw = bytes.fromhex(str(text).removeprefix("0x"))
    if len(raw) != 32:
        raise ValueError("want 32 bytes")
    return raw


def _keys(document: Any) -> list[Key]:
    try:
        keys = [(bytes.fromhex(str(s).removeprefix("0x")), int(n)) for s, n in document["receipts"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise Refused(f"malformed evidence: {exc!r}") from exc
    if not 0 < len(keys) <= MAX_EVIDENCE_RECEIPTS or any(
            len(s) != 32 or not 0 <= n < 2**64 for s, n in keys):
        raise Refused(f"evidence must list 1..{MAX_EVIDENCE_RECEIPTS} receipts "
                      "(32-byte station id, uint64 session)")
    return keys


class FindingJudge:
    """This node's judgement of a forfeit or freeze, from its own database alone."""

    def __init__(self, store: Store, view: FindingView, reasons: Sequence[str],
                 ttl_s: int) -> None:
        self.store, self.view = store, view
        self.reasons = tuple(reasons)
        self.ttl_s = ttl_s

    def forfeitable(self, keys: Sequence[Key]) -> list[tuple[Key, bytes, int, bytes]]:
        """(key, station, end time, operator) of the receipts among ``keys`` quarantined here
        for a reason the policy names."""
        out = []
        with self.store.transaction() as tx:
            for station, session in keys:
                row = tx.one("SELECT end_time, operator, status, reason FROM receipts WHERE "
                             "station_id = ? AND session_key = ?", (station, session_key(session)))
                if row is not None and row[2] == Status.QUARANTINED and self._named(row[3]):
                    out.append(((station, session), station, int(row[0]), bytes(row[1])))
        return out

    def _named(self, reason: str | None) -> bool:
        return reason is not None and any(r in reason for r in self.reasons)

    def judge(self, f: Finding, document: Any) -> None:
        """Nothing when this node agrees with ``f``; ``Refused`` saying why otherwise."""
        if f.kind not in JUDGED:
            raise Refused("location attestations are signed by each node's operator after "
                          "reviewing the evidence (wattnet oracle sign-finding), not over HTTP")
        if evidence_hash(document) != f.evidence:
            raise Refused("the evidence document does not hash to the finding's evidence")
        now = self.view.chain_time()
        if not now < f.deadline <= now + self.ttl_s:
            raise Refused(f"deadline {f.deadline} not within ({now}, {now + self.ttl_s}]")
        keys = _keys(document)
        found = {key: (station, end, op) for key, station, end, op in self.forfeitable(keys)}
        genesis = self.view.rewards_genesis() if f.kind == FindingKind.FORFEIT else 0
        for key in keys:
            if key not in found:
                raise Refused(f"receipt {show_key(key)} is not quarantined here for a reason "
                              f"this node forfeits for")
            station, end_time, operator = found[key]
            if f.kind == FindingKind.FORFEIT and (
                    station != f.subject or epoch_of(genesis, end_time) != f.value):
                raise Refused(f"receipt {show_key(key)} is not of station 0x{f.subject.hex()} "
                              f"in epoch {f.value}")
            if f.kind == FindingKind.FREEZE and (
                    operator_subject("0x" + operator.hex()) != f.subject or f.value != 0):
                raise Refused(f"receipt {show_key(key)} is not of operator "
                              f"0x{f.subject[12:].hex()}")

    def sign(self, f: Finding, document: Any) -> bytes:
        self.judge(f, document)
        return self.view.sign_digest(finding_digest(self.view.domain, f))


Ask = Callable[[str, dict[str, Any], str], "dict[str, Any] | str"]


class FindingProposer:
    """After a quorum quarantine: the forfeits and freezes it supports, with k signatures."""

    def __init__(self, judge: FindingJudge, peers: Sequence[str], ask: Ask) -> None:
        self.judge = judge
        self.view = judge.view
        self.peers = tuple(peers)
        self._ask = ask

    def findings_for(self, keys: Sequence[Key]) -> list[tuple[Finding, dict[str, Any]]]:
        """One forfeit per (station, epoch) and one freeze per operator."""
        rows = self.judge.forfeitable(keys)
        if not rows:
            return []
        genesis = self.view.rewards_genesis()
        deadline = self.view.chain_time() + self.judge.ttl_s
        forfeits: defaultdict[tuple[bytes, int], list[Key]] = defaultdict(list)
        freezes: defaultdict[bytes, list[Key]] = defaultdict(list)
        for key, station, end_time, operator in rows:
            forfeits[(station, epoch_of(genesis, end_time))].append(key)
            freezes[operator].append(key)
        out = []
        for (station, epoch), group in sorted(forfeits.items()):
            out.append(self._finding(FindingKind.FORFEIT, station, epoch, group, deadline))
        for operator, group in sorted(freezes.items()):
            out.append(self._finding(FindingKind.FREEZE, operator_subject("0x" + operator.hex()),
                                     0, group, deadline))
        return out

    @staticmethod
    def _finding(kind: FindingKind, subject: bytes, value: int, keys: list[Key],
                 deadline: int) -> tuple[Finding, dict[str, Any]]:
        doc = evidence_document(keys)
        return Finding(kind, subject, value, evidence_hash(doc), secrets.randbits(63),
                       deadline), doc

    def gather(self, f: Finding, document: dict[str, Any]) -> bytes | None:
        """``act``'s signatures (k members, ascending), or None when short of k."""
        digest = finding_digest(self.view.domain, f)
        votes = {int(self.view.address, 16): self.judge.sign(f, document)}
        members = {int(m, 16) for m in self.view.committee_members()}
        body = {"finding": finding_to_json(f), "evidence": document}
        for peer in self.peers:
            answer = self._ask("findings", body, peer)
            sig = signature_in(answer)
            if sig is None:
                log.info("finding %s: %s refused: %s", f.kind.name, peer, answer)
                continue
            try:
                signer = int(recover_digest(digest, sig), 16)
            except Exception:  # a signature that does not recover counts for nothing
                continue
            if signer in members:
                votes[signer] = sig
        if len(votes) < self.view.committee_threshold():
            return None
        return b"".join(votes[a] for a in sorted(votes))

    def sweep(self, since: int) -> int:
        """Propose the findings this node owns among the quarantines updated since ``since``
        (unix seconds) that no finding kept here covers yet; how many it kept."""
        members = self.view.committee_members()
        me = int(self.view.address, 16)
        if me not in {int(m, 16) for m in members}:
            return 0
        with self.judge.store.transaction() as tx:
            rows = tx.query("SELECT station_id, session_key FROM receipts WHERE status = ? AND "
                            "updated_at >= ?", (Status.QUARANTINED, since))
            documents = tx.query("SELECT kind, document FROM findings")
        covered = {(int(kind), bytes.fromhex(s[2:]), int(n))
                   for kind, doc in documents for s, n in json.loads(doc)["receipts"]}
        keys = [(bytes(s), int.from_bytes(bytes(n), "big")) for s, n in rows]
        hour = self.view.chain_time() // 3_600
        mine = []
        for f, doc in self.findings_for(keys):
            owner = members[(int.from_bytes(f.subject, "big") + hour) % len(members)]
            fresh = [k for k in _keys(doc) if (int(f.kind), *k) not in covered]
            if int(owner, 16) == me and fresh:
                mine.append((f, doc))
        return self.propose(mine)

    def propose(self, findings: Sequence[tuple[Finding, dict[str, Any]]]) -> int:
        """Gather and keep ``findings`` (each with its evidence); how many got k signatures."""
        kept = 0
        for f, doc in findings:
            try:
                sigs = self.gather(f, doc)
            except Refused as exc:
                log.warning("finding %s not proposed: %s", f.kind.name, exc)
                continue
            if sigs is None:
                log.warning("finding %s for 0x%s: fewer than k signatures", f.kind.name,
                            f.subject.hex())
                continue
            keep(self.judge.store, f, doc, sigs, int(time.time()))
            kept += 1
            log.warning("finding %s for 0x%s signed by the committee (evidence 0x%s)",
                        f.kind.name, f.subject.hex(), f.evidence.hex())
        return kept


def keep(store: Store, f: Finding, document: dict[str, Any], signatures: bytes,
         now: int) -> None:
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO findings (finding_hash, kind, subject, value, evidence, finding_id, "
            "deadline, document, signatures, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (finding_hash) DO NOTHING",
            (f.struct_hash(), int(f.kind), f.subject, str(f.value), f.evidence, f.id, f.deadline,
             json.dumps(document, sort_keys=True), signatures, now))


def signed_findings(store: Store) -> list[dict[str, Any]]:
    """Every finding this node gathered k signatures for: ``act``'s arguments and the evidence."""
    with store.transaction() as tx:
        rows = tx.query("SELECT kind, subject, value, evidence, finding_id, deadline, document, "
                      "signatures FROM findings ORDER BY created_at, finding_hash")
    out = []
    for kind, subject, value, evidence, fid, deadline, document, sigs in rows:
        f = Finding(FindingKind(int(kind)), bytes(subject), int(value), bytes(evidence),
                    int(fid), int(deadline))
        out.append({"finding": finding_to_json(f), "tuple": _tuple_json(f),
                    "signatures": "0x" + bytes(sigs).hex(), "evidence": json.loads(document)})
    return out


def _tuple_json(f: Finding) -> list[Any]:
    return [int(f.kind), "0x" + f.subject.hex(), str(f.value), "0x" + f.evidence.hex(), f.id,
            f.deadline]
