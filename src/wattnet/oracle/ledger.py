"""What the oracle reads of drivers' credits to keep their sessions in order (``reservations``):
the ``CreditLedger`` protocol and an in-memory double. The web3 one is ``ledger_web3``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from wattnet.oracle.reservations import Room

DriverKey = tuple[str, int]  # (checksummed driver, credit id)
Ask = tuple[str, int, str]  # (driver, credit id, the station's operator)


@dataclass(frozen=True, slots=True)
class Timing:
    """The settlement rules' clocks, seconds (EnergyCredits.timing)."""

    max_settlement_delay: int
    max_session_duration: int


@runtime_checkable
class CreditLedger(Protocol):
    def rooms(self, keys: list[DriverKey], now: int) -> dict[DriverKey, Room]:
        """Each driver's room now; raises a ChainError subclass when the node is unreachable."""
        ...

    def standings(self, asks: list[Ask], now: int) -> list[tuple[bool, Room]]:
        """For each (driver, credit id, operator): (the driver consented to ``operator``'s
        stations or to every station, its room), all in one round trip: a start notice needs
        both, and notices arriving together are judged together."""
        ...

    def timing(self) -> Timing: ...


@dataclass
class MemoryLedger:
    """A ledger held in memory, for tests: rooms by driver, consents by (driver, operator)."""

    rooms_by_key: dict[DriverKey, Room] = field(default_factory=dict)
    consents: set[tuple[str, str]] = field(default_factory=set)
    clocks: Timing = field(default_factory=lambda: Timing(3_600, 3_600))
    reads: int = 0

    def rooms(self, keys: list[DriverKey], now: int) -> dict[DriverKey, Room]:
        self.reads += 1
        return {k: self.rooms_by_key.get(k, Room(0, 0, 1)) for k in keys}

    def standings(self, asks: list[Ask], now: int) -> list[tuple[bool, Room]]:
        rooms = self.rooms([(driver, credit_id) for driver, credit_id, _ in asks], now)
        return [((driver, operator) in self.consents or (driver, "*") in self.consents,
                 rooms[(driver, credit_id)]) for driver, credit_id, operator in asks]

    def timing(self) -> Timing:
        return self.clocks
