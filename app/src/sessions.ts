// The connected driver's sessions, from the oracle's store through the read API.
import type { Address } from "viem";
import { fetchSessions, NoSessionStore, type AppConfig, type Session, type Station } from "./api";
import { formatUnits, shortAddress } from "./format";

export function energyKwh(wh: number): string {
  return `${(wh / 1000).toFixed(wh % 1000 === 0 ? 0 : 2)} kWh`;
}

/** How a session's state reads to a driver (the oracle's statuses: wattnet.oracle.schema.Status). */
export function statusText(s: Pick<Session, "status" | "reason">): string {
  switch (s.status) {
    case "settled":
      return "settled";
    case "pending":
    case "batched":
    case "submitted":
    case "confirming":
      return "waiting for settlement";
    case "quarantined":
      return s.reason ? `held back: ${s.reason}` : "held back";
    case "rejected_onchain":
      return s.reason ? `refused on chain: ${s.reason}` : "refused on chain";
    default:
      return s.status;
  }
}

/** Where a session settled: its tx when the oracle node that serves the list relayed it; an
 * oracle committee's other nodes only see it settled on chain (isSettled) by some block. */
export function settlementText(s: Pick<Session, "status" | "tx_hash" | "block">, short = true): string {
  if (s.tx_hash) return `${short ? shortAddress(s.tx_hash) : s.tx_hash} (block ${s.block})`;
  if (s.status === "settled" && s.block !== null) return `seen on chain by block ${s.block}`;
  return "—";
}

export async function renderSessions(
  driver: Address, config: AppConfig, stations: Station[], onVerify?: (s: Session) => void,
): Promise<Session[]> {
  const section = document.getElementById("sessions-section")!;
  const note = document.getElementById("sessions-note")!;
  const body = document.querySelector("#sessions tbody")!;
  section.hidden = false;
  let sessions: Session[];
  try {
    sessions = await fetchSessions(driver);
  } catch (err) {
    note.textContent = err instanceof NoSessionStore ? "Session history is not served here (the server has no oracle store)." : String(err);
    body.replaceChildren();
    return [];
  }
  note.textContent = sessions.length ? "" : "No sessions yet.";
  const names = new Map(stations.map((s) => [s.id.toLowerCase(), s.metadata_uri.split("/").pop() || s.id]));
  body.replaceChildren(
    ...sessions.map((s) => {
      const credit = config.credits.find((c) => c.id === s.credit_id);
      const tr = document.createElement("tr");
      tr.dataset.session = String(s.session_id);
      for (const text of [
        names.get(s.station_id.toLowerCase()) ?? shortAddress(s.station_id),
        new Date(s.end_time * 1000).toISOString().replace("T", " ").slice(0, 16) + " UTC",
        energyKwh(s.energy_wh),
        credit ? `${formatUnits(BigInt(s.cost), credit.decimals, 4)} ${credit.symbol}` : s.cost,
        statusText(s),
        settlementText(s),
      ]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      const td = document.createElement("td");
      if (onVerify) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "verify";
        button.textContent = "Verify";
        button.setAttribute("aria-label", `Verify session ${s.session_id}`);
        button.addEventListener("click", () => onVerify(s));
        td.append(button);
      }
      tr.append(td);
      return tr;
    }),
  );
  return sessions;
}
