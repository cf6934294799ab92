"""Transactions and meter math: pure functions, no I/O.

Energy of a session is the difference of the energy register (Energy.Active.Import.Register)
between start and end, never the register itself. Values arrive as 1.6 strings with a ``unit``
(Wh or kWh) or as 2.0.1 numbers with ``unitOfMeasure`` {unit, multiplier}.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from wattnet.econ.settlement import session_cost as rules_cost

REGISTER = "Energy.Active.Import.Register"


@dataclass(frozen=True, slots=True)
class Transaction:
    """An OCPP transaction as the gateway keeps it (open or closed)."""

    station: str  # charge point id
    tx_key: str  # 1.6: our integer transactionId as text; 2.0.1: the charger's transactionId
    connector_id: int
    start_time: int
    meter_start_wh: int | None
    driver: str | None = None  # None: not (yet) authorized, no receipt will be built
    credit_id: int = 0
    tariff: int = 0  # credits per kWh at session start
    reserved: int = 0  # credits reserved for this session
    id_token_hash: bytes | None = None
    ocmf: tuple[str, ...] = ()
    closed: bool = False
    session_id: int | None = None
    end_result: str | None = None  # JSON of the end outcome, replayed to retransmits


@dataclass(slots=True)
class LiveMeter:
    """The newest register seen for an open transaction (memory only; end events carry theirs)."""

    start_wh: int | None = None
    register_wh: int | None = None
    at: int = 0
    stop_requested: bool = False
    stop_sent: bool = False
    signed: list[str] = field(default_factory=list)
    moved: bool = False  # a register reading after the start one was seen (2.0.1 end fallback)


@dataclass(frozen=True, slots=True)
class Reading:
    register_wh: int | None  # the newest total register in the message
    timestamp: int | None
    signed: tuple[str, ...] = ()
    first_wh: int | None = None  # the oldest total register in the message
    samples: int = 0  # how many total register values the message carried


def parse_time(value: Any) -> int | None:
    """Unix seconds from an OCPP dateTime (RFC 3339, ``Z`` or offset); None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        return None
    return int(dt.timestamp())


def _to_wh(value: Any, unit: str | None, multiplier: int = 0) -> int | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite():
        return None
    scale = Decimal(10) ** multiplier
    if unit in (None, "Wh"):
        wh = number * scale
    elif unit == "kWh":
        wh = number * scale * 1000
    else:
        return None
    return int(wh.to_integral_value(rounding="ROUND_FLOOR"))


def _is_total_register(sv: Mapping[str, Any]) -> bool:
    return sv.get("measurand", REGISTER) == REGISTER and sv.get("phase") is None


def read_register_16(meter_value: Iterable[Mapping[str, Any]]) -> Reading:
    """Newest total import register and OCMF records (``format: SignedData``) from 1.6
    ``meterValue`` (snake_case keys)."""
    best: tuple[int, int | None] | None = None
    signed: list[str] = []
    for mv in meter_value:
        ts = parse_time(mv.get("timestamp"))
        for sv in mv.get("sampled_value", ()):
            value = sv.get("value")
            if sv.get("format") == "SignedData":  # vendors carry OCMF records this way in 1.6
                if isinstance(value, str) and value.startswith("OCMF|"):
                    signed.append(value)
                continue
            if not _is_total_register(sv):
                continue
            wh = _to_wh(value, sv.get("unit", "Wh"))
            if wh is not None and (best is None or (ts or 0) >= (best[1] or 0)):
                best = (wh, ts)
    if best is None:
        return Reading(None, None, tuple(signed))
    return Reading(best[0], best[1], tuple(signed))


def read_register_201(meter_value: Iterable[Mapping[str, Any]] | None) -> Reading:
    """Newest and oldest total import register and any OCMF signed values from 2.0.1
    ``meterValue`` (an Ended event may carry the Transaction.Begin sample and the end one)."""
    best: tuple[int, int | None] | None = None
    first: tuple[int, int | None] | None = None
    samples = 0
    signed: list[str] = []
    for mv in meter_value or ():
        ts = parse_time(mv.get("timestamp"))
        for sv in mv.get("sampled_value", ()):
            if not _is_total_register(sv):
                continue
            uom = sv.get("unit_of_measure") or {}
            wh = _to_wh(sv.get("value"), uom.get("unit", "Wh"), int(uom.get("multiplier", 0)))
            if wh is not None:
                samples += 1
                if best is None or (ts or 0) >= (best[1] or 0):
                    best = (wh, ts)
                if first is None or (ts or 0) < (first[1] or 0):
                    first = (wh, ts)
            smv = sv.get("signed_meter_value")
            if smv and isinstance(smv.get("signed_meter_data"), str):
                signed.append(smv["signed_meter_data"])
    if best is None or first is None:
        return Reading(None, None, tuple(signed))
    return Reading(best[0], best[1], tuple(signed), first[0], samples)


def session_cost(energy_wh: int, tariff_per_kwh: int) -> int:
    """``energy_wh * tariff // 1000``: the settlement contract's rounding (floor)."""
    return int(rules_cost(energy_wh, tariff_per_kwh))


def max_energy_for(reserved: int, tariff_per_kwh: int) -> int:
    """The most energy whose cost stays within ``reserved``: cost(e) <= reserved."""
    return ((reserved + 1) * 1000 - 1) // tariff_per_kwh


def session_energy(meter_start_wh: int | None, meter_end_wh: int | None) -> int:
    """Register difference; 0 when unknown or when the register went backwards."""
    if meter_start_wh is None or meter_end_wh is None or meter_end_wh < meter_start_wh:
        return 0
    return meter_end_wh - meter_start_wh


def unbillable_reason(meter_start_wh: int | None, meter_end_wh: int | None) -> str | None:
    """Why a session's energy cannot be billed from its registers, or None if it can.

    A session is never billed from a missing value as if it were zero: no register at the start
    or at the end, or a register that went backwards (a meter replaced mid-session or rolling
    over), makes the receipt unbillable; it is kept locally with this reason, not forwarded."""
    if meter_start_wh is None and meter_end_wh is None:
        return "no energy register reported in any event of the transaction"
    if meter_start_wh is None or meter_end_wh is None:
        return "only one energy register reading: no start and end to take the difference of"
    if meter_end_wh < meter_start_wh:
        return (f"energy register went backwards ({meter_start_wh} -> {meter_end_wh} Wh: "
                "meter replaced or rolled over)")
    return None
