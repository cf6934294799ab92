"""One node of the oracle committee (issue 13): its vote on a batch, and its proposals.

Every node runs the whole pipeline on its own database (verify, plausibility, quarantine);
the committee contract (contracts/oracle/OracleCommittee.sol) settles a batch only with
``threshold`` member signatures over (nonce, round, keccak256(packed batch)).

Turns: batch ``nonce`` is proposed in rounds; round ``r`` belongs to member
``sorted(members)[(nonce + r) % len(members)]``. A node counts rounds from when it first saw the
nonce (``round_s`` each), so a silent proposer costs one round, then the next member proposes.

A vote (``Voter.vote``) is given when, and only when:
- the nonce is the committee's next one (no signature for a past or future batch);
- the proposal carries the signature of the member whose round it is (for another node's
  proposal);
- every receipt in the batch is one this node holds, accepted by its own checks (not
  quarantined, not rejected), with the same content and station signature;
- this node has not signed another batch in that round. The vote is written to ``votes``
  before the signature leaves the node, so no crash or race makes it equivocate.
A node that lacks receipts of a proposal fetches them from its peers and ingests them through
its own pipeline first (``missing``, then the API's fetch); a receipt its checks quarantine is
refused, whoever proposed it: that is what k independent verifiers buy.

Safety comes from the contract (k signatures of distinct members, nonces in order, each
receipt's settled bit); liveness from the rotation. Nothing else is agreed between nodes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, runtime_checkable

import requests
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from wattnet.chain.batch_codec import pack_compact, unpack_batch
from wattnet.chain.committee import batch_digest, batch_signatures
from wattnet.chain.eip712 import Domain, compact_signature, receipt_struct_hash, recover_digest
from wattnet.errors import WattNetError
from wattnet.oracle.schema import Status
from wattnet.oracle.store_base import Store, session_key

log = logging.getLogger(__name__)

# Receipts a node votes to settle: waiting here, or in its own batch in flight (whichever
# batch lands first pays it; the settled bit refuses the other). One found settled is not
# voted for again: it would only cost the relayer gas.
ACCEPTED = frozenset({Status.PENDING, Status.BATCHED, Status.SUBMITTED})


Key = tuple[bytes, int]  # (station id, session id)


def show_key(key: Key) -> str:
    return f"0x{key[0].hex()}/{key[1]}"


@runtime_checkable
class CommitteeView(Protocol):
    """What a node reads of the committee contract, and its own key."""

    address: str
    domain: Domain  # the committee's: judged findings
    batch_domain: Domain  # the ledger's, which checks batches (chain.committee.batch_domain)

    def committee_nonce(self) -> int: ...

    def committee_members(self) -> list[str]:
        """Current members, sorted by address (the rotation's order)."""
        ...

    def committee_threshold(self) -> int: ...

    def sign_digest(self, digest: bytes) -> bytes: ...

    def settled_many(self, keys: list[Key]) -> list[bool]:
        """``isSettled`` of each (station id, session id), as of the latest block."""
        ...


class Refused(WattNetError):
    """This node does not sign the proposal (``missing``: it lacks receipts it may fetch)."""

    def __init__(self, reason: str, missing: Sequence[tuple[bytes, int]] = ()) -> None:
        super().__init__(reason)
        self.missing = tuple(missing)


class CommitteeShort(WattNetError):
    """Fewer than ``threshold`` signatures came together for a batch."""


def proposer_of(members: Sequence[str], nonce: int, round_: int) -> str:
    return members[(nonce + round_) % len(members)]


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


class Turns:
    """Whose round it is at the committee's next nonce, by this node's clock."""

    def __init__(self, round_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.round_s = round_s
        self.clock = clock
        self._seen: tuple[int, float] | None = None

    def round_now(self, nonce: int) -> int:
        now = self.clock()
        if self._seen is None or self._seen[0] != nonce:
            self._seen = (nonce, now)
        return int((now - self._seen[1]) // self.round_s)

    def my_round(self, nonce: int, members: Sequence[str], me: str) -> int | None:
        """The current round when it is ``me``'s, else None: a node proposes only in its own
        round (proposing ahead for a later round would race the current round's owner)."""
        if not members:
            return None
        round_ = self.round_now(nonce)
        return round_ if _same(proposer_of(members, nonce, round_), me) else None

    def is_mine(self, nonce: int, members: Sequence[str], me: str) -> bool:
        return self.my_round(nonce, members, me) is not None


@dataclass(frozen=True, slots=True)
class Proposal:
    nonce: int
    round: int
    batch: bytes
    signature: bytes  # the proposer's own vote

    def to_json(self) -> dict[str, Any]:
        return {"nonce": self.nonce, "round": self.round, "batch": "0x" + self.batch.hex(),
                "signature": "0x" + self.signature.hex()}

    @classmethod
    def from_json(cls, obj: Any) -> Proposal:
        try:
            nonce, round_ = int(obj["nonce"]), int(obj["round"])
            batch = bytes.fromhex(str(obj["batch"]).removeprefix("0x"))
            sig = bytes.fromhex(str(obj["signature"]).removeprefix("0x"))
        except (KeyError, TypeError, ValueError) as exc:
            raise Refused(f"malformed proposal: {exc!r} (want nonce, round, batch, signature)"
                          ) from exc
        if not (0 <= nonce < 2**64 and 0 <= round_ < 2**32) or len(sig) != 65 or not batch:
            raise Refused("malformed proposal: nonce, round or signature out of range")
        return cls(nonce, round_, batch, sig)


class Voter:
    """This node's judgement of a batch, and its one vote per (nonce, round)."""

    def __init__(self, store: Store, view: CommitteeView,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.view = view
        self.clock = clock
        self._lock = threading.Lock()  # one vote at a time: its own proposal's and peers'

    def digest(self, nonce: int, round_: int, batch: bytes) -> bytes:
        return batch_digest(self.view.batch_domain, nonce, round_, batch)

    def vote(self, nonce: int, round_: int, batch: bytes, proposer_sig: bytes | None) -> bytes:
        """This node's signature on the batch, or ``Refused`` with why."""
        with self._lock:
            return self._vote(nonce, round_, batch, proposer_sig)

    def _vote(self, nonce: int, round_: int, batch: bytes, proposer_sig: bytes | None) -> bytes:
        digest = self.digest(nonce, round_, batch)
        proposer = None
        if proposer_sig is not None:
            proposer = self._proposer(nonce, round_, digest, proposer_sig)
        batch_hash = keccak(batch)
        with self.store.transaction() as tx:
            row = tx.one("SELECT batch_hash, signature, proposer_sig FROM votes WHERE nonce = ? "
                         "AND round = ?", (nonce, round_))
        if row is not None:
            if bytes(row[0]) == batch_hash:
                return bytes(row[1])
            if proposer is not None and row[2] is not None:
                self._equivocation(proposer, nonce, round_, (bytes(row[0]), bytes(row[2])),
                                   (batch_hash, proposer_sig))
            raise Refused(f"already signed another batch in round {round_} of nonce {nonce}")
        expected = self.view.committee_nonce()
        if nonce != expected:
            raise Refused(f"nonce {nonce} is not the committee's next ({expected})")
        self._judge(batch)
        signature = self.view.sign_digest(digest)
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO votes (nonce, round, batch_hash, signature, proposer_sig, "
                       "voted_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (nonce, round_, batch_hash, signature, proposer_sig, int(self.clock())))
        return signature

    def _proposer(self, nonce: int, round_: int, digest: bytes, sig: bytes) -> str:
        members = self.view.committee_members()
        proposer = proposer_of(members, nonce, round_) if members else ""
        try:
            signer = recover_digest(digest, sig)
        except Exception as exc:  # malformed or malleable: not the proposer's
            raise Refused(f"proposal signature does not recover: {exc}") from exc
        if not _same(signer, proposer):
            raise Refused(f"round {round_} of nonce {nonce} is {proposer}'s, not {signer}'s")
        return signer

    def _equivocation(self, node: str, nonce: int, round_: int, a: tuple[bytes, bytes],
                      b: tuple[bytes | None, bytes | None]) -> None:
        """The proposer signed two batches in one round: keep the proof (``evidence``)."""
        log.error("committee member %s proposed two batches in round %d of nonce %d: "
                  "equivocation, provable on chain", node, round_, nonce)
        with self.store.transaction() as tx:
            if tx.one("SELECT 1 FROM equivocations WHERE node = ? AND nonce = ? AND round = ?",
                      (bytes.fromhex(node[2:]), nonce, round_)) is None:
                tx.execute("INSERT INTO equivocations (node, nonce, round, hash_a, sig_a, "
                           "hash_b, sig_b, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           (bytes.fromhex(node[2:]), nonce, round_, a[0], a[1], b[0], b[1],
                            int(self.clock())))

    def evidence(self) -> list[dict[str, Any]]:
        """Proofs of equivocation seen here: the arguments of ``proveEquivocation``."""
        with self.store.transaction() as tx:
            rows = tx.query("SELECT node, nonce, round, hash_a, sig_a, hash_b, sig_b FROM "
                            "equivocations ORDER BY seen_at")
        return [{"node": to_checksum_address(bytes(n)), "nonce": int(nonce), "round": int(r),
                 "hashA": "0x" + bytes(ha).hex(), "sigA": "0x" + bytes(sa).hex(),
                 "hashB": "0x" + bytes(hb).hex(), "sigB": "0x" + bytes(sb).hex()}
                for n, nonce, r, ha, sa, hb, sb in rows]

    def _judge(self, batch: bytes) -> None:
        missing, refused = self.verdicts(batch)
        if refused:
            key, reason = next(iter(refused.items()))
            raise Refused(f"receipt {show_key(key)} {reason}")
        if missing:
            raise Refused(f"{len(missing)} receipts of the batch are unknown here", missing)

    def verdicts(self, batch: bytes) -> tuple[list[Key], dict[Key, str]]:
        """The batch's receipts this node lacks, and those it refuses (with why)."""
        try:
            items = unpack_batch(batch)
        except Exception as exc:  # ReceiptError and friends: the bytes do not parse
            raise Refused(f"batch does not decode: {exc}") from exc
        if not items:
            raise Refused("empty batch")
        missing: list[Key] = []
        refused: dict[Key, str] = {}
        with self.store.transaction() as tx:
            for receipt, r, vs in items:
                key = (receipt.station_id, receipt.session_id)
                row = tx.one("SELECT status, reason, struct_hash, signature FROM receipts "
                             "WHERE station_id = ? AND session_key = ?",
                             (receipt.station_id, session_key(receipt.session_id)))
                if row is None:
                    missing.append(key)
                    continue
                status, reason, struct_hash, signature = row
                if bytes(struct_hash) != receipt_struct_hash(receipt):
                    refused[key] = "differs from the one this node holds"
                elif compact_signature(bytes(signature)) != (bytes(r), bytes(vs)):
                    refused[key] = "carries another signature than the station's"
                elif status not in ACCEPTED:
                    refused[key] = f"is {status} here" + (f": {reason}" if reason else "")
        return missing, refused


class Proposer:
    """Proposes this node's batch in its round and gathers the committee's votes over HTTP."""

    def __init__(self, voter: Voter, turns: Turns, peers: Sequence[str],
                 timeout_s: float = 5.0) -> None:
        self.voter = voter
        self.view = voter.view
        self.turns = turns
        self.peers = tuple(p.rstrip("/") for p in peers)
        self.timeout_s = timeout_s
        self._http = requests.Session()
        self._pool = ThreadPoolExecutor(max(len(self.peers), 1), "committee-votes")

    def may_propose(self) -> bool:
        """Whether the committee's next nonce is in this node's round now."""
        return self.turns.is_mine(self.view.committee_nonce(), self.view.committee_members(),
                                  self.view.address)

    def collect(self, batch: bytes) -> tuple[bytes, int, int, bytes]:
        """(batch, nonce, round, signatures) for ``settleSigned``, or ``CommitteeShort``.

        The peers first say which receipts they would refuse (``/v1/committee/check``); the
        batch proposed is the part at least ``threshold`` nodes accept. A receipt that more
        nodes refuse than can be missing from a quorum is the committee's verdict: it is
        quarantined here and proposed no more."""
        nonce, members = self.view.committee_nonce(), self.view.committee_members()
        k = self.view.committee_threshold()
        round_ = self.turns.my_round(nonce, members, self.view.address)
        if round_ is None:
            raise CommitteeShort(f"not this node's round at nonce {nonce}")
        # Read after the nonce: every batch before it is mined, so what it settled shows here
        # (a batch at this nonce by another node would make this one's relay revert instead).
        batch = self._agreed(self._unsettled(batch), k, len(members))
        try:
            mine = self.voter.vote(nonce, round_, batch, None)
        except Refused as exc:
            raise CommitteeShort(f"this node refuses its own batch: {exc}") from exc
        proposal = Proposal(nonce, round_, batch, mine)
        digest = self.voter.digest(nonce, round_, batch)
        votes = {int(self.view.address, 16): mine}
        refusals: list[str] = []
        asked = {self._pool.submit(self.ask, "votes", proposal.to_json(), peer): peer
                 for peer in self.peers}
        for done in as_completed(asked):
            peer, answer = asked[done], done.result()
            sig = signature_in(answer)
            if sig is None:
                refusals.append(f"{peer}: {_why(answer)}")
                continue
            try:
                signer = recover_digest(digest, sig)
            except Exception:
                refusals.append(f"{peer}: a signature that does not recover")
                continue
            if any(_same(signer, m) for m in members):
                votes[int(signer, 16)] = sig
            else:
                refusals.append(f"{peer}: signed by {signer}, no member")
            if len(votes) >= k:
                break  # enough: the slower peers' votes are not needed
        if len(votes) < k:
            raise CommitteeShort(f"{len(votes)} of {k} signatures for nonce {nonce} round "
                                 f"{round_}: " + "; ".join(refusals))
        log.info("nonce %d round %d: %d signatures of %d members", nonce, round_, len(votes),
                 len(members))
        signed = batch_signatures({f"0x{a:040x}": sig for a, sig in votes.items()})
        return batch, nonce, round_, signed

    def _unsettled(self, batch: bytes) -> bytes:
        """``batch`` without the receipts another node's batch settled meanwhile."""
        items = unpack_batch(batch)
        flags = self.view.settled_many([(r.station_id, r.session_id) for r, _, _ in items])
        left = [item for item, settled in zip(items, flags, strict=True) if not settled]
        if not left:
            raise CommitteeShort("every receipt of the batch is settled already")
        return batch if len(left) == len(items) else pack_compact(left)

    def _agreed(self, batch: bytes, k: int, members: int) -> bytes:
        """The receipts of ``batch`` that at least ``k`` nodes (this one included) accept."""
        _, mine = self.voter.verdicts(batch)
        body = {"batch": "0x" + batch.hex()}
        answers = list(self._pool.map(partial(self.ask, "check", body), self.peers))
        refused: dict[Key, list[str]] = {}
        for key, why in mine.items():
            refused.setdefault(key, []).append(f"here: {why}")
        for peer, answer in zip(self.peers, answers, strict=True):
            for entry in answer.get("refused", []) if isinstance(answer, dict) else []:
                try:
                    key = (bytes.fromhex(str(entry["station"])[2:]), int(entry["session"]))
                except (KeyError, TypeError, ValueError):
                    continue
                refused.setdefault(key, []).append(f"{peer}: {entry.get('reason', '')}")
        answered = 1 + sum(isinstance(a, dict) and "refused" in a for a in answers)
        items = unpack_batch(batch)
        keep, verdict = [], []
        for item in items:
            key = (item[0].station_id, item[0].session_id)
            against = len(refused.get(key, ()))
            if answered - against >= k:
                keep.append(item)
            elif against > members - k:
                verdict.append(key)
        if verdict:
            self._quarantine(verdict, refused)
        if not keep:
            raise CommitteeShort(f"no receipt of the batch has {k} nodes' agreement "
                                 f"({answered} of {members} nodes answered)")
        return batch if len(keep) == len(items) else pack_compact(keep)

    def _quarantine(self, keys: list[Key], refused: dict[Key, list[str]]) -> None:
        now = int(self.voter.clock())
        with self.voter.store.transaction() as tx:
            for key in keys:
                why = "committee refused: " + "; ".join(refused[key])[:400]
                tx.execute("UPDATE receipts SET status = ?, reason = ?, updated_at = ? WHERE "
                           "station_id = ? AND session_key = ? AND status IN (?, ?, ?)",
                           (Status.QUARANTINED, why, now, key[0], session_key(key[1]),
                            Status.PENDING, Status.BATCHED, Status.SUBMITTED))
        log.warning("%d receipts quarantined: the committee refuses them (%s)", len(keys),
                    "; ".join(refused[keys[0]])[:300])

    def ask(self, what: str, body: dict[str, Any], peer: str) -> dict[str, Any] | str:
        try:
            resp = self._http.post(f"{peer}/v1/committee/{what}", json=body,
                                   timeout=self.timeout_s)
            answer = resp.json()
        except (requests.RequestException, ValueError) as exc:
            return f"no answer ({type(exc).__name__})"
        if not isinstance(answer, dict):
            return f"an answer that is no object: {str(answer)[:100]}"
        if resp.status_code != 200:
            return str(answer.get("error", answer))[:300]
        return answer

    def close(self) -> None:
        self._pool.shutdown(wait=False)

def signature_in(answer: dict[str, Any] | str) -> bytes | None:
    """The 65-byte signature a peer answered with, or None."""
    if not isinstance(answer, dict):
        return None
    try:
        sig = bytes.fromhex(str(answer["signature"]).removeprefix("0x"))
    except (KeyError, ValueError):
        return None
    return sig if len(sig) == 65 else None


def _why(answer: dict[str, Any] | str) -> str:
    return answer if isinstance(answer, str) else "an answer without a valid signature"
