"""What the batcher needs from the settlement contract; the web3 adapter implements this.

Contract (fixed): ``settlePacked(bytes)`` (the packed encoding of
wattnet.chain.batch_codec; the committee's ``settleSigned`` adds its signatures) with
receipts sorted by (stationId, sessionId),
``isSettled(bytes32, uint64)``, ``event ReceiptRejected(bytes32 indexed, uint64 indexed, uint8)``.
Signatures go on chain in EIP-2098 compact form (r, vs); ``compact_signature`` converts.
The batcher also reads why a settlement reverted (``revert_cause``, ``reverts.py``), the chain's
clock and ``timing().maxSettlementDelay`` (a receipt ended longer ago than that is STALE).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from wattnet.domain import SignedReceipt
from wattnet.oracle.reverts import RevertCause


@dataclass(frozen=True, slots=True)
class TxStatus:
    """A transaction as the node sees it now.

    ``known`` is False when the node has neither mined nor pending record of it (dropped,
    replaced by another tx with the same nonce, or reorged out and not re-queued).
    ``confirmations`` is head - block + 1 for a mined tx, else 0.
    """

    known: bool
    mined: bool
    success: bool
    block: int | None
    confirmations: int


@runtime_checkable
class SettlementChain(Protocol):
    def next_nonce(self) -> int:
        """The oracle account's nonce at the latest block (mined count; pending txs excluded),
        so that resending with it replaces a lost pending transaction instead of adding one."""
        ...

    def submit(self, batch: list[SignedReceipt], nonce: int, *, min_gas: int = 0,
               estimate: bool = False) -> bytes:
        """Send the batch (``settlePacked``, or ``settleSigned`` through the committee) with
        ``nonce``; returns the tx hash once the node accepted it.

        The gas limit is at least ``min_gas`` (a resend after running out of gas); ``estimate``
        asks for a gas estimate even where the adapter skips it by default (a resend after a
        revert). A refused estimate raises ``SettlementWouldRevert`` and sends nothing."""
        ...

    def fill_nonce(self, nonce: int) -> bytes:
        """Send a no-op with ``nonce`` (a 0-value transfer to the oracle's own address), replacing
        whatever is pending there; used to close a nonce gap a reorg left below our pending tx."""
        ...

    def tx_status(self, tx_hash: bytes) -> TxStatus: ...

    def is_settled(self, station_id: bytes, session_id: int) -> bool:
        """Adapters may also offer ``settled_many(keys) -> list[bool]`` (one round trip for
        many sessions); the batcher uses it when present."""
        ...

    def rejected_in_tx(self, tx_hash: bytes) -> list[tuple[bytes, int, int]]:
        """(station_id, session_id, RejectReason) of every ReceiptRejected event in the tx."""
        ...

    def revert_cause(self, tx_hash: bytes) -> RevertCause:
        """Why a mined tx of ours reverted (out of gas, or its decoded revert data)."""
        ...

    def chain_time(self) -> int:
        """The latest block's timestamp: the clock of receipts' times and their window."""
        ...

    def settlement_window(self) -> int | None:
        """``maxSettlementDelay`` in seconds (a receipt is STALE once the block is later than
        its end plus this, pauses aside), or None when this chain does not judge staleness."""
        ...

    def head_block(self) -> int: ...


def compact_signature(signature: bytes) -> tuple[bytes, bytes]:
    """EIP-2098: 65-byte r || s || v (v 27/28) -> (r, vs) with the y-parity in vs's top bit."""
    r, s, v = signature[:32], signature[32:64], signature[64]
    vs = int.from_bytes(s, "big") | ((v - 27) << 255)
    return r, vs.to_bytes(32, "big")


def sort_key(s: SignedReceipt) -> tuple[bytes, int]:
    return (s.receipt.station_id, s.receipt.session_id)
