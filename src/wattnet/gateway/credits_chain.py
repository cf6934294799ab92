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
from typing import Any

from eth_utils.address import to_checksum_address

from wattnet.chain.web3_client import ChainClient
from wattnet.domain import DriverAccount
from wattnet.errors import ChainError
from wattnet.gateway.config import GatewayConfig
from wattnet.gateway.credits import CreditSourceUnavailable

log = logging.getLogger(__name__)
DAY = 86_400


class ChainCreditSource:
    """Reads ``accountOf``, ``capUnitOf`` and ``driverOfIdToken``; any node or transport
    failure becomes ``CreditSourceUnavailable`` (the cache then serves stale answers)."""

    def __init__(self, client: ChainClient, *, settlement: str | None = None) -> None:
        self.client = client
        self._settlement = settlement
        self._checked = False
        self._cap_units: dict[int, int] = {}

    def _call(self, fn: Any) -> Any:
        try:
            if not self._checked:
                self.client.check(settlement=self._settlement)
                self._checked = True
            return fn.call()
        except ChainError as exc:
            raise CreditSourceUnavailable(str(exc)) from exc
        except Exception as exc:  # transport errors, node errors, timeouts
            raise CreditSourceUnavailable(
                f"credit ledger at {self.client.rpc_url} unavailable: {exc}") from exc

    def _account(self, driver: str, credit_id: int) -> DriverAccount:
        credits = self.client.credits.functions
        unit = self._cap_units.get(credit_id)
        if unit is None:
            unit = int(self._call(credits.capUnitOf(credit_id)))
            if unit:  # fixed when the credit is listed; 0 means not listed (yet)
                self._cap_units[credit_id] = unit
        who = to_checksum_address(driver)
        balance, day, spent, per_session, daily, revoked = self._call(
            credits.accountOf(who, credit_id))
        return DriverAccount(
            driver=who, credit_id=credit_id, balance=int(balance),
            per_session_cap=int(per_session) * unit, daily_cap=int(daily) * unit,
            spent_today=int(spent) * unit, day=int(day), valid_until=int(revoked) * DAY,
        )

    def _driver(self, token_hash: bytes) -> str | None:
        driver = str(self._call(self.client.credits.functions.driverOfIdToken(token_hash)))
        return None if int(driver, 16) == 0 else to_checksum_address(driver)

    async def account(self, driver: str, credit_id: int) -> DriverAccount:
        return await asyncio.to_thread(self._account, driver, credit_id)

    async def driver_for_id_token(self, token_hash: bytes) -> str | None:
        return await asyncio.to_thread(self._driver, token_hash)


def credit_source(config: GatewayConfig) -> ChainCreditSource:
    """Factory for ``--credit-source``."""
    return ChainCreditSource(ChainClient.from_env(), settlement=config.settlement)

