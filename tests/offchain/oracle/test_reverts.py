"""Reading why a settlement failed (reverts.py), what follows it (retry.plan) and which
receipts go first (urgency.urgent_first): pure functions, no chain."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.crypto import keccak

from wattnet.oracle.config import BatcherConfig
from wattnet.oracle.retry import plan
from wattnet.oracle.reverts import (
    SYSTEMIC,
    RevertCause,
    RevertKind,
    cause_of_mined,
    cause_of_rpc_error,
    decode_revert,
    error_table,
)
from wattnet.oracle.urgency import horizon, urgent_first

ABI: list[dict[str, Any]] = [
    {"type": "error", "name": "SettlementPaused", "inputs": []},
    {"type": "error", "name": "ReceiptBadEncoding",
     "inputs": [{"name": "offset", "type": "uint256"}]},
    {"type": "error", "name": "AccessControlUnauthorizedAccount",
     "inputs": [{"name": "account", "type": "address"}, {"name": "neededRole", "type": "bytes32"}]},
    {"type": "function", "name": "settlePacked", "inputs": [{"name": "data", "type": "bytes"}]},
]
ERRORS = error_table(ABI)
OOG, PAUSED, REASON, UNKNOWN = (RevertKind.OUT_OF_GAS, RevertKind.PAUSED, RevertKind.REASON,
                                RevertKind.UNKNOWN)


def data(signature: str, types: list[str] | None = None, values: list[Any] | None = None) -> bytes:
    return keccak(signature.encode())[:4] + encode(types or [], values or [])


@pytest.mark.parametrize(("raw", "kind", "detail"), [
    (data("SettlementPaused()"), PAUSED, "SettlementPaused()"),
    (data("ReceiptBadEncoding(uint256)", ["uint256"], [512]), REASON,
     "ReceiptBadEncoding(offset=512)"),
    (data("AccessControlUnauthorizedAccount(address,bytes32)", ["address", "bytes32"],
          ["0x" + "11" * 20, b"\x22" * 32]), RevertKind.UNAUTHORIZED,
     "AccessControlUnauthorizedAccount(account=0x" + "11" * 20 + ", neededRole=0x" + "22" * 32
     + ")"),
    (data("Error(string)", ["string"], ["boom"]), REASON, "Error('boom')"),
    (data("Panic(uint256)", ["uint256"], [0x11]), REASON, "Panic(0x11)"),
    (data("Nobody(uint256)", ["uint256"], [1]), UNKNOWN, "unknown error 0x"),
    (data("ReceiptBadEncoding(uint256)")[:6], UNKNOWN, "undecodable revert data"),
    (b"", UNKNOWN, "reverted without a reason"),
])
def test_decode_revert__names_the_error_and_its_kind(raw: bytes, kind: RevertKind,
                                                     detail: str) -> None:
    got_kind, got_detail = decode_revert(raw, ERRORS)
    assert got_kind == kind and got_detail.startswith(detail)


def test_cause_of_mined__all_gas_used_or_no_data_near_the_limit_is_out_of_gas() -> None:
    assert cause_of_mined(210_000, 210_000, None, ERRORS) == RevertCause(
        OOG, "out of gas (210,000 of 210,000 gas)", 210_000)
    near = cause_of_mined(207_000, 210_000, {"code": 3, "message": "execution reverted"}, ERRORS)
    assert near.kind == OOG and "sub-call" in near.detail
    paused = cause_of_mined(30_000, 210_000, {"code": 3, "message": "execution reverted",
                                              "data": "0x" + data("SettlementPaused()").hex()},
                            ERRORS)
    assert (paused.kind, paused.gas_limit, paused.systemic) == (PAUSED, 210_000, True)
    assert paused.detail == "SettlementPaused() (30,000 of 210,000 gas)"
    gone = cause_of_mined(30_000, 210_000, None, ERRORS)  # the replay passed: state moved on
    assert gone.kind == UNKNOWN and "the replay did not" in gone.detail


@pytest.mark.parametrize(("error", "kind"), [
    ({"code": 3, "message": "execution reverted: custom error 0x..",
      "data": "0x" + data("ReceiptBadEncoding(uint256)", ["uint256"], [7]).hex()}, REASON),
    ({"code": -32000, "message": "EVM error OutOfGas"}, OOG),
    ({"code": -32000, "message": "gas required exceeds allowance (30000000)"}, OOG),
    ({"code": -32603, "message": "execution reverted", "data": {"data": "0x"}}, UNKNOWN),
    ({"code": -32000, "message": "header not found"}, None),
    ({"code": -32602, "message": "invalid argument 0"}, None),
])
def test_cause_of_rpc_error__a_revert_is_read_anything_else_is_not_a_revert(
        error: dict[str, Any], kind: RevertKind | None) -> None:
    cause = cause_of_rpc_error(error, ERRORS)
    assert (cause.kind if cause else None) == kind


# ---------------------------------------------------------------- what follows a failure
CFG = BatcherConfig(max_reverts=3, max_tx_gas=1_000_000)


def cause(kind: RevertKind, gas: int = 300_000) -> RevertCause:
    return RevertCause(kind, f"{kind} detail", gas)


@pytest.mark.parametrize(("failure", "ids", "strikes", "groups", "min_gas", "quarantined"), [
    # out of gas: the same receipts with twice the gas; alone, the receipt carries a strike
    (cause(OOG), [1, 2], 0, ((1, 2),), 600_000, ()),
    (cause(OOG), [1], 0, ((1,),), 600_000, ()),
    (cause(OOG), [1], 2, (), 0, (1,)),
    # beyond max_tx_gas: halves; alone at the cap: quarantined at once
    (cause(OOG, 600_000), [1, 2, 3], 0, ((1, 2), (3,)), 0, ()),
    (cause(OOG, 1_000_000), [1], 0, (), 0, (1,)),
    # the estimate could not fit one receipt: the node or the account, not the receipt
    (cause(OOG, 0), [1], 2, ((1,),), 0, ()),
    (cause(OOG, 0), [1, 2], 0, ((1,), (2,)), 0, ()),
    # systemic: wait with the same receipts, never a strike
    (cause(PAUSED), [1, 2], 0, ((1, 2),), 0, ()),
    (cause(RevertKind.UNAUTHORIZED), [1], 2, ((1,),), 0, ()),
    # a decoded revert: halves until the receipt is alone, then strikes
    (cause(REASON), [1, 2, 3, 4, 5], 0, ((1, 2, 3), (4, 5)), 0, ()),
    (cause(REASON), [1], 1, ((1,),), 0, ()),
    (cause(REASON), [1], 2, (), 0, (1,)),
    # no data at all: halves; alone, twice the gas (a sub-call may have run short)
    (cause(UNKNOWN), [1, 2], 0, ((1,), (2,)), 0, ()),
    (cause(UNKNOWN), [1], 0, ((1,),), 600_000, ()),
])
def test_plan__never_the_same_tx_and_a_lone_receipt_is_given_up_after_max_reverts(
        failure: RevertCause, ids: list[int], strikes: int, groups: tuple[tuple[int, ...], ...],
        min_gas: int, quarantined: tuple[int, ...]) -> None:
    retry = plan(failure, ids, strikes, 0, CFG)
    assert (retry.groups, retry.min_gas, retry.quarantine) == (groups, min_gas, quarantined)
    lone_blamed = len(ids) == 1 and not failure.systemic and failure.gas_limit > 0
    assert retry.strike == ((ids[0],) if lone_blamed else ())
    if quarantined:
        assert retry.reason.startswith("reverted: ") and str(failure) in retry.reason


def test_plan__a_wait_keeps_the_gas_a_corrected_batch_had() -> None:
    assert plan(cause(PAUSED), [1], 0, 640_000, CFG).min_gas == 640_000
    assert plan(cause(OOG, 400_000), [1], 0, 640_000, CFG).min_gas == 1_000_000  # capped


# ---------------------------------------------------------------- deadlines first
WINDOW = 3_600
NOW = 1_000_000


def row(rid: int, end: int) -> tuple[Any, ...]:
    return (rid, b"s", b"k", 1, b"d", "1", 1, end - 60, end)


def test_urgent_first__due_receipts_by_deadline_then_the_rest_in_their_order() -> None:
    due_at = NOW - WINDOW + horizon(WINDOW)  # the latest end that counts as due
    rows = [row(1, NOW - 10), row(2, due_at), row(3, NOW - 20), row(4, due_at - 500),
            row(2, due_at)]
    assert [r[0] for r in urgent_first(rows, NOW, WINDOW, 10)] == [4, 2, 1, 3]
    assert [r[0] for r in urgent_first(rows, NOW, WINDOW, 3)] == [4, 2, 1]
    assert [r[0] for r in urgent_first(rows, NOW, None, 3)] == [1, 2, 3]  # no window known
    assert [r[0] for r in urgent_first([row(5, due_at + 1)], NOW, WINDOW, 3)] == [5]


@pytest.mark.parametrize(("signature", "types", "values"), [
    ("SettlementWrongNonce(uint64,uint64)", ["uint64", "uint64"], [7, 8]),
    ("SettlementBadSignatures()", [], []),
    ("SettlementTooFewSigners(uint256,uint256)", ["uint256", "uint256"], [1, 2]),
    ("SettlementWrongCommittee()", [], []),
])
def test_decode_revert__the_committee_checks_of_settle_signed_are_never_the_receipts_fault(
        signature: str, types: list[str], values: list[Any]) -> None:
    """A relay that lost its nonce, a signer that left, a committee changed under the relay:
    the batcher waits these out (systemic), it never halves the batch or blames a receipt."""
    name = signature.split("(")[0]
    abi = [*ABI, {"type": "error", "name": name,
                  "inputs": [{"name": f"a{i}", "type": t} for i, t in enumerate(types)]}]
    kind, detail = decode_revert(data(signature, types, values), error_table(abi))
    assert kind == RevertKind.COMMITTEE and detail.startswith(name)
    assert RevertKind.COMMITTEE in SYSTEMIC
