"""What settling one receipt does with its money (``SessionSettlement._checkSession``,
``_splitPayment``, ``_flushRun``).

A receipt's cost is ``energy_wh * tariff // 1000`` (the tariff in credit units per kWh, the one in
force at the session's start). The operator gets ``cost * operator_bps // 10000``; the referrer,
if the receipt names one that counts, ``cost * referrer_bps // 10000``; the treasury the rest, so
the three sum to the cost exactly and every rounding remainder is the treasury's. A referrer
counts only if it is the driver's own choice (``EnergyCredits.referrerOf(driver)``) and not the
station's operator: a receipt naming anyone else, or nobody, pays that share to the treasury.

The treasury's own share, ``cost - operator part - cost * referrer_bps // 10000`` whether or not
a referrer is paid, is the station's retained fee, which bounds its WATT reward: a referrer share
that went to the treasury lifts no station's bound (else a station would gain by dropping its
drivers' referrers). Recorded in USD wei as ``units * 1e16 // capUnit``, ``capUnit =
10**(decimals - 2)`` (1 below 3 decimals). Settlement accumulates it over a run of consecutive
receipts of one station and credit id before converting, so the record is exact whenever
``capUnit`` divides ``1e16`` (decimals 2..18).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wattnet.econ.units import BPS

ZERO_ADDRESS = "0x" + "00" * 20


def session_cost(energy_wh: Any, tariff_per_kwh: Any) -> Any:
    """The cost a receipt must state (``CostMismatch`` otherwise): floor, in credit units."""
    return energy_wh * tariff_per_kwh // 1000


@dataclass(frozen=True, slots=True)
class Split:
    """One payment's three parts (ints, or arrays of them); they sum to the cost exactly.
    ``retained``: the treasury's own share, the station's fee record (referrer paid or not)."""

    operator: Any
    referrer: Any
    treasury: Any
    retained: Any


def split_payment(cost: Any, operator_bps: int, referrer_bps: int, referred: Any) -> Split:
    """``_splitPayment``: ``referred`` (a bool, or an array of them) says whether the receipt's
    referrer counts (see :func:`referrer_counts`)."""
    to_operator = cost * operator_bps // BPS
    part = cost * referrer_bps // BPS
    if referred is True:
        to_referrer = part
    elif referred is False:
        to_referrer = cost * 0  # 0, or zeros shaped like the cost
    else:
        to_referrer = part * referred
    return Split(to_operator, to_referrer, cost - to_operator - to_referrer,
                 cost - to_operator - part)


def referrer_counts(referrer: str, chosen_by_driver: str, station_operator: str) -> bool:
    """Whether a receipt's referrer is paid (``_settleOne``): named, the driver's own choice and
    not the station's operator. Addresses compare case-insensitively."""
    r = referrer.lower()
    return (r != ZERO_ADDRESS and r == chosen_by_driver.lower()
            and r != station_operator.lower())


def cap_unit(decimals: int) -> int:
    """``EnergyCredits.listCredit``: mandates count in units of ``10**(decimals - 2)``."""
    return 10 ** (decimals - 2) if decimals > 2 else 1


def retained_fees_usd(treasury_units: Any, unit: int) -> Any:
    """A run's treasury share as the station's fee record, in USD wei (``_flushRun``);
    ``unit`` is the credit's cap unit (:func:`cap_unit`, ``EnergyCredits.capUnitOf``)."""
    return treasury_units * 10**16 // unit
