"""Values every layer shares: frozen dataclasses and enums, no I/O.

Units: energy in watt-hours, power in watts, time in unix seconds, money in the smallest unit of
the stablecoin behind a credit id ("credits"), tariffs in credits per kWh.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import lru_cache

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
UINT32_MAX = 2**32 - 1
UINT40_MAX = 2**40 - 1
UINT64_MAX = 2**64 - 1
UINT128_MAX = 2**128 - 1


def station_id_for(charge_point_id: str) -> bytes:
    """The on-chain station id: keccak256 of the OCPP charge point identity (UTF-8)."""
    return keccak(charge_point_id.encode("utf-8"))


class OcppVersion(StrEnum):
    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"


class DriverKind(StrEnum):
    APP = "app"
    RFID = "rfid"


class RejectReason(IntEnum):
    """Why the settlement contract skipped a receipt (mirrors ISessionSettlement.RejectReason)."""

    NONE = 0
    ALREADY_SETTLED = 1
    STATION_INACTIVE = 2
    BAD_SIGNATURE = 3
    BAD_TIMES = 4
    STALE = 5
    ENERGY_IMPLAUSIBLE = 6
    COST_MISMATCH = 7
    NOT_AUTHORIZED = 8
    INSUFFICIENT_CREDITS = 9
    TARIFF_UNKNOWN = 10
    MALFORMED = 11


@dataclass(frozen=True, slots=True)
class SessionReceipt:
    """One finished charging session, as the station key signs it (EIP-712 ``SessionReceipt``).

    ``session_id`` is the station's own sequence number: (station_id, session_id) is unique, and
    two different receipts with the same pair are equivocation. ``readings`` commits to the
    meter's signed begin and end readings (``wattnet.chain.readings``); zero bytes when the
    station's meter does not sign (such a session earns no reward weight).
    """

    station_id: bytes
    session_id: int
    connector_id: int
    driver: str
    credit_id: int
    energy_wh: int
    start_time: int
    end_time: int
    cost: int
    referrer: str = ZERO_ADDRESS
    readings: bytes = bytes(32)

    def __post_init__(self) -> None:
        from wattnet.errors import ReceiptError

        if len(self.station_id) != 32:
            raise ReceiptError("station_id must be 32 bytes (keccak of the charge point id)")
        if not isinstance(self.readings, bytes) or len(self.readings) != 32:
            raise ReceiptError("readings must be a 32-byte commitment (zero for none)")
        checks = (
            ("session_id", self.session_id, UINT64_MAX),
            ("connector_id", self.connector_id, 255),
            ("credit_id", self.credit_id, 2**256 - 1),
            ("energy_wh", self.energy_wh, UINT32_MAX),
            ("start_time", self.start_time, UINT40_MAX),
            ("end_time", self.end_time, UINT40_MAX),
            ("cost", self.cost, UINT128_MAX),
        )
        for name, value, bound in checks:
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= bound:
                raise ReceiptError(f"{name}={value!r} is out of range 0..{bound}")
        for name in ("driver", "referrer"):
            try:
                object.__setattr__(self, name, checksummed(getattr(self, name)))
            except (ValueError, TypeError) as exc:
                raise ReceiptError(f"{name} is not an address: {getattr(self, name)!r}") from exc


@dataclass(frozen=True, slots=True)
class SignedReceipt:
    """A receipt with the station's 65-byte signature (r || s || v) and optional OCMF meter data."""

    receipt: SessionReceipt
    signature: bytes
    meter_data: str | None = None


@lru_cache(maxsize=1 << 16)
def checksummed(address: str) -> str:
    """``to_checksum_address``, remembered: a node rebuilds receipts of the same few thousand
    drivers many times (batches, proposals, verdicts), and each checksum costs ~25 us."""
    return to_checksum_address(address)


def id_token_hash(id_token: str) -> bytes:
    """The on-chain key of an RFID/idToken: keccak256 of the trimmed, upper-cased token."""
    return keccak(id_token.strip().upper().encode("utf-8"))


@dataclass(frozen=True, slots=True)
class StationInfo:
    """What the registry says about a station (StationRegistry.getStation)."""

    station_id: bytes
    operator: str
    signer: str
    rated_power_w: int
    connector_count: int
    active: bool
    geohash: str = ""
    meter_public_key: bytes | None = None  # P-256, 64 bytes x || y, when the meter signs (OCMF)


@dataclass(frozen=True, slots=True)
class DriverAccount:
    """A driver's spending position for one credit id, as the chain (EnergyCredits) holds it.

    ``balance`` is spendable credits; the mandate caps what any one session and any one UTC day
    may cost; ``valid_until`` is 0 while the mandate is open-ended, else the revocation time;
    ``may_charge``: the driver consented to this site's stations (every station, or the site's
    operator), without which settlement refuses the session.
    """

    driver: str
    credit_id: int
    balance: int
    per_session_cap: int
    daily_cap: int
    spent_today: int
    day: int
    valid_until: int = 0
    may_charge: bool = True

    def can_spend(self, amount: int, now: int) -> bool:
        today = now // 86_400
        spent = self.spent_today if self.day == today else 0
        open_ = self.valid_until == 0 or now < self.valid_until
        return (
            open_
            and self.may_charge
            and amount <= self.balance
            and amount <= self.per_session_cap
            and spent + amount <= self.daily_cap
        )
