"""Signed meter data (OCMF): signature against the station's registered meter key, then the
readings against the receipt. Parsing and the ECDSA check are pyocmf's; the session rules are ours.

Every failure is a reason string; the ingest pipeline quarantines the receipt with it. A valid
record yields the meter serial and begin/end register values for the monotonic-meter check and a
hash of the signed payload for the replay check (one signed payload, one session).
"""

from __future__ import annotations

import itertools
import logging
import warnings
from dataclasses import dataclass
from decimal import Decimal

from pyocmf import OCMF, PyOCMFError
from pyocmf.enums.crypto import SignatureMethod
from pyocmf.enums.reading import MeterReadingReason

from wattnet.chain.ocmf_signature import verify_p256
from wattnet.chain.readings import NO_READINGS, ReadingsError, commitment_of
from wattnet.domain import station_id_for
from wattnet.oracle.verify import WireReceipt, keccak

log = logging.getLogger(__name__)

SUPPORTED_METHODS = frozenset({SignatureMethod.SECP256R1_SHA256})
_END_REASONS = frozenset({
    MeterReadingReason.END, MeterReadingReason.TERMINATION_LOCAL,
    MeterReadingReason.TERMINATION_REMOTE, MeterReadingReason.TERMINATION_ABORT,
    MeterReadingReason.TERMINATION_POWER_FAILURE,
})


@dataclass(frozen=True, slots=True)
class MeterReading:
    """What a valid OCMF record contributes to the cross-session checks."""

    serial: str
    start_wh: int
    end_wh: int
    payload_hash: bytes


class MeterDataInvalid(ValueError):
    """The OCMF record does not prove the receipt; ``str()`` is the stored reason."""


def _wh(value: Decimal | None, unit: str | None) -> Decimal:
    if value is None:
        raise MeterDataInvalid("OCMF reading without a value (RV)")
    if unit == "kWh":
        return Decimal(value) * 1000
    if unit == "Wh":
        return Decimal(value)
    raise MeterDataInvalid(f"OCMF reading unit {unit!r} is not an energy unit")


def _parse_record(text: str, meter_key_der: bytes) -> OCMF:
    """One ``OCMF|payload|signature`` record, its signature checked against the meter key."""
    if text.count("|") != 2:
        raise MeterDataInvalid("OCMF must be exactly OCMF|payload|signature")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ocmf = OCMF.from_string(text)
        except PyOCMFError as exc:
            raise MeterDataInvalid(f"OCMF unparsable: {exc}") from exc
        method = ocmf.signature.SA
        if method not in SUPPORTED_METHODS:
            raise MeterDataInvalid(f"OCMF signature algorithm {method!r} is not supported")
        try:
            valid = verify_p256(ocmf, meter_key_der)
        except PyOCMFError as exc:
            raise MeterDataInvalid(f"OCMF signature unverifiable: {exc}") from exc
    if not valid:
        raise MeterDataInvalid("OCMF signature does not match the station's meter key")
    return ocmf


def check_meter_data(
    wire: WireReceipt, meter_data: str, meter_key_der: bytes | None, now: int, skew_s: int,
    energy_tolerance_wh: int,
) -> MeterReading:
    """Verify ``meter_data`` for ``wire``; raises MeterDataInvalid with the reason.

    ``meter_data`` is one OCMF record holding the begin and end readings, or (as meters sign
    OCPP's Transaction.Begin and Transaction.End values, and the gateway forwards them) several
    records, one per line, each signed, in order; their readings are taken together."""
    if meter_key_der is None:
        raise MeterDataInvalid("OCMF present but no meter key is bound to the station")
    if meter_data != meter_data.strip():
        raise MeterDataInvalid("OCMF has whitespace outside the signed payload")
    records = [_parse_record(text, meter_key_der) for text in meter_data.split("\n")]
    serials = {str(r.payload.MS) if r.payload.MS else "" for r in records}
    if "" in serials:
        raise MeterDataInvalid("OCMF has no meter serial (MS)")
    if len(serials) != 1:
        raise MeterDataInvalid("OCMF records come from different meters (MS)")
    for r in records:
        if r.payload.CI is not None and station_id_for(r.payload.CI) != wire.station_id:
            raise MeterDataInvalid(f"OCMF belongs to charge point {r.payload.CI!r}, not this "
                                   "station")
    readings = [reading for r in records for reading in r.payload.RD]
    if len(readings) < 2:
        raise MeterDataInvalid("OCMF needs a begin and an end reading")
    if readings[0].TX != MeterReadingReason.BEGIN:
        raise MeterDataInvalid("OCMF first reading is not the begin reading (TX=B)")
    if readings[-1].TX not in _END_REASONS:
        raise MeterDataInvalid("OCMF last reading is not an end reading")
    reasons = [r.TX for r in readings]
    if reasons.count(MeterReadingReason.BEGIN) != 1 or sum(t in _END_REASONS for t in reasons) != 1:
        raise MeterDataInvalid("OCMF has duplicated begin or end readings")
    units = {(r.RI and str(r.RI), r.RU) for r in readings}
    if len(units) != 1:
        raise MeterDataInvalid("OCMF mixes registers or units within one session")
    times = [int(r.timestamp.timestamp()) for r in readings]
    values = [_wh(r.RV, r.RU) for r in readings]
    if any(b < a for a, b in itertools.pairwise(times)):
        raise MeterDataInvalid("OCMF readings are out of time order")
    if any(b < a for a, b in itertools.pairwise(values)):
        raise MeterDataInvalid("OCMF meter register goes backwards within the session")
    if times[-1] > now + skew_s:
        raise MeterDataInvalid("OCMF reading timestamp is in the future")
    if times[0] < wire.start_time - skew_s or times[-1] > wire.end_time + skew_s:
        raise MeterDataInvalid("OCMF readings fall outside the receipt's session times")
    energy = values[-1] - values[0]
    if abs(energy - wire.energy_wh) > energy_tolerance_wh:
        raise MeterDataInvalid(
            f"OCMF energy {energy} Wh differs from receipt energy {wire.energy_wh} Wh"
        )
    # A receipt committing to no readings (its meter is not certified) earns no reward weight
    # and nothing on chain reads its records; one that commits must commit to exactly these,
    # and claim no more than their registers show in whole Wh (what ReadingsProofs reads).
    if wire.readings != NO_READINGS:
        metered = int(values[-1]) - int(values[0])
        if wire.energy_wh > metered:
            raise MeterDataInvalid(
                f"receipt energy {wire.energy_wh} Wh exceeds the signed registers' {metered} Wh"
            )
        try:
            committed = commitment_of(meter_data, meter_key_der)
        except ReadingsError as exc:
            raise MeterDataInvalid(f"OCMF readings cannot be committed to: {exc}") from exc
        if wire.readings != committed:
            raise MeterDataInvalid(
                "receipt's readings commitment does not match its signed meter data"
            )
    # The begin reading's signed payload identifies the session (one payload, one session).
    body = meter_data.split("\n")[0].split("|")[1]
    return MeterReading(
        serial=serials.pop(),
        start_wh=int(values[0]),
        end_wh=int(values[-1]),
        payload_hash=keccak(body.encode("utf-8")),
    )
