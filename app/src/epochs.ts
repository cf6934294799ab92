// Network figures per weekly epoch and an operator's earnings (read API: the event index), as
// series for the charts and rows for the tables, and the bar geometry of a chart (plain SVG:
// no chart library; every chart is paired with a table of the same numbers).
import type { Credit } from "./api";
import { formatUnits } from "./format";

export interface EpochFees { cost: string; to_operator: string; to_referrer: string; to_treasury: string }
export interface Epoch {
  epoch: number;
  sessions: number;
  energy_wh: number;
  undecoded_batches: number;
  fees: Record<string, EpochFees>;
  watt_claimed: string;
  watt_emission: string;
}
export interface Epochs { current_epoch: number; indexed_block: number; epochs: Epoch[] }
export interface EarningsRow { station_id: string; epoch: number; credit_id: number; sessions: number; energy_wh: number; earned: string }
export interface Earnings { operator: string; rows: EarningsRow[]; earned: Record<string, string>; withdrawn: Record<string, string>; indexed_block: number }

const WATT_DECIMALS = 18;
const ZERO_FEES: EpochFees = { cost: "0", to_operator: "0", to_referrer: "0", to_treasury: "0" };

export interface Series { title: string; unit: string; values: number[]; labels: string[]; text: string[] }

/** Whole units of `amount` (smallest units) as a float, for a chart's bar height only. */
export function unitsFloat(amount: bigint, decimals: number): number {
  return Number(amount) / 10 ** decimals;
}

export function feesOf(e: Epoch, credit: Credit): EpochFees {
  return e.fees[String(credit.id)] ?? ZERO_FEES;
}

/** The four charted series (energy, sessions, fees in the credit, WATT emission), oldest first. */
export function epochSeries(data: Epochs, credit: Credit): Series[] {
  const labels = data.epochs.map((e) => `epoch ${e.epoch}`);
  const fees = data.epochs.map((e) => BigInt(feesOf(e, credit).cost));
  const watt = data.epochs.map((e) => BigInt(e.watt_emission));
  return [
    { title: "Energy settled", unit: "kWh", labels, values: data.epochs.map((e) => e.energy_wh / 1000),
      text: data.epochs.map((e) => `${(e.energy_wh / 1000).toFixed(1)} kWh`) },
    { title: "Sessions settled", unit: "sessions", labels, values: data.epochs.map((e) => e.sessions),
      text: data.epochs.map((e) => String(e.sessions)) },
    { title: `Fees paid (${credit.symbol})`, unit: credit.symbol, labels, values: fees.map((f) => unitsFloat(f, credit.decimals)),
      text: fees.map((f) => `${formatUnits(f, credit.decimals)} ${credit.symbol}`) },
    { title: "WATT emission scheduled", unit: "WATT", labels, values: watt.map((w) => unitsFloat(w, WATT_DECIMALS)),
      text: watt.map((w) => `${formatUnits(w, WATT_DECIMALS, 0)} WATT`) },
  ];
}

export interface Bar { x: number; y: number; width: number; height: number }

/** Bars for `values` in a `width` x `height` box (baseline at the bottom, the largest value
 * fills the height; all zeros: flat bars of height 0). */
export function bars(values: number[], width: number, height: number, gap = 2): Bar[] {
  const max = Math.max(0, ...values);
  const slot = values.length ? width / values.length : 0;
  return values.map((v, i) => {
    const h = max > 0 ? (Math.max(0, v) / max) * height : 0;
    return { x: i * slot + gap / 2, y: height - h, width: Math.max(1, slot - gap), height: h };
  });
}

/** "This epoch" in words: the current epoch's figures, fees split by payee. */
export function thisEpoch(data: Epochs, credit: Credit): [string, string][] {
  const e = data.epochs.find((x) => x.epoch === data.current_epoch);
  if (!e) return [];
  const f = feesOf(e, credit);
  const money = (v: string) => `${formatUnits(BigInt(v), credit.decimals)} ${credit.symbol}`;
  return [
    [`Epoch ${e.epoch}: energy`, `${(e.energy_wh / 1000).toFixed(1)} kWh`],
    ["Sessions settled", String(e.sessions)],
    ["Fees paid", money(f.cost)],
    ["to operators", money(f.to_operator)],
    ["to referrers", money(f.to_referrer)],
    ["to the treasury", money(f.to_treasury)],
    ["WATT emission", `${formatUnits(BigInt(e.watt_emission), WATT_DECIMALS, 0)} WATT`],
    ["WATT claimed", `${formatUnits(BigInt(e.watt_claimed), WATT_DECIMALS, 2)} WATT`],
  ];
}

/** What the figures leave out: batches sent through a contract the index cannot read (a Safe,
 * a forwarder) count their sessions but not their energy and fees. Empty when there is none. */
export function undecodedNote(data: Epochs): string {
  const hit = data.epochs.filter((e) => e.undecoded_batches > 0);
  if (!hit.length) return "";
  const n = hit.reduce((a, e) => a + e.undecoded_batches, 0);
  return `${n} settlement batch${n === 1 ? " was" : "es were"} sent through a contract the index cannot read `
    + `(epoch ${hit.map((e) => e.epoch).join(", ")}): their sessions are counted, their energy and fees are not in these figures.`;
}

/** An earnings row's cells: station, epoch, sessions, energy, earned (in its credit). */
export function earningsCells(row: EarningsRow, credits: Credit[], name: (id: string) => string): string[] {
  const c = credits.find((x) => x.id === row.credit_id);
  const earned = c ? `${formatUnits(BigInt(row.earned), c.decimals)} ${c.symbol}` : `${row.earned} (credit ${row.credit_id})`;
  return [name(row.station_id), String(row.epoch), String(row.sessions), `${(row.energy_wh / 1000).toFixed(1)} kWh`, earned];
}
