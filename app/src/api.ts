// The read API served by `wattnet app` (src/wattnet/api/server.py).
import type { Address, Hex } from "viem";

export interface Credit {
  id: number;
  token: Address;
  symbol: string;
  decimals: number;
}

export interface AppConfig {
  chain_id: number;
  network: string;
  contracts: Record<string, Address>;
  credits: Credit[];
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
  credits: { id: number; symbol: string; decimals: number; outstanding: string; owed: string; pending_redemptions: string }[];
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await res.json().catch(() => ({ error: `${path}: HTTP ${res.status}` }));
  if (!res.ok) throw new Error((body as { error?: string }).error ?? `${path}: HTTP ${res.status}`);
  return body as T;
}

export const fetchConfig = () => getJson<AppConfig>("api/config");
export const fetchStations = () => getJson<Station[]>("api/stations");
export const fetchNetwork = () => getJson<NetworkFigures>("api/network");
