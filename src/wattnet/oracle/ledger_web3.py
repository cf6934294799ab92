"""``CreditLedger`` over EnergyCredits: ``accountOf`` and ``redemptionOf`` for many drivers in
one JSON-RPC batch (the batcher reads every driver of a batch), ``consentOf`` for a notice."""

from __future__ import annotations

from typing import Any

import requests
from eth_utils.crypto import keccak

from wattnet.chain.jsonrpc import rpc_batch, rpc_session
from wattnet.chain.web3_client import ChainClient
from wattnet.oracle.errors import SettlementError
from wattnet.oracle.ledger import Ask, DriverKey, Timing
from wattnet.oracle.reservations import Room

DAY = 86_400
_ACCOUNT_OF = keccak(b"accountOf(address,uint256)")[:4]
_REDEMPTION_OF = keccak(b"redemptionOf(address,uint256)")[:4]
_CAP_UNIT_OF = keccak(b"capUnitOf(uint256)")[:4]
_CONSENT_OF = keccak(b"consentOf(address,address)")[:4]
_TIMING = keccak(b"timing()")[:4]
CHUNK = 400  # drivers per JSON-RPC batch request (two calls each)


def _address(a: str) -> bytes:
    return bytes(12) + bytes.fromhex(a[2:])


def _words(raw: Any) -> list[int]:
    data = bytes.fromhex(str(raw)[2:])
    return [int.from_bytes(data[i:i + 32], "big") for i in range(0, len(data), 32)]


class Web3CreditLedger:
    def __init__(self, client: ChainClient, http: requests.Session | None = None) -> None:
        self._url = client.rpc_url
        self._to = str(client.credits.address)
        self._http = http or rpc_session(client.rpc_url)
        self._cap_units: dict[int, int] = {}
        self._timing: Timing | None = None

    def _calls(self, datas: list[bytes], with_time: bool = False) -> list[list[int]]:
        """Each call's answer as 32-byte words; ``with_time``: then the head block's timestamp
        (settlement counts a driver's day by it)."""
        calls: list[tuple[str, list[Any]]] = [
            ("eth_call", [{"to": self._to, "data": "0x" + d.hex()}, "latest"]) for d in datas]
        if with_time:
            calls.append(("eth_getBlockByNumber", ["latest", False]))
        answers = rpc_batch(self._http, self._url, calls, timeout_s=30, error=SettlementError)
        out = [_words(a) for a in answers[:len(datas)]]
        if with_time:
            head = answers[-1] or {}
            if "timestamp" not in head:
                raise SettlementError("the node did not answer with its head block")
            out.append([int(str(head["timestamp"]), 16)])
        return out

    def _cap_unit(self, credit_id: int) -> int:
        unit = self._cap_units.get(credit_id)
        if unit is None:
            [[unit]] = self._calls([_CAP_UNIT_OF + credit_id.to_bytes(32, "big")])
            if unit:  # fixed once the credit is listed
                self._cap_units[credit_id] = unit
        return unit

    def rooms(self, keys: list[DriverKey], now: int) -> dict[DriverKey, Room]:
        """The day of the cap is the chain's (its head block's), not ``now``'s."""
        out: dict[DriverKey, Room] = {}
        for lo in range(0, len(keys), CHUNK):
            chunk = keys[lo:lo + CHUNK]
            datas = []
            for driver, cid in chunk:
                args = _address(driver) + cid.to_bytes(32, "big")
                datas += [_ACCOUNT_OF + args, _REDEMPTION_OF + args]
            answers = self._calls(datas, with_time=True)
            today = answers[-1][0] // DAY
            for i, (driver, cid) in enumerate(chunk):
                out[(driver, cid)] = self._room(answers[2 * i], answers[2 * i + 1], cid, today)
        return out

    def _room(self, account: list[int], redemption: list[int], credit_id: int,
              today: int) -> Room:
        balance, day, spent, _any, _per, daily, _rev = account[:7]
        units = daily - (spent if day == today else 0)
        return Room(balance + redemption[0], units, self._cap_unit(credit_id))

    def standings(self, asks: list[Ask], now: int) -> list[tuple[bool, Room]]:
        datas = []
        for driver, credit_id, operator in asks:
            args = _address(driver) + credit_id.to_bytes(32, "big")
            datas += [_ACCOUNT_OF + args, _REDEMPTION_OF + args,
                      _CONSENT_OF + _address(driver) + _address(operator)]
        answers = self._calls(datas, with_time=True)
        day = answers[-1][0] // DAY
        out = []
        for i, (_, credit_id, _) in enumerate(asks):
            account, redemption, consent = answers[3 * i:3 * i + 3]
            out.append((bool(account[3]) or bool(consent[0]),
                        self._room(account, redemption, credit_id, day)))
        return out

    def timing(self) -> Timing:
        if self._timing is None:
            [[_redemption, settlement, session]] = self._calls([_TIMING])
            self._timing = Timing(settlement, session)
        return self._timing
