"""Live state the chain does not hold: EVSE statuses and sessions, as the gateways report them
(OCPP StatusNotification, the admin API's transaction events). Listeners are called on every
change (the pushes to registered receivers subscribe here). Memory only: after a restart the
gateways report their open sessions again; finished ones are kept up to ``keep`` sessions."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from wattnet.ocpi.types import format_datetime

log = logging.getLogger(__name__)

# OCPP 1.6 ChargePointStatus / 2.0.1 ConnectorStatus -> OCPI EVSE Status
OCPP_STATUS = {
    "Available": "AVAILABLE", "Preparing": "AVAILABLE", "Charging": "CHARGING",
    "SuspendedEV": "CHARGING", "SuspendedEVSE": "CHARGING", "Finishing": "CHARGING",
    "Occupied": "CHARGING", "Reserved": "RESERVED", "Unavailable": "INOPERATIVE",
    "Faulted": "OUTOFORDER",
}


class ChargerControl(Protocol):
    """What the commands module needs from the gateways; each returns a CommandResultType
    value (ACCEPTED, REJECTED, EVSE_OCCUPIED, ...)."""

    def start(self, station_id: bytes, connector: int, token: dict[str, Any]) -> Awaitable[str]:
        ...

    def stop(self, session: dict[str, Any]) -> Awaitable[str]: ...

    def unlock(self, station_id: bytes, connector: int) -> Awaitable[str]: ...


StatusListener = Callable[[bytes, int, str, str], None]  # station, connector, status, when
# the whole session, and the fields that changed (None: new or replaced, a PUT)
SessionListener = Callable[[dict[str, Any], dict[str, Any] | None], None]


class LiveState:
    def __init__(self, clock: Callable[[], float], keep: int = 10_000) -> None:
        self._clock = clock
        self._keep = keep
        self._status: dict[tuple[bytes, int], tuple[str, int]] = {}
        self._sessions: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, dict[str, Any]] = {}  # session id -> eMSP token
        self.on_status: list[StatusListener] = []
        self.on_session: list[SessionListener] = []

    def statuses(self, station_id: bytes) -> dict[int, tuple[str, int]]:
        return {c: v for (s, c), v in self._status.items() if s == station_id}

    def set_ocpp_status(self, station_id: bytes, connector: int, ocpp_status: str) -> str:
        """Record a StatusNotification; returns the OCPI status (UNKNOWN for unknown values)."""
        status = OCPP_STATUS.get(ocpp_status, "UNKNOWN")
        now = int(self._clock())
        if self._status.get((station_id, connector), ("", 0))[0] == status:
            return status
        self._status[(station_id, connector)] = (status, now)
        for listener in self.on_status:
            listener(station_id, connector, status, format_datetime(now))
        return status

    def sessions(self) -> list[dict[str, Any]]:
        return sorted(self._sessions.values(), key=lambda s: (s["last_updated"], s["id"]))

    def session(self, session_id: str) -> dict[str, Any] | None:
        return self._sessions.get(session_id)

    def put_session(self, session: dict[str, Any]) -> None:
        self._sessions[session["id"]] = session
        for listener in self.on_session:
            listener(session, None)
        self._forget_old()

    def patch_session(self, session_id: str, fields: dict[str, Any]) -> None:
        """Merge ``fields`` into a known session (a PATCH to the receivers)."""
        session = self._sessions.get(session_id)
        if session is None:
            return
        session.update(fields)
        for listener in self.on_session:
            listener(session, fields)

    def _forget_old(self) -> None:
        if len(self._sessions) <= self._keep:
            return
        done = sorted((s["last_updated"], s["id"]) for s in self._sessions.values()
                      if s["status"] != "ACTIVE")
        for _, sid in done[:len(self._sessions) - self._keep]:
            self._sessions.pop(sid, None)
            self._tokens.pop(sid, None)

    def bind_token(self, session_id: str, token: dict[str, Any]) -> None:
        """The eMSP token a session was started with (its CDR then names it)."""
        self._tokens[session_id] = token

    def token_of(self, session_id: str) -> dict[str, Any] | None:
        return self._tokens.get(session_id)
