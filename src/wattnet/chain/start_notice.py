"""Start notices: a station's signed word, sent as a session starts, that it authorized a
driver's session for up to ``amount`` credits.

The oracle orders a driver's sessions by the time it learned of them, and a notice is how a
station makes that time the start of its session: the arrival is the oracle's clock, so a
notice cannot be backdated. Settlement then charges the driver's sessions in that order, and a
colluding station whose session started later cannot spend what an honestly authorized one
holds (docs/security.md, "Collusion against the honest station").

EIP-712 under the settlement domain, signed by the station key like a receipt:

    SessionStart(bytes32 stationId,uint8 connectorId,address driver,uint256 creditId,
                 uint128 amount,uint40 startTime)

(stationId, connectorId, startTime) names the session: its receipt carries the same three.
JSON wire form (POST /v1/starts):

    {"notice": {"stationId": "0x<64 hex>", "connectorId": 1, "driver": "0x..",
                "creditId": 1, "amount": 20000000, "startTime": 1700000000},
     "signature": "0x<130 hex>"}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils.address import is_hex_address, to_checksum_address
from eth_utils.crypto import keccak

from wattnet.chain.eip712 import Domain, typed_digest
from wattnet.chain.receipt_codec import hex_bytes
from wattnet.errors import ReceiptError

SESSION_START_TYPE = (
    "SessionStart(bytes32 stationId,uint8 connectorId,address driver,uint256 creditId,"
    "uint128 amount,uint40 startTime)"
)
SESSION_START_TYPEHASH = keccak(SESSION_START_TYPE.encode())

_BITS = {"connectorId": 8, "creditId": 256, "amount": 128, "startTime": 40}


class NoticeError(ReceiptError):
    """A start notice that is malformed."""


@dataclass(frozen=True, slots=True)
class StartNotice:
    station_id: bytes
    connector_id: int
    driver: str
    credit_id: int
    amount: int
    start_time: int

    @property
    def key(self) -> tuple[bytes, int, int]:
        """What names the session, here and in its receipt."""
        return (self.station_id, self.connector_id, self.start_time)

    def struct_hash(self) -> bytes:
        return keccak(
            SESSION_START_TYPEHASH + self.station_id + self.connector_id.to_bytes(32, "big")
            + bytes(12) + bytes.fromhex(self.driver[2:]) + self.credit_id.to_bytes(32, "big")
            + self.amount.to_bytes(32, "big") + self.start_time.to_bytes(32, "big"))

    def digest(self, domain: Domain | bytes) -> bytes:
        separator = domain.separator if isinstance(domain, Domain) else domain
        return typed_digest(separator, self.struct_hash())


def notice_to_json(notice: StartNotice, signature: bytes) -> dict[str, Any]:
    return {"notice": {"stationId": "0x" + notice.station_id.hex(),
                       "connectorId": notice.connector_id, "driver": notice.driver,
                       "creditId": notice.credit_id, "amount": notice.amount,
                       "startTime": notice.start_time},
            "signature": "0x" + signature.hex()}


def _hex(value: Any, length: int, name: str) -> bytes:
    return hex_bytes(value, length, name, NoticeError)


def notice_from_json(obj: Any) -> tuple[StartNotice, bytes]:
    """(notice, 65-byte signature); NoticeError names the first thing wrong."""
    if not isinstance(obj, dict) or set(obj) != {"notice", "signature"}:
        raise NoticeError('a start notice is {"notice": {...}, "signature": "0x.."}')
    body = obj["notice"]
    fields = {"stationId", "driver", *_BITS}
    if not isinstance(body, dict) or set(body) != fields:
        raise NoticeError(f"notice must have exactly the fields {sorted(fields)}")
    for name, bits in _BITS.items():
        value = body[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
            raise NoticeError(f"{name} must be an integer in 0..2**{bits}-1")
    driver = body["driver"]
    if not isinstance(driver, str) or not is_hex_address(driver):
        raise NoticeError("driver must be a 0x address")
    if body["amount"] == 0:
        raise NoticeError("amount must be above 0: a notice reserves what the session may cost")
    notice = StartNotice(_hex(body["stationId"], 32, "stationId"), body["connectorId"],
                         to_checksum_address(driver), body["creditId"], body["amount"],
                         body["startTime"])
    return notice, _hex(obj["signature"], 65, "signature")
