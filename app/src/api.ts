// The read API served by `wattnet app` (src/wattnet/api/server.py).
import type { Address, Hex } from "viem";
import type { WalletConnectConfig } from "./wcconfig";

export interface Credit {
  id: number;
  token: Address;
  symbol: string;
  decimals: number;
}

export interface TypedDomain {
  name: string;
  version: string;
  chainId: number;
  verifyingContract: Address;
}

export interface Tiles {
  url: string; // {z}/{x}/{y} template (`wattnet app --tile-url`)
  attribution: string;
}

export interface AppConfig {
  chain_id: number;
  network: string;
  contracts: Record<string, Address>;
  credits: Credit[];
  receipt_domain: TypedDomain; // stations sign receipts under it
  test_tokens?: Address[]; // mock stablecoins with an open mint (local dev/demo networks)
  charge?: { domain: TypedDomain; stations: Hex[] }; // remote starts relayed to gateways
  tiles?: Tiles; // map tiles; none: the bundled outline
  walletconnect?: WalletConnectConfig; // `wattnet app --walletconnect-project-id`
}

/** One receipt as the station signed it, and the meter's signed OCMF records (one a line). */
export interface Receipt {
  stationId: Hex;
  sessionId: string;
  connectorId: number;
  driver: Address;
  creditId: string;
  energyWh: number;
  startTime: number;
  endTime: number;
  cost: string;
  referrer: Address;
  readings: Hex;
  signature: Hex;
  meterData: string | null;
  status: string;
  txHash: Hex | null;
}

export interface Station {
  id: Hex;
  operator: Address;
  signer: Address;
  rated_power_w: number;
  connectors: number;
  active: boolean;
  certified: boolean;
  usable: boolean;
  geohash: string;
  metadata_uri: string;
  tariffs: Record<string, number>; // credit id -> smallest units of the credit per kWh
}

export interface NetworkFigures {
  block: number;
  stations: number;
  stations_active: number;
  rated_power_w: number;
  sessions_settled?: number; // from the event index, else the oracle store, when the server has one
  energy_settled_wh?: number;
  credits: { id: number; symbol: string; decimals: number; outstanding: string; owed: string; pending_redemptions: string }[];
}

export interface Session {
  station_id: Hex;
  session_id: number;
  connector_id: number;
  credit_id: number;
  energy_wh: number;
  start_time: number;
  end_time: number;
  cost: string; // smallest credit units
  status: string;
  reason: string | null;
  tx_hash: Hex | null;
  block: number | null;
  has_readings: boolean;
}

export class NoSessionStore extends Error {}

export async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await res.json().catch(() => ({ error: `${path}: HTTP ${res.status}` }));
  if (res.status === 501) throw new NoSessionStore((body as { error?: string }).error ?? "no session store");
  if (!res.ok) throw new Error((body as { error?: string }).error ?? `${path}: HTTP ${res.status}`);
  return body as T;
}

export const fetchConfig = () => getJson<AppConfig>("api/config");
export const fetchStations = () => getJson<Station[]>("api/stations");
export const fetchNetwork = () => getJson<NetworkFigures>("api/network");
export const fetchSessions = (driver: Address) => getJson<Session[]>(`api/sessions/${driver}`);
export const fetchReceipt = (station: Hex, session: number) => getJson<Receipt>(`api/receipts/${station}/${session}`);

/** Hand a signed ChargeRequest to the server, which relays it to the station's gateway. */
export async function postCharge(body: unknown): Promise<string> {
  const res = await fetch("api/charge", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const answer = (await res.json().catch(() => ({}))) as { status?: string; error?: string };
  if (!res.ok) throw new Error(`The station refused to start: ${answer.error ?? `HTTP ${res.status}`}`);
  return answer.status ?? "Accepted";
}

/** POST a JSON body; the answer's JSON, or its `error` as the message. */
export async function postJson<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const answer = (await res.json().catch(() => ({ error: `${path}: HTTP ${res.status}` }))) as { error?: string };
  if (!res.ok) throw new Error(answer.error ?? `${path}: HTTP ${res.status}`);
  return answer as T;
}
