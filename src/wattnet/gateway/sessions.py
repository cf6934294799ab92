"""The session service: what handlers hand their work to. Never calls the chain.

Authorizes drivers against the credit cache, opens transactions durably, follows meter values,
asks for a remote stop when the cost approaches the reservation, and on the end builds, signs and
stores the receipt (with verified OCMF data) in one commit before the charger is answered.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

from wattnet.chain.eip712 import Domain, receipt_digest
from wattnet.chain.readings import NO_READINGS, ReadingsError, readings_of
from wattnet.chain.receipt_codec import signed_to_json
from wattnet.domain import SessionReceipt, SignedReceipt, id_token_hash, station_id_for
from wattnet.gateway.config import GatewayConfig, StationConfig
from wattnet.gateway.crashpoints import crashpoint
from wattnet.gateway.credits import CreditCache, Reservation
from wattnet.gateway.errors import MeterDataError
from wattnet.gateway.ocmf import verify_session_meter_data
from wattnet.gateway.signer import Signer
from wattnet.gateway.store import PENDING, REJECTED, ClosedSession, GatewayStore
from wattnet.gateway.transactions import (
    LiveMeter,
    Transaction,
    max_energy_for,
    session_cost,
    session_energy,
    unbillable_reason,
)
from wattnet.groups import GroupWorker

log = logging.getLogger(__name__)
T = TypeVar("T")
STOP_HEADROOM_S = 30  # stop this many seconds of rated power before the reservation is used up


@dataclass(frozen=True, slots=True)
class AuthDecision:
    accepted: bool
    driver: str | None
    credit_id: int = 0
    tariff: int = 0
    reservation: Reservation | None = None


class SessionService:
    def __init__(
        self,
        config: GatewayConfig,
        store: GatewayStore,
        cache: CreditCache,
        signers: Mapping[str, Signer],
        clock: Callable[[], float],
        on_receipt: Callable[[], None] = lambda: None,
        on_start: Callable[[Transaction], None] = lambda tx: None,
        on_meter: Callable[[str, str, int | None, int, int], None] = lambda *a: None,
        on_end: Callable[[Transaction, int | None, int, int, int], None] = lambda *a: None,
    ) -> None:
        self._config = config
        self._store = store
        self._cache = cache
        self._signers = signers
        self._clock = clock
        self._on_receipt = on_receipt
        self._on_start = on_start  # an authorized transaction opened: tell the oracle
        # live session events for the admin API's feed (gateway/tx_feed.py): a newer register
        # (cp, tx, start Wh, register Wh, at); closed (tx, session id, energy, cost, end time)
        self._on_meter = on_meter
        self._on_end = on_end
        self._domain = Domain(config.chain_id, config.settlement).separator
        # Every store call goes through one thread; calls made while it works share one commit.
        self._writes: GroupWorker[Callable[[], Any], Any] = GroupWorker(
            store.group, name="gateway-db", max_size=256)
        self._live: dict[tuple[str, str], LiveMeter] = {}
        self._statuses: dict[str, dict[int, tuple[str, float]]] = {}
        # Charge points whose BootNotification was ever accepted (persisted: a charger that
        # reconnects after a gateway restart does not boot again).
        self._booted: set[str] = set()

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        result: T = await self._writes.submit(partial(fn, *args))
        return result

    def close(self) -> None:
        self._writes.close()

    async def restore(self) -> int:
        """Reload open transactions after a restart: their reservations hold again."""
        self._booted = await self._db(self._store.booted_stations)
        txs = await self._db(self._store.open_transactions)
        for tx in txs:
            self._live[(tx.station, tx.tx_key)] = LiveMeter(
                tx.meter_start_wh, tx.meter_start_wh, tx.start_time)
            if tx.driver:
                self._cache.restore(Reservation((tx.station, tx.tx_key), tx.driver,
                                                tx.credit_id, tx.reserved, tx.start_time // 86_400))
                self._on_start(tx)
        return len(txs)

    # ---- registration ----
    async def accept_boot(self, cp_id: str) -> None:
        """A BootNotification of ``cp_id`` is accepted: record it before answering."""
        if cp_id not in self._booted:
            await self._db(self._store.accept_boot, cp_id, self._clock())
            self._booted.add(cp_id)

    def is_booted(self, cp_id: str) -> bool:
        return cp_id in self._booted

    # ---- connector status (StatusNotification; read by the admin API, OCPI polls it) ----
    def set_status(self, cp_id: str, connector: int, status: str) -> None:
        """The last status a charger reported for a connector (0: the whole station)."""
        self._statuses.setdefault(cp_id, {})[connector] = (status, self._clock())

    def statuses(self, cp_id: str) -> dict[int, tuple[str, float]]:
        """(status, when reported) per connector, as last reported; empty before any."""
        return dict(self._statuses.get(cp_id, {}))

    def station(self, cp_id: str) -> StationConfig:
        return self._config.stations[cp_id]

    # ---- authorization ----
    async def authorize(self, cp_id: str, id_token: str, key: tuple[str, str] | None = None
                        ) -> AuthDecision:
        """Find the driver and the first credit id (in the station's tariff order) with room;
        with ``key``, also reserve what the session may cost."""
        driver = await self._cache.driver_for_token(id_token)
        if driver is None:
            return AuthDecision(False, None)
        grant = self._cache.one_time_grant(id_token)
        cap = None if grant is None else grant.max_cost
        for credit_id, tariff in self.station(cp_id).tariffs.items():
            if grant is not None and grant.credit_id not in (None, credit_id):
                continue
            account = await self._cache.account(driver, credit_id)
            room = 0 if account is None else self._cache.available(account, exclude=key)
            if account is None or min(room, cap if cap is not None else room) * 1000 < tariff:
                continue  # not even 1 Wh affordable
            if key is None:
                return AuthDecision(True, driver, credit_id, tariff)
            reservation = self._cache.reserve(key, account, cap)
            if reservation is not None:
                return AuthDecision(True, driver, credit_id, tariff, reservation)
        return AuthDecision(False, driver)

    def _with_auth(self, tx: Transaction, d: AuthDecision, id_token: str) -> Transaction:
        if not d.accepted or d.reservation is None:
            return replace(tx, id_token_hash=id_token_hash(id_token))
        self._cache.consume_one_time_token(id_token)
        return replace(tx, driver=d.driver, credit_id=d.credit_id, tariff=d.tariff,
                       reserved=d.reservation.amount, id_token_hash=id_token_hash(id_token))

    # ---- OCPP 1.6 ----
    async def start_16(self, cp_id: str, call_id: str, connector_id: int, id_tag: str,
                       meter_start: int, start_time: int) -> tuple[Transaction, bool]:
        """Open a transaction, idempotent per content. Returns (tx, authorized).

        A charger that never saw the answer retries after a reconnect with a new message id and
        the same content: same connector, idTag, meterStart and timestamp is the same request,
        answered with the same transactionId and holding nothing more."""
        # No two real transactions of one station start on the same connector, with the same
        # register, at the same second; a restarted charger reusing a call id differs in both.
        fingerprint = f"{connector_id}|{id_tag}|{meter_start}|{start_time}"
        known = await self._db(self._store.find_16, cp_id, fingerprint)
        if known is not None:
            log.info("%s: StartTransaction %s repeats transaction %s", cp_id, call_id,
                     known.tx_key)
            return known, known.driver is not None
        pending_key = (cp_id, "call:" + call_id)
        decision = await self.authorize(cp_id, id_tag, key=pending_key)

        def make(tx_key: str) -> Transaction:
            tx = Transaction(cp_id, tx_key, connector_id, start_time, meter_start)
            return self._with_auth(tx, decision, id_tag)

        try:
            tx, replayed = await self._db(self._store.open_16, fingerprint, make)
        except BaseException:
            self._cache.release(pending_key)  # nothing stored: hold nothing
            raise
        if decision.reservation is not None:
            if replayed:  # the first StartTransaction holds the reservation already
                self._cache.release(pending_key)
            else:
                self._cache.rekey(pending_key, (cp_id, tx.tx_key))
        self._live.setdefault((cp_id, tx.tx_key), LiveMeter(meter_start, meter_start, start_time))
        if decision.reservation is not None and not replayed:
            self._on_start(tx)
        return tx, tx.driver is not None

    # ---- OCPP 2.0.1 ----
    async def event_201(self, cp_id: str, tx_key: str, connector_id: int, at: int,
                        id_token: str | None, register_wh: int | None,
                        signed: tuple[str, ...], first_wh: int | None = None,
                        samples: int = 1) -> tuple[Transaction, bool | None]:
        """Started/Updated: create or update the transaction; returns (tx, token accepted).

        The start register is the first one the transaction reports, in whichever event."""
        first_wh = register_wh if first_wh is None else first_wh
        found = await self._db(self._store.get_transaction, cp_id, tx_key)
        # This event's register is a reading after the start one (usable as the end register
        # when Ended carries none) if the start was known already or the event carries both.
        later = (found is not None and found.meter_start_wh is not None) or samples >= 2
        accepted: bool | None = None
        changed = authorized = False
        if found is not None:
            tx = found
        else:
            tx = Transaction(cp_id, tx_key, connector_id, at, first_wh)
            self._live[(cp_id, tx_key)] = LiveMeter(first_wh, register_wh, at)
            changed = True
        if tx.meter_start_wh is None and first_wh is not None and not tx.closed:
            tx, changed = replace(tx, meter_start_wh=first_wh), True  # first register: Updated
            live = self._live.setdefault((cp_id, tx_key), LiveMeter())
            live.start_wh = first_wh
        if id_token is not None and not tx.closed:
            if tx.driver is None:
                decision = await self.authorize(cp_id, id_token, key=(cp_id, tx_key))
                tx, changed = self._with_auth(tx, decision, id_token), True
                authorized = decision.reservation is not None
            accepted = tx.driver is not None and tx.id_token_hash == id_token_hash(id_token)
        new_signed = tuple(s for s in signed if s not in tx.ocmf)
        if new_signed and not tx.closed:
            tx, changed = replace(tx, ocmf=tx.ocmf + new_signed), True
        if changed and not tx.closed:
            try:
                tx, _ = await self._db(self._store.save_transaction, tx)
            except BaseException:
                if found is None or found.driver is None:
                    self._cache.release((cp_id, tx_key))
                raise
        if authorized:
            self._on_start(tx)
        if register_wh is not None:
            self.meter(cp_id, tx_key, register_wh, at)
            if later and not tx.closed:
                self._live[(cp_id, tx_key)].moved = True
        return tx, accepted

    async def add_signed(self, cp_id: str, tx_key: str, records: tuple[str, ...]) -> None:
        """Keep signed meter records (1.6 SignedData) with their open transaction, durably."""
        tx = await self._db(self._store.get_transaction, cp_id, tx_key)
        if tx is None or tx.closed:
            return
        new = tuple(r for r in records if r not in tx.ocmf)
        if new:
            await self._db(self._store.save_transaction, replace(tx, ocmf=tx.ocmf + new))

    async def get(self, cp_id: str, tx_key: str) -> Transaction | None:
        return await self._db(self._store.get_transaction, cp_id, tx_key)

    # ---- meter values ----
    def meter(self, cp_id: str, tx_key: str, register_wh: int, at: int) -> bool:
        """Record a register reading; True once the charger should be told to stop."""
        live = self._live.setdefault((cp_id, tx_key), LiveMeter())
        if live.start_wh is None:
            live.start_wh = register_wh
        if live.register_wh is None or at >= live.at:
            live.register_wh, live.at = register_wh, at
            self._on_meter(cp_id, tx_key, live.start_wh, register_wh, at)
        r = self._cache.reservation((cp_id, tx_key))
        if r is None or live.stop_requested:
            return False
        start = live.start_wh
        tariff = self._tariff(cp_id, r.credit_id)
        headroom = self.station(cp_id).rated_power_w * STOP_HEADROOM_S // 3600
        if session_cost(session_energy(start, register_wh) + headroom, tariff) >= r.amount:
            live.stop_requested = True
            return True
        return False

    def is_open(self, cp_id: str, tx_key: str) -> bool:
        return (cp_id, tx_key) in self._live

    async def hold(self, cp_id: str, tx_key: str, held: int) -> bool:
        """The oracle holds ``held`` credits for the session (its start notice): lower the
        reservation to that. True when the session must stop now (the caller asks the charger),
        since it holds nothing or already costs about that much."""
        def lower() -> bool:
            tx = self._store.get_transaction(cp_id, tx_key)
            if tx is None or tx.closed or tx.driver is None or held >= tx.reserved:
                return False
            self._store.save_transaction(replace(tx, reserved=held))
            return True

        if not await self._db(lower):
            return False
        r = self._cache.reservation((cp_id, tx_key))
        if r is not None:
            self._cache.restore(replace(r, amount=held))
        log.warning("%s tx %s: the oracle holds %d credits for it; reservation lowered", cp_id,
                    tx_key, held)
        live = self._live.get((cp_id, tx_key))
        if live is None or live.stop_requested:
            return False
        if held == 0 or (live.register_wh is not None
                         and self.meter(cp_id, tx_key, live.register_wh, live.at)):
            live.stop_requested = live.stop_sent = True
            return True
        return False

    def stop_due(self, cp_id: str, tx_key: str) -> bool:
        """True exactly once per transaction, after its cost approached the reservation."""
        live = self._live.get((cp_id, tx_key))
        if live is None or not live.stop_requested or live.stop_sent:
            return False
        live.stop_sent = True
        return True

    def _tariff(self, cp_id: str, credit_id: int) -> int:
        return self.station(cp_id).tariffs.get(credit_id, 1)

    # ---- end: receipt ----
    async def end(self, cp_id: str, tx_key: str, meter_stop_wh: int | None, end_time: int,
                  signed: tuple[str, ...] = (), first_wh: int | None = None) -> ClosedSession:
        """Close the transaction and store its signed receipt (before the charger's answer).

        ``first_wh``: the oldest register of the end message itself, used as the start when no
        earlier event reported one."""
        crashpoint("after_stop_received_before_store")
        tx = await self._db(self._store.get_transaction, cp_id, tx_key)
        if tx is None:  # never saw the start (e.g. 2.0.1 Ended only): record it, no driver
            tx = Transaction(cp_id, tx_key, 0, end_time, meter_stop_wh)
            await self._db(self._store.save_transaction, tx)
        live = self._live.pop((cp_id, tx_key), None)
        if meter_stop_wh is None and live is not None and live.moved:
            meter_stop_wh = live.register_wh  # the newest reading, never the start one again
        start_wh = tx.meter_start_wh
        if start_wh is None and live is not None:
            start_wh = live.start_wh
        if start_wh is None:
            start_wh = first_wh
        records = tx.ocmf + tuple(s for s in signed if s not in tx.ocmf)
        now = int(self._clock())
        station = self.station(cp_id)
        costs: dict[str, int] = {}

        def build(t: Transaction, session_id: int | None) -> tuple[bytes, str, str, str] | None:
            if session_id is None or t.driver is None:
                return None
            energy = session_energy(start_wh, meter_stop_wh)
            state, reason, meter_text = PENDING, "", "\n".join(records) or None
            readings = NO_READINGS
            unbillable = unbillable_reason(start_wh, meter_stop_wh)
            if unbillable is not None:
                state, reason = REJECTED, f"energy: {unbillable}"
                log.error("%s tx %s: receipt %d NOT forwarded, %s", cp_id, tx_key, session_id,
                          reason)
            elif station.meter_public_key:
                try:
                    verified = verify_session_meter_data(
                        records, public_key=station.meter_public_key,
                        meter_serial=station.meter_serial, start_time=t.start_time,
                        end_time=end_time, now=now,
                        future_skew_s=self._config.meter_future_skew_s)
                    if not self._store.claim_ocmf_locked(verified.digests, cp_id, tx_key):
                        raise MeterDataError(
                            "signed meter record already used by another session")
                    if abs(verified.energy_wh - energy) > 1:
                        raise MeterDataError(
                            f"OCPP energy differs from the signed meter's {verified.energy_wh} Wh")
                    # The signed register is the authority: a receipt claiming more than it
                    # shows is provable fraud on chain, even by the one Wh of rounding.
                    energy = min(energy, verified.energy_wh)
                    meter_text = verified.text
                    if station.meter_certified:
                        readings = readings_of(records, station.meter_public_key).commitment()
                except (MeterDataError, ReadingsError) as exc:
                    state, reason = REJECTED, f"meter data: {exc}"
                    log.error("%s tx %s: receipt %d NOT forwarded, %s", cp_id, tx_key,
                              session_id, reason)
            allowed = max_energy_for(t.reserved, t.tariff)
            if energy > allowed:
                log.warning("%s tx %s: %d Wh exceeds the %d Wh the driver authorized; "
                            "receipt capped", cp_id, tx_key, energy, allowed)
                energy = allowed
            receipt = SessionReceipt(
                station_id=station_id_for(cp_id), session_id=session_id,
                connector_id=t.connector_id, driver=t.driver, credit_id=t.credit_id,
                energy_wh=energy, start_time=t.start_time, end_time=end_time,
                cost=session_cost(energy, t.tariff), readings=readings,
            )
            signature = self._signers[cp_id].sign_digest(receipt_digest(self._domain, receipt))
            body = json.dumps(signed_to_json(SignedReceipt(receipt, signature, meter_text)),
                              separators=(",", ":"))
            costs["cost"] = receipt.cost if state == PENDING else 0
            costs["energy"] = energy
            return receipt.station_id, body, state, reason

        def result(session_id: int | None) -> str:
            return json.dumps({"sessionId": session_id, "authorized": tx.driver is not None})

        closed = await self._db(self._store.close_transaction, cp_id, tx_key, build, result,
                                float(now))
        crashpoint("after_store_before_reply")
        if not closed.replayed:
            self._cache.finish((cp_id, tx_key), costs.get("cost", 0))
            if closed.session_id is not None:
                self._on_receipt()
            self._on_end(tx, closed.session_id, costs.get("energy", 0), costs.get("cost", 0),
                         end_time)
        return closed
