// The "Charge" section and the sessions' "Verify" action: start a session on a station the
// server can reach, follow it until it settles, check a receipt's signatures in the browser.
import type { Address } from "viem";
import { fetchReceipt, fetchSessions, type AppConfig, type Credit, type Session, type Station } from "./api";
import { allowStation, EVERY_STATION, requestCharge } from "./charge";
import { parseAmount, shortAddress } from "./format";
import { settlementText, statusText } from "./sessions";
import { verifySession } from "./verify";
import type { Wallet } from "./wallet";

export interface Page {
  wallet(): Wallet | null;
  config(): AppConfig | null;
  stations(): Station[];
  credit(): Credit;
  status(text: string): void;
  error(err: unknown): void;
  refresh(): Promise<void>; // balances, figures and the session list
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const POLL_MS = 1000;
const FOLLOW_MS = 180_000;

export function stationName(s: Station): string {
  return s.metadata_uri.split("/").pop() || shortAddress(s.id);
}

/** Stations the server relays remote starts to, usable on chain. */
export function startable(config: AppConfig, stations: Station[]): Station[] {
  const ids = new Set((config.charge?.stations ?? []).map((id) => id.toLowerCase()));
  return stations.filter((s) => s.usable && ids.has(s.id.toLowerCase()));
}

export function showCharge(page: Page): void {
  const config = page.config();
  const list = config ? startable(config, page.stations()) : [];
  $("charge-section").hidden = !list.length;
  $("charge-station").replaceChildren(...list.map((s) => {
    const o = document.createElement("option");
    o.value = s.id;
    o.textContent = stationName(s);
    return o;
  }));
}

async function follow(page: Page, driver: Address, station: Station, known: Set<string>): Promise<Session> {
  const deadline = Date.now() + FOLLOW_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    let sessions: Session[];
    try {
      sessions = await fetchSessions(driver);
    } catch {
      continue; // a busy store or a restarting server: the next poll may answer
    }
    const mine = sessions.find(
      (s) => s.station_id.toLowerCase() === station.id.toLowerCase() && !known.has(`${s.session_id}`));
    if (mine) {
      page.status(`Session ${mine.session_id} at ${stationName(station)}: ${statusText(mine)}.`);
      if (mine.status === "settled" || mine.status === "rejected_onchain" || mine.status === "quarantined") return mine;
    }
  }
  throw new Error("The session did not settle within 3 minutes; it stays in your list and may settle later.");
}

export async function onCharge(page: Page, event: Event): Promise<void> {
  event.preventDefault();
  const w = page.wallet();
  const config = page.config();
  if (!w || !config) return;
  page.error(null);
  const button = $<HTMLButtonElement>("charge-button");
  button.disabled = true;
  try {
    const credit = page.credit();
    const station = page.stations().find((s) => s.id === $<HTMLSelectElement>("charge-station").value);
    if (!station) throw new Error("Pick a station.");
    const maxCost = parseAmount($<HTMLInputElement>("charge-max").value, credit.decimals);
    const scope = $<HTMLInputElement>("charge-any").checked ? EVERY_STATION : station.operator;
    await allowStation(w, config.contracts.EnergyCredits!, credit, scope, maxCost, maxCost * 5n,
      (what) => page.status(`${what}: confirm in your wallet…`));
    const known = new Set((await fetchSessions(w.account)).filter((s) => s.station_id.toLowerCase() === station.id.toLowerCase())
      .map((s) => `${s.session_id}`));
    page.status("Sign the charge request in your wallet…");
    const answer = await requestCharge(w, config, station, 1, credit, maxCost);
    page.status(`The charger at ${stationName(station)} answered ${answer}: charging…`);
    const done = await follow(page, w.account, station, known);
    await page.refresh();
    const where = settlementText(done, false);
    page.status(`Session ${done.session_id} at ${stationName(station)}: ${statusText(done)}${where === "—" ? "" : `, ${where}`}.`);
  } catch (err) {
    page.status("");
    page.error(err);
  } finally {
    button.disabled = false;
  }
}

export async function onVerify(page: Page, s: Session): Promise<void> {
  const w = page.wallet();
  const config = page.config();
  if (!w || !config) return;
  const out = $("verify-result");
  out.className = "";
  out.textContent = `Checking session ${s.session_id}…`;
  try {
    const receipt = await fetchReceipt(s.station_id, s.session_id);
    const verdict = await verifySession(w, config, receipt);
    out.className = verdict.ok ? "verified" : "error";
    out.replaceChildren(...[`Session ${s.session_id}: ${verdict.ok ? "verified" : "VERIFICATION FAILED"}.`, ...verdict.lines].map((t) => {
      const p = document.createElement("p");
      p.textContent = t;
      return p;
    }));
  } catch (err) {
    out.className = "error";
    out.textContent = `Session ${s.session_id} could not be checked: ${err instanceof Error ? err.message : String(err)}`;
  }
}
