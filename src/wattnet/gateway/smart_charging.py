"""Smart-charging limits: an operator's schedule (from the gateway config, or given per call)
as the charging profile each OCPP version's SetChargingProfile carries.

A schedule is a list of ``(start_s, limit)`` periods in W or A. ``daily: true`` makes it a
recurring daily profile starting at 00:00 UTC (``start_s`` is then the time of day); otherwise
it is relative to the start of each session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wattnet.gateway.errors import ScheduleError

DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class ChargingSchedule:
    unit: str  # "W" or "A"
    periods: tuple[tuple[int, float], ...]  # (start in s, limit), starts ascending from 0
    daily: bool = False

    def __post_init__(self) -> None:
        if self.unit not in ("W", "A"):
            raise ScheduleError(f"schedule unit must be W or A, got {self.unit!r}")
        if not self.periods or self.periods[0][0] != 0:
            raise ScheduleError("a schedule needs periods, the first starting at 0")
        starts = [s for s, _ in self.periods]
        if starts != sorted(set(starts)) or (self.daily and starts[-1] >= DAY_S):
            raise ScheduleError("period starts must be distinct, ascending (within a day if daily)")
        if any(limit < 0 for _, limit in self.periods):
            raise ScheduleError("a period's limit must be >= 0")

    def _kind(self) -> dict[str, Any]:
        if not self.daily:
            return {"chargingProfileKind": "Relative"}
        return {"chargingProfileKind": "Recurring", "recurrencyKind": "Daily"}

    def _body(self, now: float) -> dict[str, Any]:
        body: dict[str, Any] = {
            "chargingRateUnit": self.unit,
            "chargingSchedulePeriod": [{"startPeriod": s, "limit": lim}
                                       for s, lim in self.periods]}
        if self.daily:  # recurring from today's 00:00 UTC
            midnight = datetime.fromtimestamp(now - now % DAY_S, UTC)
            body["startSchedule"] = midnight.strftime("%Y-%m-%dT%H:%M:%SZ")
        return body

    def profile_16(self, profile_id: int, stack_level: int, purpose: str,
                   now: float) -> dict[str, Any]:
        return {"chargingProfileId": profile_id, "stackLevel": stack_level,
                "chargingProfilePurpose": purpose, **self._kind(),
                "chargingSchedule": self._body(now)}

    def profile_201(self, profile_id: int, stack_level: int, purpose: str,
                    now: float) -> dict[str, Any]:
        return {"id": profile_id, "stackLevel": stack_level, "chargingProfilePurpose": purpose,
                **self._kind(), "chargingSchedule": [{"id": profile_id, **self._body(now)}]}


def schedule_from_dict(raw: Mapping[str, Any]) -> ChargingSchedule:
    """``{"unit": "W", "periods": [[0, 11000], [3600, 7400]], "daily": false}``."""
    try:
        periods = tuple((int(p[0]), float(p[1])) for p in raw["periods"])
        daily = raw.get("daily", False)
        if not isinstance(daily, bool):
            raise ScheduleError(f"daily must be true or false, got {daily!r}")
        return ChargingSchedule(str(raw.get("unit", "W")), periods, daily)
    except ScheduleError:
        raise
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ScheduleError(
            f"a schedule is {{unit: W|A, periods: [[start_s, limit], ...], daily: bool}} ({exc!r})"
        ) from exc
