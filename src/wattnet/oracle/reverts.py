"""Why a settlement transaction reverted (or would revert), read from what the node says.

A mined transaction that used all its gas ran out of gas. Otherwise the revert data is decoded
against the settlement contract's custom errors (``SettlementPaused()``,
``ReceiptBadEncoding(uint256)``, OpenZeppelin's ``AccessControlUnauthorizedAccount``, ...),
``Error(string)`` and ``Panic(uint256)``. The same reading serves a gas estimate that refused
the batch (nothing was sent) and a replay of a mined transaction with ``eth_call``.

Causes that have nothing to do with the receipts in the batch (settlement paused, the oracle's
account without ORACLE_ROLE) are *systemic*: the batcher waits them out and never holds them
against a receipt (``retry.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak

_ERROR_STRING = keccak(b"Error(string)")[:4]
_PANIC = keccak(b"Panic(uint256)")[:4]
# A call that ran out of gas inside a sub-call keeps 1/64 of the gas (EIP-150), then reverts
# without data: a revert with no data that used at least 63/64 of the limit is out of gas.
_NEAR_ALL_GAS = (63, 64)


class RevertKind(StrEnum):
    OUT_OF_GAS = "out_of_gas"
    PAUSED = "paused"  # SettlementPaused / EnforcedPause: no batch settles until unpaused
    UNAUTHORIZED = "unauthorized"  # the oracle's account lacks ORACLE_ROLE
    # the committee did not carry the batch: too few votes came together, or another node's
    # batch took the nonce first (its receipts are found settled; the rest wait for a turn)
    COMMITTEE = "committee"
    REASON = "reason"  # any other decoded revert: the batch, or a receipt in it, is at fault
    UNKNOWN = "unknown"  # no data and not out of gas


SYSTEMIC = frozenset({RevertKind.PAUSED, RevertKind.UNAUTHORIZED, RevertKind.COMMITTEE})
_KIND_OF_ERROR = {
    "SettlementPaused": RevertKind.PAUSED,
    "EnforcedPause": RevertKind.PAUSED,
    "AccessControlUnauthorizedAccount": RevertKind.UNAUTHORIZED,
    # settleSigned (EnergyCredits): the committee's check, never the receipts' fault
    "SettlementWrongNonce": RevertKind.COMMITTEE,
    "SettlementBadSignatures": RevertKind.COMMITTEE,  # a signer left between vote and relay
    "SettlementTooFewSigners": RevertKind.COMMITTEE,
    "SettlementWrongCommittee": RevertKind.COMMITTEE,  # the committee changed under the relay
}


@dataclass(frozen=True, slots=True)
class RevertCause:
    """What made a settlement fail. ``gas_limit`` is the limit of the reverted transaction, 0
    when nothing was sent (the gas estimate refused the batch)."""

    kind: RevertKind
    detail: str
    gas_limit: int = 0

    @property
    def systemic(self) -> bool:
        return self.kind in SYSTEMIC

    def __str__(self) -> str:
        return self.detail


@dataclass(frozen=True, slots=True)
class ErrorAbi:
    name: str
    types: tuple[str, ...]
    names: tuple[str, ...]


def error_table(abi: Iterable[Mapping[str, Any]]) -> dict[bytes, ErrorAbi]:
    """Selector -> custom error, for every ``error`` entry of a contract ABI."""
    out: dict[bytes, ErrorAbi] = {}
    for entry in abi:
        if entry.get("type") != "error":
            continue
        types = tuple(_canonical(i) for i in entry.get("inputs", []))
        selector = keccak(f"{entry['name']}({','.join(types)})".encode())[:4]
        out[selector] = ErrorAbi(str(entry["name"]), types,
                                 tuple(str(i.get("name", "")) for i in entry.get("inputs", [])))
    return out


def _canonical(param: Mapping[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical(c) for c in param.get("components", []))
        return f"({inner}){kind[len('tuple'):]}"
    return kind


def decode_revert(data: bytes, errors: Mapping[bytes, ErrorAbi]) -> tuple[RevertKind, str]:
    """The kind and a one-line description of revert data."""
    if not data:
        return RevertKind.UNKNOWN, "reverted without a reason"
    selector, body = data[:4], data[4:]
    try:
        if selector == _ERROR_STRING:
            (text,) = _decode(["string"], body)
            return RevertKind.REASON, f"Error({text!r})"
        if selector == _PANIC:
            (code,) = _decode(["uint256"], body)
            return RevertKind.REASON, f"Panic(0x{code:02x})"
        known = errors.get(selector)
        if known is not None:
            values = _decode(list(known.types), body)
            args = ", ".join(f"{n}={_show(v)}" if n else _show(v)
                             for n, v in zip(known.names, values, strict=True))
            return _KIND_OF_ERROR.get(known.name, RevertKind.REASON), f"{known.name}({args})"
    except Exception:  # eth_abi's decoding errors: data that does not fit its selector
        return RevertKind.UNKNOWN, f"undecodable revert data 0x{data[:36].hex()}"
    return RevertKind.UNKNOWN, f"unknown error 0x{selector.hex()}"


def _decode(types: list[str], body: bytes) -> tuple[Any, ...]:
    """Strict: the values must encode back to exactly ``body`` (eth_abi's default codec pads
    short data once some libraries, Ape among them, have loaded)."""
    values = tuple(abi_decode(types, body))
    if abi_encode(types, values) != body:
        raise ValueError("revert data is not the canonical encoding of its error")
    return values


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def is_out_of_gas(message: str) -> bool:
    text = message.lower().replace(" ", "")
    return "outofgas" in text or "gasrequiredexceeds" in text


def cause_of_rpc_error(error: Mapping[str, Any], errors: Mapping[bytes, ErrorAbi],
                       gas_limit: int = 0) -> RevertCause | None:
    """The cause in a JSON-RPC error object of ``eth_call``/``eth_estimateGas``, or None when
    the error is not the call reverting (the node failed, the request was bad)."""
    message = str(error.get("message", ""))
    raw = error.get("data")
    if isinstance(raw, Mapping):  # some nodes nest it: {"data": {"data": "0x..."}}
        raw = raw.get("data")
    data = bytes.fromhex(raw[2:]) if isinstance(raw, str) and raw.startswith("0x") else b""
    if is_out_of_gas(message):
        return RevertCause(RevertKind.OUT_OF_GAS, f"out of gas ({message})", gas_limit)
    if not data and "revert" not in message.lower() and error.get("code") != 3:
        return None
    kind, detail = decode_revert(data, errors)
    return RevertCause(kind, detail, gas_limit)


def cause_of_mined(gas_used: int, gas_limit: int, replay: Mapping[str, Any] | None,
                   errors: Mapping[bytes, ErrorAbi]) -> RevertCause:
    """Why a mined transaction reverted: from its gas use and the error of its replay
    (``eth_call`` with the same sender, data and gas on the state before its block; None when
    the replay succeeded, i.e. the state it met is gone)."""
    spent = f"{gas_used:,} of {gas_limit:,} gas"
    if gas_used >= gas_limit:
        return RevertCause(RevertKind.OUT_OF_GAS, f"out of gas ({spent})", gas_limit)
    cause = None if replay is None else cause_of_rpc_error(replay, errors, gas_limit)
    near_all = gas_used * _NEAR_ALL_GAS[1] >= gas_limit * _NEAR_ALL_GAS[0]
    if (cause is None or cause.kind == RevertKind.UNKNOWN) and near_all:
        return RevertCause(RevertKind.OUT_OF_GAS, f"out of gas in a sub-call ({spent})",
                           gas_limit)
    if cause is None:
        return RevertCause(RevertKind.UNKNOWN, f"reverted ({spent}); the replay did not",
                           gas_limit)
    return RevertCause(cause.kind, f"{cause.detail} ({spent})", gas_limit)
