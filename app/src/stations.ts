// Station list filtering and sorting (pure: unit-tested).
import type { Station } from "./api";

export interface StationFilter {
  minPowerW: number; // 0: any
  maxTariff: bigint | null; // smallest credit units per kWh for `creditId`; null: any
  creditId: number;
  onlyUsable: boolean;
}

export function tariffOf(station: Station, creditId: number): bigint | null {
  const t = station.tariffs[String(creditId)];
  return t === undefined ? null : BigInt(t);
}

/** Stations passing `f`, cheapest first (those without a tariff for the credit last). */
export function filterStations(stations: Station[], f: StationFilter): Station[] {
  const kept = stations.filter((s) => {
    if (s.rated_power_w < f.minPowerW) return false;
    if (f.onlyUsable && !s.usable) return false;
    const t = tariffOf(s, f.creditId);
    if (f.maxTariff !== null && (t === null || t > f.maxTariff)) return false;
    return true;
  });
  return kept.sort((a, b) => {
    const ta = tariffOf(a, f.creditId);
    const tb = tariffOf(b, f.creditId);
    if (ta === tb) return b.rated_power_w - a.rated_power_w;
    if (ta === null) return 1;
    if (tb === null) return -1;
    return ta < tb ? -1 : 1;
  });
}
