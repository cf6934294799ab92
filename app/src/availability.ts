// Each connector's live status as the site gateways report it (GET /api/availability, polled
// by the server from the gateways' admin APIs, as OCPI's EVSE status is): shown beside the
// registry's state in the stations list, refreshed every few seconds while gateways report.
import { getJson } from "./api";

export interface Availability { gateways: number; stations: Record<string, string[]> }

export const fetchAvailability = () => getJson<Availability>("api/availability");

const WORDS: Record<string, string> = { OUTOFORDER: "out of order", INOPERATIVE: "not in service" };

/** "connector 1 available, 2 charging" ("unknown" where no gateway reported); "" when the
 * server polls no gateway (the registry's state is all there is). */
export function connectorsText(a: Availability | null, station: string): string {
  if (!a || a.gateways === 0) return "";
  const list = a.stations[station.toLowerCase()] ?? a.stations[station] ?? [];
  if (list.length === 0) return "connectors unknown";
  const words = list.map((s, i) => `${i + 1} ${WORDS[s] ?? s.toLowerCase()}`);
  return `${list.length === 1 ? "connector" : "connectors"} ${words.join(", ")}`;
}

/** Poll every `everyMs` while gateways report; `onChange` after each answer that differs. */
export function followAvailability(onChange: (a: Availability) => void, everyMs = 3000): void {
  let last = "";
  const tick = async () => {
    try {
      const a = await fetchAvailability();
      const text = JSON.stringify(a);
      if (text !== last) {
        last = text;
        onChange(a);
      }
      if (a.gateways === 0) return; // nothing live to follow
    } catch {
      // a failed poll is retried at the next tick
    }
    setTimeout(() => void tick(), everyMs);
  };
  void tick();
}
