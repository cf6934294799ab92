"""Reading helpers: every value checked against its unit and range, errors naming file and key."""


from collections.abc import Mapping
from decimal import Context, Decimal, InvalidOperation, localcontext
from typing import Any

from wattnet.errors import ConfigError
from wattnet.params.values import (
    _DURATION,
    _DURATION_UNITS,
    MAX_DURATION,
    MAX_WATT,
    WATT_DECIMALS,
    WEI_PER_WATT,
)

_EXACT = Context(prec=80)  # WATT amounts have at most 31 significant digits

# ---- reading helpers --------------------------------------------------------------------------


class Reader:
    """Reads one mapping of a params file, rejecting unknown keys with the allowed ones."""

    def __init__(self, source: str, path: str, raw: Any, allowed: tuple[str, ...]) -> None:
        self.source, self.path = source, path
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise self.error(path or "<root>", f"must be a mapping, got {type(raw).__name__}")
        for key in raw:
            if key not in allowed:
                raise self.error(
                    self.key(str(key)), f"is not a known key (allowed: {', '.join(allowed)})"
                )
        self.raw = raw

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def error(self, key: str, what: str) -> ConfigError:
        sep = "" if what.startswith("=") else " "
        return ConfigError(f"{self.source}: {key}{sep}{what}")

    def get(self, name: str, default: Any) -> Any:
        return self.raw.get(name, default)

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        return check_int(self.source, self.key(name), self.get(name, default), lo, hi)

    def duration(self, name: str, default: int, lo: int = 0, hi: int = MAX_DURATION) -> int:
        return check_duration(self.source, self.key(name), self.get(name, default), lo, hi)

    def watt(self, name: str, default: Decimal | int, lo: Decimal = Decimal(0),
             hi: Decimal = MAX_WATT) -> Decimal:
        return check_watt(self.source, self.key(name), self.get(name, default), lo, hi)

    def text(self, name: str, default: str | None) -> str:
        value = self.get(name, default)
        if not isinstance(value, str) or not value.strip():
            raise self.error(self.key(name), f"={value!r} must be a non-empty string")
        return value.strip()


def check_int(source: str, key: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ConfigError(f"{source}: {key}={value!r} must be an integer in {lo}..{hi}"
                              + _hint(value, key))
    if not lo <= value <= hi:
        raise ConfigError(f"{source}: {key}={value} is out of range {lo}..{hi}")
    return int(value)


def _hint(value: Any, key: str) -> str:
    """What to write instead of a number written as text (``"8,200"``, ``"8100"``, ``"82%"``)."""
    if not isinstance(value, str):
        return f" (got {type(value).__name__})"
    text = value.strip().replace(",", "").replace("_", "")
    try:
        number = Decimal(text.removesuffix("%").strip())
    except InvalidOperation:
        return " (got text)"
    if text.endswith("%") and key.endswith("_bps"):
        number *= 100
        if number == number.to_integral_value():
            return (f" (got text; write {int(number)}: shares are basis points, "
                    "10000 = 100 %)")
    if number.is_finite() and number == number.to_integral_value():
        return f" (got text; write {int(number)} without quotes, commas or %)"
    return " (got text)"


def check_float(source: str, key: str, value: Any, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{source}: {key}={value!r} must be a number in {lo:g}..{hi:g}")
    if not lo <= float(value) <= hi:
        raise ConfigError(f"{source}: {key}={value} is out of range {lo:g}..{hi:g}")
    return float(value)


def parse_duration(value: Any) -> int | None:
    """Seconds from an int or a ``"7d"``/``"12h"``/``"30m"``/``"45s"`` string; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            return int(match.group(1)) * _DURATION_UNITS[match.group(2)]
    return None


def check_duration(source: str, key: str, value: Any, lo: int, hi: int) -> int:
    seconds = parse_duration(value)
    if seconds is None:
        raise ConfigError(
            f"{source}: {key}={value!r} must be seconds (integer) or a duration like "
            f'"7d", "12h", "30m", "45s"'
        )
    if not lo <= seconds <= hi:
        raise ConfigError(f"{source}: {key}={value!r} ({seconds} s) is out of range {lo}..{hi} s")
    return seconds


def check_watt(source: str, key: str, value: Any, lo: Decimal = Decimal(0),
               hi: Decimal = MAX_WATT) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ConfigError(f"{source}: {key}={value!r} must be a WATT amount (number)")
    try:
        amount = Decimal(str(value).replace("_", ""))
    except InvalidOperation as exc:
        raise ConfigError(f"{source}: {key}={value!r} must be a WATT amount (number)") from exc
    if not amount.is_finite() or not lo <= amount <= hi:
        raise ConfigError(f"{source}: {key}={value} is out of range {lo}..{hi} WATT")
    # Up to 10**12 WATT with 18 decimals is 31 digits: beyond Decimal's default precision (28),
    # where quantize raises and products round. Every WATT computation runs with room to spare.
    with localcontext(_EXACT):
        if amount != amount.quantize(Decimal(1).scaleb(-WATT_DECIMALS)):
            raise ConfigError(f"{source}: {key}={value} has more than {WATT_DECIMALS} decimals")
        return amount.normalize() if amount != amount.to_integral_value() else Decimal(int(amount))


def to_wei(amount: Decimal) -> int:
    """WATT (whole tokens, up to 18 decimals) to wei, exactly."""
    with localcontext(_EXACT):
        return int(amount * WEI_PER_WATT)
