"""What follows a settlement that reverted, or that the gas estimate refused: never the same
transaction again.

- Out of gas: the same receipts with twice the gas limit (at least ``min_gas``), re-estimated;
  beyond ``max_tx_gas`` the batch is halved instead. A lone receipt's revert without data gets
  twice the gas too (a sub-call may have run short).
- Settlement paused, the oracle without ORACLE_ROLE (systemic): the same receipts after the
  backoff, re-estimated, so that nothing is sent while the cause lasts; no receipt is blamed.
- The oracle committee did not carry the batch (too few votes, or another node's batch took the
  nonce): the same receipts a second later, without backing off (``committee.py``).
- Any other revert: the batch is halved, each half re-estimated, until the receipt that makes
  it fail is alone; alone, it is resent only if the re-estimate passes (the state moved on).
- A receipt that fails alone ``max_reverts`` times is quarantined with the cause (``reverted:``).

The corrected batches are written as batch intents (no nonce yet, ``retry_of`` the failed
batch) in the transaction that closes the failed one, so a crash in between loses nothing; the
batcher sends them one by one like any batch whose send was interrupted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from wattnet.oracle.config import BatcherConfig
from wattnet.oracle.losses import reverted_reason
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.reverts import RevertCause, RevertKind
from wattnet.oracle.schema import BatchStatus, Status
from wattnet.oracle.store_base import Store, Tx

log = logging.getLogger(__name__)
COMMITTEE_RETRY_S = 1.0


@dataclass(frozen=True, slots=True)
class Retry:
    """The corrected batches (receipt ids, in sending order) and what is given up."""

    groups: tuple[tuple[int, ...], ...]
    min_gas: int
    strike: tuple[int, ...]  # the lone receipt charged with this failure
    quarantine: tuple[int, ...]  # ... when that was its last chance
    reason: str  # their quarantine reason
    what: str  # one line for the log

    @property
    def splits(self) -> bool:
        return len(self.groups) > 1


def plan(cause: RevertCause, ids: Sequence[int], strikes: int, min_gas: int,
         cfg: BatcherConfig) -> Retry:
    """The retry after ``cause`` failed a batch of ``ids`` (sent with at least ``min_gas``);
    ``strikes`` is how often a lone receipt already failed alone."""
    every, lone = tuple(ids), len(ids) == 1
    wait = Retry((every,), min_gas, (), (), "", f"waiting it out ({cause.kind})")
    if cause.systemic:
        return wait
    gas_bound = cause.kind in (RevertKind.OUT_OF_GAS, RevertKind.UNKNOWN)
    if cause.kind == RevertKind.OUT_OF_GAS and not cause.gas_limit and lone:
        # The estimate cannot fit one receipt: the node's cap or the account's funds are short,
        # not the receipt.
        return wait
    if gas_bound and cause.gas_limit:
        # Out of gas, or a revert without data (a sub-call may have run short): twice the gas.
        wanted = 2 * max(cause.gas_limit, min_gas)
        more = min(wanted, cfg.max_tx_gas)
        whole = lone or (cause.kind == RevertKind.OUT_OF_GAS and wanted <= cfg.max_tx_gas)
        if more > cause.gas_limit and whole:
            return _lone(Retry((every,), more, (), (), "", f"resending with {more:,} gas"),
                         cause, strikes, cfg)
        if lone:  # max_tx_gas was not enough: more cannot be given
            return _lone(Retry((every,), min_gas, (), (), "", ""), cause, cfg.max_reverts,
                         cfg, times=strikes + 1)
    if not lone:
        half = (len(every) + 1) // 2
        groups = (every[:half], every[half:])
        return Retry(groups, 0, (), (), "",
                     f"split into {len(groups[0])} + {len(groups[1])} receipts")
    return _lone(Retry((every,), min_gas, (), (), "", "resending it alone"), cause, strikes,
                 cfg)


def _lone(retry: Retry, cause: RevertCause, strikes: int, cfg: BatcherConfig,
          times: int | None = None) -> Retry:
    """A receipt alone in its batch carries the failure; the last one quarantines it."""
    if len(retry.groups[0]) != 1:
        return retry
    rid = retry.groups[0][0]
    if strikes + 1 >= cfg.max_reverts:
        times = times or strikes + 1
        return Retry((), 0, (rid,), (rid,), reverted_reason(times, cause),
                     f"quarantined after failing alone {times} times")
    return Retry(retry.groups, retry.min_gas, (rid,), (), "",
                 f"{retry.what} (failed alone {strikes + 1} of {cfg.max_reverts} times)")


def after_revert(tx: Tx, batch_id: int, ids: Sequence[int], cause: RevertCause,
                 tx_hash: bytes | None, now: int, cfg: BatcherConfig) -> Retry:
    """Record the failure of batch ``batch_id`` (``tx_hash``: the reverted tx; None: the
    estimate refused) and write its retry, closing the batch. One transaction: the caller's."""
    row = tx.one("SELECT min_gas FROM batches WHERE id = ?", (batch_id,))
    min_gas = int(row[0]) if row and row[0] is not None else 0
    strikes = 0
    if len(ids) == 1:
        found = tx.one("SELECT reverts FROM receipts WHERE id = ?", (ids[0],))
        strikes = int(found[0]) if found else 0
    retry = plan(cause, ids, strikes, min_gas, cfg)
    if tx_hash is not None:
        tx.execute("UPDATE txs SET status = 'reverted', cause = ? WHERE tx_hash = ?",
                   (str(cause), tx_hash))
    for rid in retry.strike:
        tx.execute("UPDATE receipts SET reverts = reverts + 1 WHERE id = ?", (rid,))
    tx.set_status(retry.quarantine, Status.QUARANTINED, now, reason=retry.reason)
    for group in retry.groups:
        tx.execute("INSERT INTO batches (status, nonce, created_at, updated_at, retry_of, "
                   "min_gas) VALUES (?, NULL, ?, ?, ?, ?)",
                   (BatchStatus.INTENT, now, now, batch_id, retry.min_gas))
        new = tx.one("SELECT MAX(id) FROM batches")
        assert new is not None
        tx.set_status(group, Status.BATCHED, now, batch_id=int(new[0]))
    tx.execute("UPDATE batches SET status = ?, updated_at = ? WHERE id = ?",
               (BatchStatus.DONE, now, batch_id))
    return retry


def backoff(cfg: BatcherConfig, failures_in_row: int) -> float:
    """Seconds to wait after the ``failures_in_row``-th failure in a row: doubling, capped."""
    return float(min(cfg.revert_backoff_s * 2 ** min(failures_in_row - 1, 30),
                     cfg.max_revert_backoff_s))


def send_options(tx: Tx, batch_id: int) -> tuple[int, bool]:
    """(min_gas, estimate) for sending batch ``batch_id``: a retry is always re-estimated."""
    row = tx.one("SELECT min_gas, retry_of FROM batches WHERE id = ?", (batch_id,))
    if row is None:
        return 0, False
    return int(row[0] or 0), row[1] is not None


class Reverts:
    """The batcher's side of failures: records each one with its retry, counts the failures in a
    row for the backoff (a settled batch resets it), logs and counts them."""

    def __init__(self, store: Store, cfg: BatcherConfig, metrics: Metrics) -> None:
        self.store, self.cfg, self.metrics = store, cfg, metrics
        self.in_row = 0

    def failed(self, batch_id: int, ids: Sequence[int], cause: RevertCause,
               tx_hash: bytes | None, now: float) -> float:
        """Close batch ``batch_id`` and queue its retry; returns when to try again."""
        with self.store.transaction() as tx:
            retry = after_revert(tx, batch_id, ids, cause, tx_hash, int(now), self.cfg)
        if cause.kind == RevertKind.COMMITTEE:
            # Another node's round or batch: nothing to back off from; look again shortly.
            wait = min(COMMITTEE_RETRY_S, self.cfg.max_revert_backoff_s)
        else:
            self.in_row += 1
            wait = backoff(self.cfg, self.in_row)
        self.metrics.inc("txs_reverted" if tx_hash is not None else "settle_refused")
        self.metrics.inc("revert_quarantined", len(retry.quarantine))
        what = f"tx 0x{tx_hash.hex()} reverted" if tx_hash else "gas estimate refused it"
        loud = retry.quarantine or cause.kind == RevertKind.UNAUTHORIZED
        (log.error if loud else log.warning)(
            "batch %d (%d receipts): %s (%s); %s, next try in %.0f s", batch_id, len(ids), what,
            cause, retry.what, wait)
        return now + wait

