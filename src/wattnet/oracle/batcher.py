"""Settlement: pending receipts -> batches -> transactions -> confirmations, crash-safe.

Write-ahead discipline, one batch in flight:
  1. intent: the batch row (status intent, nonce reserved) and its receipts (batched) commit
     BEFORE anything is sent;
  2. send, then record the tx hash (batch and receipts submitted);
  3. when a tx of the batch is mined with ``confirmations`` blocks on top, mark each receipt
     settled (isSettled true), rejected_onchain (ReceiptRejected reason) or pending again.
Whenever the batch's fate is unknown (intent without a tx hash after a crash, every tx dropped
or replaced, nothing mined for ``resubmit_after_s``) each receipt is first looked up with
isSettled: settled ones go to ``confirming`` (marked settled once that is ``confirmations`` deep),
only the rest are resent, replacing the batch's last tx at its nonce (gaps a reorg left below it
are filled with no-ops) or at the account's next nonce once that one was consumed.

A reverted tx (or a refused gas estimate) is never resent as it was: the receipts go into
corrected retry batches after a growing backoff (``retry.py``). Receipts near the end of their
window go first (``urgency.py``); one rejected as STALE is quarantined as ``expired``.

As a committee node (the chain adapter has ``may_propose``, ``committee.py``) the batcher opens
a batch, or sends one not yet sent, only in its own round; in every round it looks up which
of its waiting receipts other nodes' batches settled (``isSettled``) and confirms them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from eth_utils.address import to_checksum_address

from wattnet.domain import RejectReason, SessionReceipt, SignedReceipt
from wattnet.oracle.chain import SettlementChain, TxStatus, sort_key
from wattnet.oracle.config import BatcherConfig
from wattnet.oracle.crash import crashpoint
from wattnet.oracle.errors import SettlementWouldRevert
from wattnet.oracle.ledger import CreditLedger
from wattnet.oracle.losses import HELD_REASON, expired_reason
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.ordering import choose
from wattnet.oracle.retry import Reverts, send_options
from wattnet.oracle.schema import BatchStatus, Status
from wattnet.oracle.store_base import SETTLE_COLUMNS, Row, Store, Tx
from wattnet.oracle.store_starts import prune_starts
from wattnet.oracle.urgency import DeadlineClock, with_due_first

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3_600.0
FOLLOW_EVERY_S = 2.0
FOLLOW_ANYWAY_S = 30.0  # committee nonce unchanged: look this often all the same
FOLLOW_MAX = 5_000
KEEP_EXPIRED_STARTS_S = 7 * 86_400

_IN_FLIGHT = (Status.BATCHED, Status.SUBMITTED)


@dataclass(frozen=True, slots=True)
class Pending:
    """A stored receipt on its way to the chain."""

    id: int
    signed: SignedReceipt

    @property
    def key(self) -> tuple[bytes, int]:
        return sort_key(self.signed)


def pending_of(row: Row) -> Pending:
    (rid, station, skey, connector, driver, credit, energy, start, end, cost, referrer, sig,
     meter) = row[:13]
    receipt = SessionReceipt(
        station_id=bytes(station), session_id=int.from_bytes(bytes(skey), "big"),
        connector_id=int(connector), driver=to_checksum_address(bytes(driver)),
        credit_id=int(credit), energy_wh=int(energy), start_time=int(start), end_time=int(end),
        cost=int(cost), referrer=to_checksum_address(bytes(referrer)),
        readings=bytes(row[16]) if row[16] is not None else bytes(32),
    )
    return Pending(int(rid), SignedReceipt(receipt, bytes(sig), meter))


class Batcher:
    def __init__(
        self, store: Store, chain: SettlementChain, config: BatcherConfig, metrics: Metrics,
        clock: Callable[[], float] = time.time, ledger: CreditLedger | None = None,
    ) -> None:
        self.store = store
        self.chain = chain
        self.config = config
        self.metrics = metrics
        self.clock = clock
        self.ledger = ledger
        self._not_before = 0.0
        self._reverts = Reverts(store, config, metrics)
        self._deadlines = DeadlineClock(chain)
        self._pruned = 0.0
        self._may_propose: Callable[[], bool] | None = getattr(chain, "may_propose", None)
        self._followed = float("-inf")
        self._nonce: Callable[[], int] | None = getattr(chain, "committee_nonce", None)
        self._followed_nonce: int | None = None

    def step(self) -> None:
        """One round: advance the open batch or open a new one, then settle deep confirmations."""
        now = self.clock()
        with self.store.transaction() as tx:
            open_batch = tx.one(
                "SELECT id, nonce, status FROM batches WHERE status IN (?, ?) ORDER BY id "
                "LIMIT 1", (BatchStatus.INTENT, BatchStatus.SUBMITTED),
            )
        turn = self._may_propose is None or self._may_propose()
        if open_batch is not None:
            if turn or open_batch[2] == BatchStatus.SUBMITTED:
                nonce = None if open_batch[1] is None else int(open_batch[1])
                self._advance(int(open_batch[0]), nonce, now)
        elif turn and now >= self._not_before:
            if self._may_propose is not None:
                self._follow(now, every_s=0.0)  # never propose what another batch settled
            self._open_batch(now)
        if self._may_propose is not None:
            self._follow(now)
        self._confirm_observed(now)

    def _follow(self, now: float, every_s: float = FOLLOW_EVERY_S) -> None:
        """Committee node: receipts waiting here that another node's batch settled go to
        ``confirming`` (then ``settled`` once deep, by ``_confirm_observed``)."""
        if now - self._followed < every_s:
            return
        # Another node's batch settles only through the committee, which consumes a nonce:
        # while it stands still there is nothing new to find (polling every waiting receipt's
        # isSettled every 2 s cost each node thousands of calls a second).
        nonce = None if self._nonce is None else self._nonce()
        if (nonce is not None and nonce == self._followed_nonce
                and now - self._followed < FOLLOW_ANYWAY_S):
            return
        self._followed, self._followed_nonce = now, nonce
        with self.store.transaction() as tx:  # the keys only: no receipt is rebuilt here
            rows = tx.query("SELECT id, station_id, session_key FROM receipts WHERE status IN "
                            "(?, ?) ORDER BY id LIMIT ?", (Status.PENDING, Status.BATCHED,
                                                          FOLLOW_MAX))
        if not rows:
            return
        keys = [(bytes(sid), int.from_bytes(bytes(skey), "big")) for _, sid, skey in rows]
        done = [int(row[0]) for row, on_chain in zip(rows, self._settled(keys), strict=True)
                if on_chain]
        if done:
            head = self.chain.head_block()
            with self.store.transaction() as tx:
                tx.set_status(done, Status.CONFIRMING, int(now), block=head)
            log.info("%d receipts settled by other nodes' batches", len(done))

    # ---- new batch ----
    def _open_batch(self, now: float) -> None:
        cfg = self.config
        with self.store.transaction() as tx:
            stats = tx.one("SELECT COUNT(*), MIN(received_at) FROM receipts WHERE status = ?",
                           (Status.PENDING,))
            count, oldest = (int(stats[0]), stats[1]) if stats else (0, None)
            if count == 0 or (count < cfg.min_batch and now - float(oldest or 0) < cfg.max_age_s):
                return
            if self.ledger is None:
                rows = tx.query(
                    f"SELECT {SETTLE_COLUMNS} FROM receipts WHERE status = ? ORDER BY id LIMIT ?",
                    (Status.PENDING, cfg.max_batch),
                )
                rows = with_due_first(tx, rows, *self._deadlines.read(now), cfg.max_batch)
        if self.ledger is not None:
            rows = self._in_drivers_order(now)
            if not rows:  # all wait behind earlier sessions: look again next round
                return
        crashpoint("after_store_before_batch")
        batch = sorted((pending_of(r) for r in rows), key=lambda p: p.key)
        nonce = self.chain.next_nonce()
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO batches (status, nonce, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?)", (BatchStatus.INTENT, nonce, int(now), int(now)))
            batch_id = _last_batch_id(tx)
            tx.set_status([p.id for p in batch], Status.BATCHED, int(now), batch_id=batch_id)
        log.info("batch %d: %d receipts, nonce %d", batch_id, len(batch), nonce)
        self._send(batch_id, batch, nonce, now)

    def _in_drivers_order(self, now: float) -> list[Row]:
        """The next batch's receipts when start notices order drivers' sessions (``ordering``);
        receipts whose window closes while they wait are quarantined here."""
        assert self.ledger is not None
        choice = choose(self.store, self.ledger, self.config.max_batch, int(now),
                        self._deadlines.read(now)[0])
        prune = now - self._pruned > PRUNE_EVERY_S
        if choice.expired or prune:
            with self.store.transaction() as tx:
                tx.set_status(choice.expired, Status.QUARANTINED, int(now), reason=HELD_REASON)
                if prune:
                    prune_starts(tx, int(now) - KEEP_EXPIRED_STARTS_S)
            self._pruned = now if prune else self._pruned
        if choice.expired:
            log.warning("%d receipts quarantined: %s", len(choice.expired), HELD_REASON)
            self.metrics.inc("held_expired", len(choice.expired))
        if choice.waiting:
            log.info("%d receipts wait behind earlier-authorized sessions", choice.waiting)
        return choice.send

    def _send(self, batch_id: int, batch: list[Pending], nonce: int, now: float) -> None:
        # Write-ahead for resends too: the nonce about to be used is durable before the send, so
        # after a crash the resend replaces exactly the tx that may be pending there.
        with self.store.transaction() as tx:
            tx.execute("UPDATE batches SET nonce = ?, updated_at = ? WHERE id = ?",
                       (nonce, int(now), batch_id))
            min_gas, estimate = send_options(tx, batch_id)
        crashpoint("after_intent_before_submit")
        try:
            tx_hash = self.chain.submit([p.signed for p in batch], nonce, min_gas=min_gas,
                                        estimate=estimate)
        except SettlementWouldRevert as exc:  # nothing was sent
            self._not_before = self._reverts.failed(batch_id, [p.id for p in batch], exc.cause,
                                                    None, now)
            return
        crashpoint("after_submit_before_record")
        with self.store.transaction() as tx:
            tx.execute("INSERT INTO txs (batch_id, tx_hash, nonce, submitted_at, status) "
                       "VALUES (?, ?, ?, ?, 'sent')", (batch_id, tx_hash, nonce, int(now)))
            tx.execute("UPDATE batches SET status = ?, nonce = ?, attempts = attempts + 1, "
                       "updated_at = ? WHERE id = ?",
                       (BatchStatus.SUBMITTED, nonce, int(now), batch_id))
            tx.set_status([p.id for p in batch], Status.SUBMITTED, int(now), batch_id=batch_id,
                          tx_hash=tx_hash)
        self.metrics.inc("txs_submitted")
        log.info("batch %d: sent tx 0x%s (nonce %d)", batch_id, tx_hash.hex(), nonce)

    # ---- the batch in flight ----
    def _advance(self, batch_id: int, nonce: int | None, now: float) -> None:
        with self.store.transaction() as tx:
            rows = tx.query(
                f"SELECT {SETTLE_COLUMNS} FROM receipts WHERE batch_id = ? AND status IN (?, ?)",
                (batch_id, *_IN_FLIGHT),
            )
            txs = tx.query("SELECT tx_hash, submitted_at FROM txs WHERE batch_id = ? ORDER BY id",
                           (batch_id,))
        live = sorted((pending_of(r) for r in rows), key=lambda p: p.key)
        if not live:
            self._close(batch_id, now)
            return
        statuses = [(bytes(h), int(at), self.chain.tx_status(bytes(h))) for h, at in txs]
        mined = [(h, st) for h, _, st in statuses if st.mined]
        if mined:
            tx_hash, st = mined[-1]
            crashpoint("after_record_before_confirm")
            if st.confirmations >= self.config.confirmations:
                self._finalize(batch_id, live, tx_hash, st, now)
            return
        if not txs and now < self._not_before:
            return  # a retry after a revert, backing off
        waiting = any(st.known for _, _, st in statuses)
        last_sent = max((at for _, at, _ in statuses), default=None)
        if waiting and last_sent is not None and now - last_sent < self.config.resubmit_after_s:
            return
        self._resubmit(batch_id, live, nonce, now, reason="no tx recorded" if not txs else
                       "tx dropped or replaced" if not waiting else "tx not mined in time")

    def _finalize(
        self, batch_id: int, live: list[Pending], tx_hash: bytes, st: TxStatus, now: float
    ) -> None:
        if not st.success:
            self._not_before = self._reverts.failed(batch_id, [p.id for p in live],
                                                    self.chain.revert_cause(tx_hash), tx_hash, now)
            return
        self._reverts.in_row = 0
        reasons = {(s, n): r for s, n, r in self.chain.rejected_in_tx(tx_hash)}
        settled, rejected, expired, retry = [], [], [], []
        window = self._deadlines.read(now)[1] if RejectReason.STALE in reasons.values() else None
        flags = self._settled([p.key for p in live])
        for p, on_chain in zip(live, flags, strict=True):
            if on_chain:
                settled.append(p.id)
            elif reasons.get(p.key) == RejectReason.STALE:
                expired.append((p.id, expired_reason(p.signed.receipt.end_time, window,
                                                     tx_hash)))
            elif p.key in reasons and reasons[p.key] != RejectReason.ALREADY_SETTLED:
                rejected.append((p.id, RejectReason(reasons[p.key]).name))
            else:
                retry.append(p.id)
        crashpoint("after_confirm_before_mark")
        with self.store.transaction() as tx:
            tx.set_status(settled, Status.SETTLED, int(now), batch_id=batch_id, tx_hash=tx_hash,
                          block=st.block)
            for rid, name in rejected:
                tx.set_status([rid], Status.REJECTED_ONCHAIN, int(now), reason=name,
                              batch_id=batch_id, tx_hash=tx_hash, block=st.block)
            for rid, why in expired:
                tx.set_status([rid], Status.QUARANTINED, int(now), reason=why,
                              batch_id=batch_id, tx_hash=tx_hash, block=st.block)
            tx.set_status(retry, Status.PENDING, int(now))
            tx.execute("UPDATE txs SET status = 'confirmed' WHERE tx_hash = ?", (tx_hash,))
        self._close(batch_id, now)
        self.metrics.inc("settled", len(settled))
        self.metrics.inc("rejected_onchain", len(rejected))
        self.metrics.inc("expired", len(expired))
        if expired:
            log.error("batch %d: %d acknowledged receipts expired unpaid (STALE on chain): %s",
                      batch_id, len(expired), expired[0][1])
        log.info("batch %d: %d settled, %d rejected on chain, %d back to pending", batch_id,
                 len(settled), len(rejected), len(retry))

    def _resubmit(
        self, batch_id: int, live: list[Pending], nonce: int | None, now: float, reason: str
    ) -> None:
        head = self.chain.head_block()
        already = [p for p, on_chain in zip(live, self._settled([p.key for p in live]),
                                             strict=True) if on_chain]
        done = {p.id for p in already}
        rest = [p for p in live if p.id not in done]
        log.warning("batch %d: %s; %d already settled on chain, resending %d", batch_id, reason,
                    len(already), len(rest))
        if already:
            with self.store.transaction() as tx:
                tx.set_status([p.id for p in already], Status.CONFIRMING, int(now),
                              batch_id=batch_id, block=head)
        if not rest:
            self._close(batch_id, now)
            return
        self.metrics.inc("txs_resubmitted")
        self._send(batch_id, rest, self._resend_nonce(nonce), now)

    def _resend_nonce(self, last: int | None) -> int:
        """The nonce that replaces the batch's last tx (``last``, possibly still pending) and
        leaves no other tx of ours pending. Below the account's mined nonce ``last`` was consumed:
        use the mined nonce. At or above it: reuse ``last``, so the resend replaces whatever is
        pending there; nonces a reorg un-mined below it are filled with no-ops first, or the
        old tx could mine later next to its replacement."""
        mined = self.chain.next_nonce()
        if last is None or last < mined:
            return mined
        for gap in range(mined, last):
            log.warning("nonce %d un-mined below our pending nonce %d: filling it", gap, last)
            self.chain.fill_nonce(gap)
        return last

    def _settled(self, keys: list[tuple[bytes, int]]) -> list[bool]:
        """``isSettled`` for many sessions: in one round trip per chunk when the chain adapter
        offers ``settled_many`` (one call per receipt made a batch of 1,000 take seconds)."""
        if not keys:
            return []
        many = getattr(self.chain, "settled_many", None)
        if many is not None:
            return list(many(keys))
        return [self.chain.is_settled(*k) for k in keys]

    def _close(self, batch_id: int, now: float) -> None:
        with self.store.transaction() as tx:
            tx.execute("UPDATE batches SET status = ?, updated_at = ? WHERE id = ?",
                       (BatchStatus.DONE, int(now), batch_id))

    # ---- receipts found settled by a tx we did not track ----
    def _confirm_observed(self, now: float) -> None:
        with self.store.transaction() as tx:  # the keys only: no receipt is rebuilt here
            rows = tx.query("SELECT id, station_id, session_key, block FROM receipts "
                            "WHERE status = ?", (Status.CONFIRMING,))
        if not rows:
            return
        head = self.chain.head_block()
        settled: list[int] = []
        lost: list[int] = []
        deep = [(int(rid), (bytes(sid), int.from_bytes(bytes(skey), "big")))
                for rid, sid, skey, block in rows
                if head - int(block) + 1 >= self.config.confirmations]
        for (rid, _), on_chain in zip(deep, self._settled([k for _, k in deep]), strict=True):
            (settled if on_chain else lost).append(rid)
        crashpoint("after_confirm_before_mark")
        with self.store.transaction() as tx:
            tx.set_status(settled, Status.SETTLED, int(now))
            tx.set_status(lost, Status.PENDING, int(now))
        self.metrics.inc("settled", len(settled))


def _last_batch_id(tx: Tx) -> int:
    row = tx.one("SELECT MAX(id) FROM batches")
    assert row is not None
    return int(row[0])
