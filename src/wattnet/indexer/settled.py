"""Settled sessions from settlement transactions. The ledger logs a batch's totals
(``BatchSettled``) and each skipped receipt (``ReceiptRejected``) but no event per settled
session (gas: the oracle settles thousands a batch), so the index reads the receipts from the
transaction's calldata: ``settlePacked`` and ``settleSigned`` (a committee-signed batch) on
the ledger. The receipts the transaction rejected are
removed in order, and what is left must add up to the event's count and total cost exactly;
otherwise (a call through a contract the index cannot read, such as a Safe) the batch is kept
with its totals only and no sessions.

Each session's split is the ledger's (``SessionSettlement._splitPayment``): the operator's share
``cost * operatorBps // 10000``; the referrer's ``cost * referrerBps // 10000`` only when the
receipt names the driver's chosen referrer and that is not the station's operator; the treasury
the rest. The shares, referrers and operators in force come from the index's own earlier logs
(``SharesChanged``, ``ReferrerSet``, ``StationRegistered``), so no archive state is needed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from wattnet.chain.batch_codec import unpack_batch
from wattnet.domain import ZERO_ADDRESS, SessionReceipt
from wattnet.errors import ReceiptError

log = logging.getLogger(__name__)

BPS = 10_000
EPOCH_LENGTH = 7 * 24 * 3600  # RewardsEngine.EPOCH_LENGTH: weekly epochs


@dataclass(frozen=True, slots=True)
class Shares:
    operator_bps: int
    referrer_bps: int


@dataclass(frozen=True, slots=True)
class SettledSession:
    station_id: bytes
    session_id: int
    operator: str
    driver: str
    credit_id: int
    energy_wh: int
    cost: int
    to_operator: int
    to_referrer: int
    to_treasury: int


def receipts_of_call(decode: Callable[[bytes], tuple[str, dict[str, Any]]],
                     data: bytes) -> list[SessionReceipt] | None:
    """The receipts a settlement call carries; None when ``data`` is no settlement call
    ``decode`` (a contract's ``decode_function_input``) knows."""
    try:
        name, args = decode(data)
    except (ValueError, KeyError):
        return None
    try:
        if name in ("settlePacked", "settleSigned"):
            return [r for r, _, _ in unpack_batch(bytes(args["packed"]))]
    except (ReceiptError, ValueError, TypeError, IndexError) as exc:
        log.warning("a settlement call did not decode: %s", exc)
    return None


def split(receipts: Sequence[SessionReceipt], rejected: Sequence[tuple[bytes, int]],
          shares: Shares, operator_of: Callable[[bytes], str | None],
          referrer_of: Callable[[str], str]) -> list[SettledSession] | None:
    """The sessions a batch settled: ``receipts`` minus the ``rejected`` (station, session)
    pairs in their order, each with its payment split; None when a station is unknown."""
    out: list[SettledSession] = []
    todo = list(rejected)
    for r in receipts:
        if todo and todo[0] == (r.station_id, r.session_id):
            todo.pop(0)
            continue
        operator = operator_of(r.station_id)
        if operator is None:
            return None
        to_operator = r.cost * shares.operator_bps // BPS
        referrer = r.referrer.lower()
        valid = (referrer != ZERO_ADDRESS and referrer == referrer_of(r.driver).lower()
                 and referrer != operator.lower())
        to_referrer = r.cost * shares.referrer_bps // BPS if valid else 0
        out.append(SettledSession(r.station_id, r.session_id, operator, r.driver, r.credit_id,
                                  r.energy_wh, r.cost, to_operator, to_referrer,
                                  r.cost - to_operator - to_referrer))
    return out if not todo else None


def matches(sessions: Sequence[SettledSession], settled: int, total_cost: int) -> bool:
    """The decoded sessions add up to what the ledger's BatchSettled said, exactly."""
    return len(sessions) == settled and sum(s.cost for s in sessions) == total_cost


def epoch_at(block_time: int, genesis: int) -> int:
    return (block_time - genesis) // EPOCH_LENGTH
