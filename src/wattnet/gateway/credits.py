"""Driver authorization against a local cache of on-chain credit positions.

The :class:`CreditSource` is the chain (or a test double); the :class:`CreditCache` keeps the
last answer of each lookup, refreshes it after ``refresh_s`` and keeps using stale data when the
source is down, so charging still starts while the uplink is out. Open sessions' reservations and
recently finished sessions' costs (not yet visible on chain) are subtracted, so nothing is ever
authorized beyond what the driver allowed: balance, per-session cap and daily cap.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from wattnet.domain import DriverAccount, id_token_hash

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class CreditSourceUnavailable(ConnectionError):
    """The credit source (chain uplink) cannot be reached right now."""


class CreditSource(Protocol):
    async def account(self, driver: str, credit_id: int) -> DriverAccount:
        """The driver's position for one credit id; raises CreditSourceUnavailable."""
        ...

    async def driver_for_id_token(self, token_hash: bytes) -> str | None:
        """The driver an RFID/idToken hash is bound to, None if unbound."""
        ...


class InMemoryCreditSource:
    """A credit source held in memory, for tests and the simulator; ``down`` simulates an outage."""

    def __init__(self) -> None:
        self.accounts: dict[tuple[str, int], DriverAccount] = {}
        self.tokens: dict[bytes, str] = {}
        self.down = False
        self.calls = 0

    def put(self, account: DriverAccount, *id_tokens: str) -> None:
        self.accounts[(account.driver, account.credit_id)] = account
        for token in id_tokens:
            self.tokens[id_token_hash(token)] = account.driver

    async def account(self, driver: str, credit_id: int) -> DriverAccount:
        self.calls += 1
        if self.down:
            raise CreditSourceUnavailable("in-memory credit source is down")
        found = self.accounts.get((driver, credit_id))
        if found is None:
            return DriverAccount(driver, credit_id, 0, 0, 0, 0, 0)
        return found

    async def driver_for_id_token(self, token_hash: bytes) -> str | None:
        self.calls += 1
        if self.down:
            raise CreditSourceUnavailable("in-memory credit source is down")
        return self.tokens.get(token_hash)


@dataclass(frozen=True, slots=True)
class OneTimeGrant:
    driver: str
    credit_id: int | None = None
    max_cost: int | None = None


@dataclass(frozen=True, slots=True)
class Reservation:
    key: tuple[str, str]  # (charge point id, transaction key)
    driver: str
    credit_id: int
    amount: int
    day: int


@dataclass(frozen=True, slots=True)
class _Spent:
    driver: str
    credit_id: int
    amount: int
    day: int
    until: float


class CreditCache:
    def __init__(
        self, source: CreditSource, clock: Clock, *, refresh_s: float = 60.0,
        pending_ttl_s: float = 3_600.0,
    ) -> None:
        self._source = source
        self._clock = clock
        self._refresh_s = refresh_s
        self._pending_ttl_s = pending_ttl_s
        self._accounts: dict[tuple[str, int], tuple[DriverAccount, float]] = {}
        self._tokens: dict[bytes, tuple[str | None, float]] = {}
        self._one_time: dict[bytes, OneTimeGrant] = {}
        self._reservations: dict[tuple[str, str], Reservation] = {}
        # Indexed by (driver, credit id): a lookup costs the driver's own entries, not the
        # whole site's (a busy site holds thousands of finished sessions for pending_ttl_s).
        self._held: dict[tuple[str, int], dict[tuple[str, str], Reservation]] = {}
        self._spent: dict[tuple[str, int], list[_Spent]] = {}

    # ---- lookups (stale data is used when the source is down) ----
    async def driver_for_token(self, id_token: str) -> str | None:
        token_hash = id_token_hash(id_token)
        grant = self._one_time.get(token_hash)
        if grant is not None:
            return grant.driver
        now = self._clock()
        cached = self._tokens.get(token_hash)
        if cached is not None and now - cached[1] < self._refresh_s:
            return cached[0]
        try:
            driver = await self._source.driver_for_id_token(token_hash)
        except CreditSourceUnavailable as exc:
            log.warning("credit source down (%s); using cached token binding", exc)
            return None if cached is None else cached[0]
        self._tokens[token_hash] = (driver, now)
        return driver

    def bind_one_time_token(self, id_token: str, driver: str, credit_id: int | None = None,
                            max_cost: int | None = None) -> None:
        """An app driver's one-time idToken (sent with RemoteStart/RequestStartTransaction),
        optionally limited to one credit id and a maximum cost the driver signed."""
        self._one_time[id_token_hash(id_token)] = OneTimeGrant(driver, credit_id, max_cost)

    def one_time_grant(self, id_token: str) -> OneTimeGrant | None:
        return self._one_time.get(id_token_hash(id_token))

    def consume_one_time_token(self, id_token: str) -> None:
        self._one_time.pop(id_token_hash(id_token), None)

    async def account(self, driver: str, credit_id: int) -> DriverAccount | None:
        now = self._clock()
        cached = self._accounts.get((driver, credit_id))
        if cached is not None and now - cached[1] < self._refresh_s:
            return cached[0]
        try:
            account = await self._source.account(driver, credit_id)
        except CreditSourceUnavailable as exc:
            log.warning("credit source down (%s); using cached balance of %s", exc, driver)
            return None if cached is None else cached[0]
        self._accounts[(driver, credit_id)] = (account, now)
        return account

    # ---- reservations ----
    def available(self, account: DriverAccount, *, exclude: tuple[str, str] | None = None) -> int:
        """What one more session may cost: per-session cap, rest of the daily cap, and balance,
        each minus open reservations and recent unsettled costs of this driver."""
        now = self._clock()
        today = int(now) // 86_400
        if not account.may_charge or (account.valid_until and now >= account.valid_until):
            return 0
        who = (account.driver, account.credit_id)
        spent = [s for s in self._spent.get(who, ()) if s.until > now]
        if spent:
            self._spent[who] = spent
        else:
            self._spent.pop(who, None)
        held = [r for k, r in self._held.get(who, {}).items() if k != exclude]
        held_total = sum(r.amount for r in held) + sum(s.amount for s in spent)
        held_today = sum(r.amount for r in held if r.day == today) + sum(
            s.amount for s in spent if s.day == today)
        spent_today = account.spent_today if account.day == today else 0
        amount = min(
            account.per_session_cap,
            account.daily_cap - spent_today - held_today,
            account.balance - held_total,
        )
        return max(amount, 0)

    def reserve(self, key: tuple[str, str], account: DriverAccount,
                cap: int | None = None) -> Reservation | None:
        amount = self.available(account, exclude=key)
        if cap is not None:
            amount = min(amount, cap)
        if amount <= 0:
            return None
        r = Reservation(key, account.driver, account.credit_id, amount,
                        int(self._clock()) // 86_400)
        self._put(r)
        return r

    def restore(self, r: Reservation) -> None:
        """Re-hold a reservation of a transaction that was open when the gateway stopped."""
        self._put(r)

    def finish(self, key: tuple[str, str], cost: int) -> None:
        """Release the reservation; the actual cost stays held until the chain shows it."""
        r = self._pop(key)
        if r is not None and cost > 0:
            self._spent.setdefault((r.driver, r.credit_id), []).append(_Spent(
                r.driver, r.credit_id, cost, r.day, self._clock() + self._pending_ttl_s))
        if r is not None:
            cached = self._accounts.get((r.driver, r.credit_id))
            if cached is not None:  # make the next lookup go to the source
                self._accounts[(r.driver, r.credit_id)] = (replace(cached[0]), -1e18)

    def rekey(self, old: tuple[str, str], new: tuple[str, str]) -> None:
        """Move a reservation to its final key (1.6: the transaction id assigned after it)."""
        r = self._pop(old)
        if r is not None:
            self._put(replace(r, key=new))

    def release(self, key: tuple[str, str]) -> None:
        self._pop(key)

    def _put(self, r: Reservation) -> None:
        self._pop(r.key)
        self._reservations[r.key] = r
        self._held.setdefault((r.driver, r.credit_id), {})[r.key] = r

    def _pop(self, key: tuple[str, str]) -> Reservation | None:
        r = self._reservations.pop(key, None)
        if r is not None:
            mine = self._held.get((r.driver, r.credit_id), {})
            mine.pop(key, None)
            if not mine:
                self._held.pop((r.driver, r.credit_id), None)
        return r

    def reservation(self, key: tuple[str, str]) -> Reservation | None:
        return self._reservations.get(key)
