"""``CreditSource`` over the EnergyCredits ledger (plain web3), for ``--credit-source``:

    wattnet gateway run --config site.yaml \
        --credit-source wattnet.gateway.credits_chain:credit_source

RPC URL from ``$WATTNET_RPC_URL``, deployment from ``$WATTNET_DEPLOYMENT``; the deployment's
EnergyCredits must be the site's ``settlement`` address. Nothing is read from the node at start:
a gateway whose uplink is down still starts, and the cache answers from what it saw.
Amounts are in the credit's smallest units: the ledger keeps mandates and the day's spending in
cap units (``capUnitOf``), multiplied out here.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from wattnet.chain.jsonrpc import rpc_session
from wattnet.chain.web3_client import ChainClient
from wattnet.domain import DriverAccount
from wattnet.errors import ChainError
from wattnet.gateway.config import GatewayConfig
from wattnet.gateway.credits import CreditSourceUnavailable

log = logging.getLogger(__name__)
DAY = 86_400
TIMEOUT_S = 10.0
_ACCOUNT_OF = keccak(b"accountOf(address,uint256)")[:4]
_CAP_UNIT_OF = keccak(b"capUnitOf(uint256)")[:4]
_DRIVER_OF_ID_TOKEN = keccak(b"driverOfIdToken(bytes32)")[:4]
_CONSENT_OF = keccak(b"consentOf(address,address)")[:4]


def _word(data: bytes, i: int) -> int:
    if len(data) < 32 * (i + 1):
        raise CreditSourceUnavailable(f"unexpected answer from the credit ledger: 0x{data.hex()}")
    return int.from_bytes(data[32 * i:32 * (i + 1)], "big")


class ChainCreditSource:
    """Reads ``accountOf``, ``capUnitOf`` and ``driverOfIdToken``; any node or transport
    failure becomes ``CreditSourceUnavailable`` (the cache then serves stale answers).

    The three views are plain ``eth_call``s with hand-made calldata and results read by word
    (one HTTP session per worker thread): web3's contract-call path cost ~4 ms of Python per
    lookup, held the GIL while the event loop was serving chargers, and a busy site makes one
    lookup per finished session."""

    def __init__(self, client: ChainClient, *, settlement: str | None = None,
                 operator: str | None = None) -> None:
        self.client = client
        self._settlement = settlement
        # The site's operator: a driver who did not let every station charge it may still have
        # consented to this operator's stations (EnergyCredits.consentOf).
        self._operator = None if operator is None else to_checksum_address(operator)
        self._checked = False
        self._cap_units: dict[int, int] = {}
        self._local = threading.local()
        self._to: str | None = None

    def _call(self, selector: bytes, *words: bytes) -> bytes:
        try:
            if not self._checked:
                self.client.check(settlement=self._settlement)
                self._checked = True
            if self._to is None:
                self._to = str(self.client.credits.address)
            http = getattr(self._local, "http", None)
            if http is None:
                http = self._local.http = rpc_session(self.client.rpc_url)
            data = "0x" + (selector + b"".join(words)).hex()
            resp = http.post(self.client.rpc_url, timeout=TIMEOUT_S, json={
                "jsonrpc": "2.0", "id": 1, "method": "eth_call",
                "params": [{"to": self._to, "data": data}, "latest"]}).json()
            if "error" in resp:
                raise ChainError(f"eth_call failed: {resp['error'].get('message')}")
            return bytes.fromhex(str(resp["result"])[2:])
        except ChainError as exc:
            raise CreditSourceUnavailable(str(exc)) from exc
        except Exception as exc:  # transport errors, node errors, timeouts
            raise CreditSourceUnavailable(
                f"credit ledger at {self.client.rpc_url} unavailable: {exc}") from exc

    def _account(self, driver: str, credit_id: int) -> DriverAccount:
        unit = self._cap_units.get(credit_id)
        cid = credit_id.to_bytes(32, "big")
        if unit is None:
            unit = _word(self._call(_CAP_UNIT_OF, cid), 0)
            if unit:  # fixed when the credit is listed; 0 means not listed (yet)
                self._cap_units[credit_id] = unit
        who = to_checksum_address(driver)
        out = self._call(_ACCOUNT_OF, bytes(12) + bytes.fromhex(who[2:]), cid)
        balance, day, spent, any_station, per_session, daily, revoked = (
            _word(out, i) for i in range(7))
        may_charge = bool(any_station)
        if not may_charge and self._operator is not None:
            may_charge = bool(_word(self._call(
                _CONSENT_OF, bytes(12) + bytes.fromhex(who[2:]),
                bytes(12) + bytes.fromhex(self._operator[2:])), 0))
        return DriverAccount(
            driver=who, credit_id=credit_id, balance=balance,
            per_session_cap=per_session * unit, daily_cap=daily * unit,
            spent_today=spent * unit, day=day, valid_until=revoked * DAY, may_charge=may_charge,
        )

    def _driver(self, token_hash: bytes) -> str | None:
        driver = _word(self._call(_DRIVER_OF_ID_TOKEN, bytes(token_hash).rjust(32, b"\0")), 0)
        return None if driver == 0 else to_checksum_address(driver.to_bytes(20, "big"))

    async def account(self, driver: str, credit_id: int) -> DriverAccount:
        return await asyncio.to_thread(self._account, driver, credit_id)

    async def driver_for_id_token(self, token_hash: bytes) -> str | None:
        return await asyncio.to_thread(self._driver, token_hash)


def credit_source(config: GatewayConfig) -> ChainCreditSource:
    """Factory for ``--credit-source``."""
    return ChainCreditSource(ChainClient.from_env(), settlement=config.settlement,
                             operator=config.operator)

